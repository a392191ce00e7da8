// ctxembed: the everyday API. Load a model, embed texts (sentences, tokens with offsets, spans,
// layers, windows, prompts, precisions), tokenize, compare. The rest is under subpaths:
// ctxembed/hub, /senses, /wordnet, /phrases, /eval, /output, /server, /vector-index (docs/api.md).
export {
  EmbeddingModel,
  loadModel,
  type Embedding,
  type LoadOptions,
  type SpanVector,
  type TokenVector,
} from "./embedding/embedding-model.js";
export type { EmbedInput, EmbedOptions } from "./embedding/embed-options.js";
export type { LayerCombination, LayerSpec, ScalarMix } from "./embedding/layers.js";
export type { ModelInfo, ModelPooling } from "./embedding/model-info.js";
export type { SpanPooling, SpanRequest } from "./tokens/spans.js";
export type { TokenSpan } from "./tokens/offsets.js";
export { cosineSimilarity, l2Normalize } from "./vectors/similarity.js";
export { poolingModes, type PoolingMode } from "./vectors/pooling.js";
export { precisions, type Precision, type QuantizedVector } from "./output/quantize-vectors.js";
export type { PromptOptions } from "./prompts/prompting.js";
export { customPreset, findPreset, promptPresets, type Demonstration, type PromptPreset } from "./prompts/templates.js";
export { DemonstrationSelector } from "./prompts/demonstrations.js";
export { promptEolDemonstrations } from "./prompts/prompteol-demonstrations.js";
