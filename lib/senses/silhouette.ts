// Choosing the number of senses per word: the k whose clustering has the best mean silhouette
// (cosine distance), with one sense kept unless splitting is clearly better.
import { kMeans, type Clustering, type KMeansOptions } from "./kmeans.js";
import { distanceMatrix } from "../vectors/similarity.js";

/** Mean silhouette of a clustering, from a precomputed n x n distance matrix (0 for a single cluster). */
export function meanSilhouette(distances: Float64Array, assignments: readonly number[]): number {
  const n = assignments.length;
  const clusters = Math.max(...assignments) + 1;
  if (clusters < 2) return 0;
  const sizes = new Array<number>(clusters).fill(0);
  for (const cluster of assignments) sizes[cluster]!++;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const own = assignments[i]!;
    if (sizes[own]! < 2) continue; // a singleton's silhouette is 0 by convention
    const sums = new Array<number>(clusters).fill(0);
    for (let j = 0; j < n; j++) if (j !== i) sums[assignments[j]!]! += distances[i * n + j]!;
    const a = sums[own]! / (sizes[own]! - 1);
    let b = Infinity;
    for (let c = 0; c < clusters; c++) if (c !== own && sizes[c]! > 0) b = Math.min(b, sums[c]! / sizes[c]!);
    total += (b - a) / Math.max(a, b);
  }
  return total / n;
}

export interface KSelection extends Clustering {
  silhouette: number;
}

/**
 * Tries k = 2..maxK and keeps the best mean silhouette; one cluster when no k reaches
 * `minSilhouette` (silhouette cannot score k = 1, so "one sense" needs a bar to clear).
 */
export function kMeansBySilhouette(
  points: readonly Float32Array[],
  maxK: number,
  minSilhouette: number,
  options: KMeansOptions = {},
): KSelection {
  const distances = distanceMatrix(points);
  let best: KSelection = { ...kMeans(points, 1, options), silhouette: minSilhouette };
  for (let k = 2; k <= Math.min(maxK, points.length - 1); k++) {
    const clustering = kMeans(points, k, options);
    const silhouette = meanSilhouette(distances, clustering.assignments);
    if (silhouette > best.silhouette) best = { ...clustering, silhouette };
  }
  return best;
}
