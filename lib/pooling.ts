// Vector arithmetic on the JavaScript side: normalisation, and pooling that llama.cpp's
// in-graph pooling does not offer, computed from token vectors of the same forward pass.

export const poolingModes = ["mean", "cls", "last", "max", "weighted-mean"] as const;
export type PoolingMode = (typeof poolingModes)[number];

/** Scales `vector` in place to unit Euclidean length (a zero vector stays zero). */
export function l2Normalize(vector: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += vector[i]! * vector[i]!;
  if (sum > 0) {
    const scale = 1 / Math.sqrt(sum);
    for (let i = 0; i < vector.length; i++) vector[i]! *= scale;
  }
  return vector;
}

/** Cosine of two vectors of any numeric typed array (int8 codes too: their scales cancel). */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`cannot compare vectors of ${a.length} and ${b.length} dimensions`);
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    normA += a[i]! * a[i]!;
    normB += b[i]! * b[i]!;
  }
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}

/**
 * Pools rows of a row-major [tokens][width] matrix. "weighted-mean" weights token i (1-based)
 * by i, as SGPT does for causal models, whose later tokens have seen more of the text.
 */
export function poolRows(rows: Float32Array, width: number, mode: PoolingMode): Float32Array {
  const count = rows.length / width;
  if (count === 0) throw new RangeError("cannot pool zero tokens");
  if (mode === "cls") return rows.slice(0, width);
  if (mode === "last") return rows.slice((count - 1) * width, count * width);
  const pooled = new Float32Array(width);
  if (mode === "max") pooled.fill(-Infinity);
  let totalWeight = 0;
  for (let t = 0; t < count; t++) {
    const weight = mode === "weighted-mean" ? t + 1 : 1;
    totalWeight += weight;
    const offset = t * width;
    for (let d = 0; d < width; d++) {
      const value = rows[offset + d]!;
      if (mode === "max") pooled[d] = Math.max(pooled[d]!, value);
      else pooled[d]! += weight * value;
    }
  }
  if (mode !== "max") for (let d = 0; d < width; d++) pooled[d]! /= totalWeight;
  return pooled;
}
