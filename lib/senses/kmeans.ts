// Spherical k-means with k-means++ seeding: points and centroids are unit vectors and a point
// belongs to the centroid with the largest dot product, the rule a new occurrence is later
// assigned by.
import { seededRandom } from "../util/random.js";
import { dot, nearest, unitMean } from "../vectors/similarity.js";

export interface Clustering {
  /** unit-length centre of each cluster */
  centroids: Float32Array[];
  /** cluster index of each point */
  assignments: number[];
}

export interface KMeansOptions {
  seed?: number;
  maxIterations?: number;
}

/** k-means++: each next seed is drawn with probability proportional to its squared distance to the nearest seed so far. */
function seedCentroids(points: readonly Float32Array[], k: number, random: () => number): Float32Array[] {
  const seeds = [points[Math.floor(random() * points.length)]!];
  // On the unit sphere the squared Euclidean distance is 2 - 2 * dot.
  const nearestDistance = points.map((point) => Math.max(0, 2 - 2 * dot(point, seeds[0]!)));
  while (seeds.length < k) {
    const total = nearestDistance.reduce((a, b) => a + b, 0);
    if (total <= 0) break; // fewer distinct points than k
    let target = random() * total;
    let chosen = nearestDistance.findIndex((distance) => (target -= distance) < 0);
    if (chosen < 0) chosen = nearestDistance.findLastIndex((distance) => distance > 0);
    const seed = points[chosen]!;
    seeds.push(seed);
    points.forEach((point, i) => {
      nearestDistance[i] = Math.min(nearestDistance[i]!, Math.max(0, 2 - 2 * dot(point, seed)));
    });
  }
  return seeds.map((seed) => Float32Array.from(seed));
}

/** Clusters unit vectors into at most `k` clusters (fewer when there are fewer distinct points); empty clusters are dropped. */
export function kMeans(points: readonly Float32Array[], k: number, options: KMeansOptions = {}): Clustering {
  if (points.length === 0) throw new RangeError("k-means needs at least one point");
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  const width = points[0]!.length;
  let centroids = seedCentroids(points, Math.min(k, points.length), seededRandom(options.seed ?? 1));
  let assignments = points.map((point) => nearest(point, centroids));
  for (let iteration = 0; iteration < (options.maxIterations ?? 100); iteration++) {
    centroids = centroids.map((centroid, c) => {
      const members = points.filter((_, i) => assignments[i] === c);
      return members.length > 0 ? unitMean(members, width) : centroid;
    });
    const next = points.map((point) => nearest(point, centroids));
    const moved = next.some((cluster, i) => cluster !== assignments[i]);
    assignments = next;
    if (!moved) break;
  }
  return compact({ centroids, assignments });
}

/** Drops clusters no point belongs to and renumbers the rest in order of first appearance. */
export function compact(clustering: Clustering): Clustering {
  const renumber = new Map<number, number>();
  for (const cluster of clustering.assignments) if (!renumber.has(cluster)) renumber.set(cluster, renumber.size);
  const centroids: Float32Array[] = [];
  for (const [old, fresh] of renumber) centroids[fresh] = clustering.centroids[old]!;
  return { centroids, assignments: clustering.assignments.map((cluster) => renumber.get(cluster)!) };
}
