// Random unit vectors for index tests and benchmarks: points scattered around random cluster
// centres (a Gaussian mixture), which is how real embeddings sit, unlike uniform vectors,
// whose nearest neighbours are barely nearer than anything else.
import { seededRandom } from "../../lib/util/random.js";

function gaussian(random: () => number): number {
  // Box-Muller; 1 - random() keeps the logarithm finite.
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function unit(vector: Float32Array): Float32Array {
  let norm = 0;
  for (const value of vector) norm += value * value;
  norm = Math.sqrt(norm);
  for (let i = 0; i < vector.length; i++) vector[i]! /= norm;
  return vector;
}

export interface ClusteredVectorOptions {
  count: number;
  dimensions: number;
  seed: number;
  /** cluster centres; default count / 100 */
  clusters?: number;
  /** spread of a point around its centre, per dimension, relative to the centre's length; default 0.5 */
  spread?: number;
}

export function clusteredVectors({
  count,
  dimensions,
  seed,
  clusters = Math.max(1, Math.round(count / 100)),
  spread = 0.5,
}: ClusteredVectorOptions): Float32Array[] {
  const random = seededRandom(seed);
  const centres = Array.from({ length: clusters }, () =>
    unit(Float32Array.from({ length: dimensions }, () => gaussian(random))),
  );
  const scale = spread / Math.sqrt(dimensions);
  return Array.from({ length: count }, () => {
    const centre = centres[Math.floor(random() * clusters)]!;
    return unit(centre.map((value) => value + scale * gaussian(random)));
  });
}
