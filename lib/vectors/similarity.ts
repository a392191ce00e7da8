// Vector arithmetic: normalisation, cosines, and the unit-vector operations of clustering
// (senses live on the sphere, where the dot product is the cosine and squared Euclidean distance
// is 2 - 2 * dot).

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

export function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

/** The mean of `vectors` scaled to unit length (a zero mean stays zero). */
export function unitMean(vectors: readonly Float32Array[], width: number): Float32Array {
  const sum = new Float32Array(width);
  for (const vector of vectors) for (let d = 0; d < width; d++) sum[d]! += vector[d]!;
  return l2Normalize(sum);
}

/** Index of the row of `centroids` with the largest dot product with `vector`. */
export function nearest(vector: Float32Array, centroids: readonly Float32Array[]): number {
  let best = 0;
  let bestScore = -Infinity;
  centroids.forEach((centroid, i) => {
    const score = dot(vector, centroid);
    if (score > bestScore) [best, bestScore] = [i, score];
  });
  return best;
}

/** Cosine distance between every pair of unit vectors, as a flat n x n matrix. */
export function distanceMatrix(points: readonly Float32Array[]): Float64Array {
  const n = points.length;
  const distances = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const distance = 1 - dot(points[i]!, points[j]!);
      distances[i * n + j] = distance;
      distances[j * n + i] = distance;
    }
  }
  return distances;
}
