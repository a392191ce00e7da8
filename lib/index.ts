// ctxembed's public API.
export {
  EmbeddingModel,
  loadModel,
  type Embedding,
  type LoadOptions,
  type SpanVector,
  type TokenVector,
} from "./models/embedding-model.js";
export type { EmbedInput, EmbedOptions } from "./models/embed-options.js";
export type { LayerCombination, LayerSpec, ScalarMix } from "./layers.js";
export type { SpanPooling, SpanRequest } from "./tokens/spans.js";
export type { TokenSpan } from "./tokens/offsets.js";
export type { ModelInfo, ModelPooling } from "./models/model-info.js";
export { cosineSimilarity, l2Normalize, poolingModes, type PoolingMode } from "./pooling.js";
export { convertCheckpoint, type ConversionReport, type ConvertOptions, type ConvertType } from "./convert/index.js";
export { readGgufHeader, type GgufHeader, type GgufTensorInfo, type GgufValue } from "./gguf/reader.js";
export {
  cacheDirectory,
  checkpointPath,
  listCatalog,
  modelPath,
  ModelNotPulledError,
  pullModel,
  resolveModel,
  type CatalogEntry,
} from "./models/index.js";
