// Average-linkage agglomerative clustering on cosine distance: merges the closest pair of
// clusters until none is closer than `threshold`, so the number of senses follows from the data.
import type { Clustering } from "./kmeans.js";
import { compact } from "./kmeans.js";
import { distanceMatrix, unitMean } from "../vectors/similarity.js";

export function agglomerative(points: readonly Float32Array[], threshold: number): Clustering {
  if (points.length === 0) throw new RangeError("agglomerative clustering needs at least one point");
  const n = points.length;
  const distances = distanceMatrix(points);
  const size = new Array<number>(n).fill(1);
  const alive = new Array<boolean>(n).fill(true);
  const owner = Array.from({ length: n }, (_, i) => i);
  for (;;) {
    let [bestI, bestJ, bestDistance] = [-1, -1, Infinity];
    for (let i = 0; i < n; i++) {
      if (!alive[i]) continue;
      for (let j = i + 1; j < n; j++) {
        if (alive[j] && distances[i * n + j]! < bestDistance)
          [bestI, bestJ, bestDistance] = [i, j, distances[i * n + j]!];
      }
    }
    if (bestI < 0 || bestDistance > threshold) break;
    // Lance-Williams update for average linkage: the merged cluster's distance is the size-weighted mean.
    for (let k = 0; k < n; k++) {
      if (!alive[k] || k === bestI || k === bestJ) continue;
      const merged =
        (size[bestI]! * distances[bestI * n + k]! + size[bestJ]! * distances[bestJ * n + k]!) /
        (size[bestI]! + size[bestJ]!);
      distances[bestI * n + k] = merged;
      distances[k * n + bestI] = merged;
    }
    size[bestI]! += size[bestJ]!;
    alive[bestJ] = false;
    for (let p = 0; p < n; p++) if (owner[p] === bestJ) owner[p] = bestI;
  }
  const width = points[0]!.length;
  const centroids = owner.map((_, cluster) =>
    alive[cluster]
      ? unitMean(
          points.filter((__, p) => owner[p] === cluster),
          width,
        )
      : new Float32Array(0),
  );
  return compact({ centroids, assignments: owner });
}
