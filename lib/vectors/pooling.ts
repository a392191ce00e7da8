// Pooling that llama.cpp's in-graph pooling does not offer, computed on the JavaScript side from
// token vectors of the same forward pass.

export const poolingModes = ["mean", "cls", "last", "max", "weighted-mean"] as const;
export type PoolingMode = (typeof poolingModes)[number];

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
