import { describe, expect, it } from "vitest";
import { agglomerative } from "../../../lib/senses/agglomerative.js";
import { kMeans } from "../../../lib/senses/kmeans.js";
import { Reservoir } from "../../../lib/senses/reservoir.js";
import { kMeansBySilhouette, meanSilhouette } from "../../../lib/senses/silhouette.js";
import { distanceMatrix, nearest, l2Normalize } from "../../../lib/vectors/similarity.js";
import { seededRandom, shuffle } from "../../../lib/util/random.js";

/** `clusters` tight groups of unit vectors around random centres, shuffled; truth[i] = group of point i. */
function separatedClusters(clusters: number, perCluster: number, width: number, noise: number, seed: number) {
  const random = seededRandom(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const centres = Array.from({ length: clusters }, () => l2Normalize(Float32Array.from({ length: width }, gaussian)));
  const points = centres.flatMap((centre, c) =>
    Array.from({ length: perCluster + c }, () => ({
      truth: c,
      vector: l2Normalize(centre.map((value) => value + noise * gaussian())),
    })),
  );
  const shuffled = shuffle(points, random);
  return { vectors: shuffled.map((p) => p.vector), truth: shuffled.map((p) => p.truth) };
}

/** The same partition up to renaming: every pair is together in both or apart in both. */
function samePartition(found: readonly number[], truth: readonly number[]): boolean {
  return found.every((a, i) => found.every((b, j) => (a === b) === (truth[i] === truth[j])));
}

describe("clustering recovers separated clusters exactly", () => {
  const { vectors, truth } = separatedClusters(5, 30, 48, 0.03, 7);

  it("k-means++ with the right k", () => {
    const result = kMeans(vectors, 5, { seed: 3 });
    expect(result.centroids).toHaveLength(5);
    expect(samePartition(result.assignments, truth)).toBe(true);
  });

  it("k chosen by silhouette", () => {
    const result = kMeansBySilhouette(vectors, 10, 0.2, { seed: 3 });
    expect(result.centroids).toHaveLength(5);
    expect(samePartition(result.assignments, truth)).toBe(true);
  });

  it("agglomerative with a distance threshold", () => {
    const result = agglomerative(vectors, 0.3);
    expect(samePartition(result.assignments, truth)).toBe(true);
  });

  it("centroids are unit vectors nearest to their own members", () => {
    const { centroids, assignments } = kMeans(vectors, 5, { seed: 3 });
    for (const centroid of centroids) expect(Math.hypot(...centroid)).toBeCloseTo(1, 5);
    expect(vectors.map((vector) => nearest(vector, centroids))).toEqual(assignments);
  });

  it("one tight group keeps one sense under silhouette selection", () => {
    const single = separatedClusters(1, 40, 48, 0.03, 11);
    expect(kMeansBySilhouette(single.vectors, 6, 0.2, { seed: 1 }).centroids).toHaveLength(1);
  });

  it("k larger than the distinct points yields only the distinct clusters", () => {
    const twoPoints = [
      l2Normalize(Float32Array.of(1, 0)),
      l2Normalize(Float32Array.of(0, 1)),
      l2Normalize(Float32Array.of(1, 0)),
    ];
    const result = kMeans(twoPoints, 20);
    expect(result.centroids).toHaveLength(2);
    expect(samePartition(result.assignments, [0, 1, 0])).toBe(true);
  });
});

describe("meanSilhouette", () => {
  it("matches the definition on a small hand-checkable case", () => {
    // Points on a line embedded as unit vectors at angles; compare with a direct O(n^2) computation.
    const points = [0, 0.1, 0.2, 1.4, 1.5].map((angle) => Float32Array.of(Math.cos(angle), Math.sin(angle)));
    const labels = [0, 0, 0, 1, 1];
    const d = (i: number, j: number) => 1 - (points[i]![0]! * points[j]![0]! + points[i]![1]! * points[j]![1]!);
    const direct =
      labels
        .map((own, i) => {
          const mean = (cluster: number) => {
            const others = labels
              .map((l, j) => (l === cluster && j !== i ? d(i, j) : NaN))
              .filter((x) => !Number.isNaN(x));
            return others.reduce((a, b) => a + b, 0) / others.length;
          };
          const a = mean(own);
          const b = mean(1 - own);
          return (b - a) / Math.max(a, b);
        })
        .reduce((a, b) => a + b, 0) / labels.length;
    expect(meanSilhouette(distanceMatrix(points), labels)).toBeCloseTo(direct, 6);
  });
});

describe("Reservoir", () => {
  it("keeps at most its capacity and samples every position about equally often", () => {
    const random = seededRandom(5);
    const hits = new Array<number>(100).fill(0);
    const trials = 2000;
    for (let t = 0; t < trials; t++) {
      const reservoir = new Reservoir<number>(10, random);
      for (let i = 0; i < 100; i++) reservoir.offer(() => i);
      expect(reservoir.items).toHaveLength(10);
      expect(reservoir.seen).toBe(100);
      for (const item of reservoir.items) hits[item]!++;
    }
    // Each position is kept with probability 10/100: expected 200 of 2000, binomial sd ~13.4.
    for (const count of hits) expect(Math.abs(count - 200)).toBeLessThan(6 * 13.4);
  });

  it("builds an item only when it keeps it", () => {
    const reservoir = new Reservoir<number>(2, seededRandom(1));
    let built = 0;
    for (let i = 0; i < 1000; i++) reservoir.offer(() => ++built);
    expect(built).toBeLessThan(100);
  });
});
