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
