// ctxembed/output: stored precisions and the files vectors are written to (.npy, raw rows).
export {
  dequantizeInt8,
  hammingSimilarity,
  precisions,
  quantize,
  truncateDimensions,
  type Precision,
  type QuantizedVector,
} from "./quantize-vectors.js";
export { NpyWriter } from "./npy.js";
export { RawWriter } from "./raw.js";
export type { WrittenFile } from "./rows.js";
