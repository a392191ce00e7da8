// Cross-validation on WiC's train split with folds grouped by lemma: no lemma is both fitted and
// scored in one round, as WiC's evaluation splits mostly hold lemmas that train lacks. Every
// choice (method, layers, thresholds, features, regularisation) is made this way, never on dev.
import { seededRandom } from "../util/random.js";
import { accuracy, fitWicMethod, type WicConfiguration, type WicSplit } from "./wic-methods.js";

/**
 * The fold (0 … k-1) of each pair: the lemmas, in a seeded random order, go largest first to the
 * fold with the fewest pairs so far, which keeps the folds' sizes close.
 */
export function lemmaFolds(words: readonly string[], k: number, seed = 1): number[] {
  const counts = new Map<string, number>();
  for (const word of words) counts.set(word, (counts.get(word) ?? 0) + 1);
  if (!Number.isInteger(k) || k < 2 || k > counts.size)
    throw new RangeError(`folds must be an integer from 2 to the number of lemmas (${counts.size}), got ${k}`);
  const random = seededRandom(seed);
  const order = [...counts.keys()]
    .map((word) => ({ word, key: random() }))
    .sort((a, b) => counts.get(b.word)! - counts.get(a.word)! || a.key - b.key);
  const sizes = new Array<number>(k).fill(0);
  const foldOf = new Map<string, number>();
  for (const { word } of order) {
    const fold = sizes.indexOf(Math.min(...sizes));
    foldOf.set(word, fold);
    sizes[fold]! += counts.get(word)!;
  }
  return words.map((word) => foldOf.get(word)!);
}

/** The pairs at `indices`, features and labels alike. */
export function subsetOf(split: WicSplit, indices: readonly number[]): WicSplit {
  return { features: indices.map((i) => split.features[i]!), labels: indices.map((i) => split.labels[i]!) };
}

export interface CrossValidation {
  /** mean of the folds' accuracies, percent */
  mean: number;
  /** their standard deviation (n - 1) */
  sd: number;
  /** standard error of the mean: sd / sqrt(k) */
  standardError: number;
  folds: number[];
  /** each pair's prediction by the model fitted without its fold */
  predictions: boolean[];
}

/** Fits `configuration` on all folds but one and scores that one, for each fold. */
export function crossValidate(
  configuration: WicConfiguration,
  split: WicSplit,
  folds: readonly number[],
): CrossValidation {
  const k = Math.max(...folds) + 1;
  const predictions = new Array<boolean>(split.labels.length);
  const accuracies: number[] = [];
  for (let fold = 0; fold < k; fold++) {
    const scoredIndices = folds.flatMap((f, i) => (f === fold ? [i] : []));
    const fitIndices = folds.flatMap((f, i) => (f === fold ? [] : [i]));
    const scored = subsetOf(split, scoredIndices);
    const predicted = fitWicMethod(configuration, subsetOf(split, fitIndices)).predict(scored.features);
    scoredIndices.forEach((index, j) => (predictions[index] = predicted[j]!));
    accuracies.push(accuracy(predicted, scored.labels));
  }
  const mean = accuracies.reduce((a, b) => a + b, 0) / k;
  const sd = Math.sqrt(accuracies.reduce((sum, a) => sum + (a - mean) ** 2, 0) / (k - 1));
  return { mean, sd, standardError: sd / Math.sqrt(k), folds: accuracies, predictions };
}
