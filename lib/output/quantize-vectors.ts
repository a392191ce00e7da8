// The smaller forms people store embeddings in: Matryoshka truncation to fewer dimensions, and
// lower precisions (float16, int8 with a per-vector scale, one sign bit per dimension), with the
// inverses and similarities needed to search or evaluate them.
import { float16ToFloat32, float32ToFloat16 } from "../vectors/float16.js";
import { l2Normalize } from "../vectors/similarity.js";
import { float32ToJson } from "./json.js";

export const precisions = ["float32", "float16", "int8", "binary"] as const;
export type Precision = (typeof precisions)[number];

export type QuantizedVector =
  /** the vector itself, not a copy */
  | { precision: "float32"; values: Float32Array }
  /** IEEE 754 half-precision bit patterns */
  | { precision: "float16"; bits: Uint16Array }
  /** dequantized value i is values[i] * scale */
  | { precision: "int8"; values: Int8Array; scale: number }
  /** bit i (most significant first) is 1 where dimension i is positive; `width` dimensions */
  | { precision: "binary"; bits: Uint8Array; width: number };

export type QuantizedAs<P extends Precision> = Extract<QuantizedVector, { precision: P }>;

const INT8_LIMIT = 127;
const FLOAT16_EXPONENT_MASK = 0x7c00;
/** The fewest significant digits that tell every value apart: 1 + ceil(significand bits x log10 2). */
const FLOAT16_SIGNIFICANT_DIGITS = 5;
const FLOAT32_SIGNIFICANT_DIGITS = 9;

/**
 * Matryoshka truncation: the first `dimensions` values, as a copy, scaled back to unit length if
 * `renormalize` (a cosine does not need it, a dot product does).
 */
export function truncateDimensions(vector: Float32Array, dimensions: number, renormalize: boolean): Float32Array {
  if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > vector.length) {
    throw new RangeError(
      `cannot truncate a ${vector.length}-dimensional vector to ${dimensions} dimensions (1 to ${vector.length})`,
    );
  }
  const truncated = vector.slice(0, dimensions);
  return renormalize ? l2Normalize(truncated) : truncated;
}

/** Stores `vector` at `precision`. NaN and infinities are refused: no precision but float32 could keep them. */
export function quantize<P extends Precision>(vector: Float32Array, precision: P): QuantizedAs<P>;
export function quantize(vector: Float32Array, precision: Precision): QuantizedVector {
  requireFinite(vector);
  switch (precision) {
    case "float32":
      return { precision, values: vector };
    case "float16":
      return { precision, bits: toFloat16(vector) };
    case "int8":
      return { precision, ...toInt8(vector) };
    case "binary":
      return { precision, bits: packSignBits(vector), width: vector.length };
  }
}

function requireFinite(vector: Float32Array): void {
  const index = vector.findIndex((value) => !Number.isFinite(value));
  if (index >= 0) throw new RangeError(`cannot quantize a vector holding ${vector[index]} (at index ${index})`);
}

function toFloat16(vector: Float32Array): Uint16Array {
  const bits = new Uint16Array(vector.length);
  float32ToFloat16(new Uint32Array(vector.buffer, vector.byteOffset, vector.length), bits);
  // Only an overflow makes an all-ones exponent here, the input being finite.
  const overflow = bits.findIndex((half) => (half & FLOAT16_EXPONENT_MASK) === FLOAT16_EXPONENT_MASK);
  if (overflow >= 0)
    throw new RangeError(`${vector[overflow]} (at index ${overflow}) is beyond float16's range of ±65504`);
  return bits;
}

/**
 * Symmetric int8: one scale per vector maps the largest magnitude to ±127. The scale is rounded
 * to float32 first, so that the value written to a float32 file dequantizes exactly as here.
 */
function toInt8(vector: Float32Array): { values: Int8Array; scale: number } {
  let largest = 0;
  for (const value of vector) largest = Math.max(largest, Math.abs(value));
  const values = new Int8Array(vector.length);
  if (largest === 0) return { values, scale: 0 };
  const scale = Math.fround(largest / INT8_LIMIT);
  for (let i = 0; i < vector.length; i++) {
    const magnitude = Math.min(INT8_LIMIT, Math.round(Math.abs(vector[i]!) / scale));
    // Rounding the magnitude (halves away from zero) keeps quantize(-v) = -quantize(v).
    values[i] = vector[i]! < 0 ? -magnitude : magnitude;
  }
  return { values, scale };
}

/** numpy's packbits(vector > 0): bitorder "big", the last byte padded with zero bits. */
function packSignBits(vector: Float32Array): Uint8Array {
  const bits = new Uint8Array(Math.ceil(vector.length / 8));
  for (let i = 0; i < vector.length; i++) {
    if (vector[i]! > 0) bits[i >> 3]! |= 0x80 >>> (i & 7);
  }
  return bits;
}

export function dequantizeInt8(quantized: { values: Int8Array; scale: number }): Float32Array {
  return Float32Array.from(quantized.values, (value) => value * quantized.scale);
}

export function float16ToFloat32Array(bits: Uint16Array): Float32Array {
  const values = new Float32Array(bits.length);
  float16ToFloat32(bits, new Uint32Array(values.buffer));
  return values;
}

/**
 * 1 - 2 * hamming / width, which is the cosine of the ±1 vectors the bits stand for: each
 * differing bit turns a +1 product into -1. Padding bits are zero in both, so never differ.
 */
export function hammingSimilarity(a: Uint8Array, b: Uint8Array, width: number): number {
  const bytes = Math.ceil(width / 8);
  if (!Number.isInteger(width) || width < 1 || a.length !== bytes || b.length !== bytes) {
    throw new RangeError(`${width} dimensions pack into ${bytes} bytes; got ${a.length} and ${b.length}`);
  }
  let hamming = 0;
  for (let i = 0; i < bytes; i++) hamming += popcount(a[i]! ^ b[i]!);
  return 1 - (2 * hamming) / width;
}

function popcount(byte: number): number {
  let count = 0;
  for (let rest = byte; rest !== 0; rest &= rest - 1) count++;
  return count;
}

/**
 * The JSON text of the embedding field: float32 and float16 as arrays of numbers (float16's
 * rounded values, in the fewest digits that read back to the same half), int8 as
 * {"values":[...],"scale":s}, binary as base64 of the packed bytes.
 */
export function quantizedToJson(quantized: QuantizedVector): string {
  switch (quantized.precision) {
    case "float32":
      return float32ToJson(quantized.values);
    case "float16":
      return JSON.stringify(
        Array.from(float16ToFloat32Array(quantized.bits), (value) =>
          Number(value.toPrecision(FLOAT16_SIGNIFICANT_DIGITS)),
        ),
      );
    case "int8":
      return JSON.stringify({
        values: Array.from(quantized.values),
        scale: Number(quantized.scale.toPrecision(FLOAT32_SIGNIFICANT_DIGITS)),
      });
    case "binary":
      return JSON.stringify(
        Buffer.from(quantized.bits.buffer, quantized.bits.byteOffset, quantized.bits.byteLength).toString("base64"),
      );
  }
}
