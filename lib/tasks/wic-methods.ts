// WiC methods, each fitted on the train split and scored on another: a cosine threshold on a
// layer mix, same sense in the corpus dictionary, same WordNet synset (reading words, or whole
// sentences), and logistic regression over all of these features. Nothing is fitted on the split
// being scored.
import type { EmbeddingModel } from "../models/embedding-model.js";
import type { SenseDictionary } from "../senses/dictionary.js";
import type { WordNet } from "../wordnet/database.js";
import { WordNetSenses, type SenseReading } from "../wordnet/sense-inventory.js";
import { modelSentenceEmbedder, modelSpanEmbedder } from "../wordnet/span-embedder.js";
import { fitLogistic, predictProbability } from "./logistic-regression.js";
import { accuracyAt, fitThreshold, readWic, type WicPair } from "./wic.js";
import { dictionaryAgreement, layerCosineFeatures, occurrenceVectors, wicOccurrences, wordNetAgreement, wordNetLayers, type InventoryLeaveOut, type PairFeatures } from "./wic-features.js";

export const wicMethods = ["cosine", "dictionary", "wordnet", "wordnet-sentence", "logistic"] as const;
export type WicMethod = (typeof wicMethods)[number];

/** The WordNet reading each method needs; logistic regression uses both. */
export function wordNetReadingsOf(method: WicMethod): SenseReading[] {
  if (method === "logistic") return ["word", "sentence"];
  if (method === "wordnet") return ["word"];
  return method === "wordnet-sentence" ? ["sentence"] : [];
}

type Inventory = "wordnet" | "wordnetSentence" | "dictionary";
const inventoryNames: readonly Inventory[] = ["wordnet", "wordnetSentence", "dictionary"];

/** The methods that predict "same sense" from one inventory: which one, and what it takes. */
const sameSenseMethods = {
  dictionary: { inventory: "dictionary", needs: "a sense dictionary (--dict)" },
  wordnet: { inventory: "wordnet", needs: "WordNet" },
  "wordnet-sentence": { inventory: "wordnetSentence", needs: "WordNet" },
} as const satisfies Partial<Record<WicMethod, { inventory: Inventory; needs: string }>>;

export interface WicMethodResult {
  method: WicMethod;
  /** accuracy on the scored split, percent */
  accuracy: number;
  trainAccuracy: number;
  parameters: Record<string, unknown>;
}

export interface WicSplit {
  features: PairFeatures[];
  labels: boolean[];
}

/** Score of a layer range [from, to]: the mean of its per-layer cosines. */
function rangeScores(features: PairFeatures[], from: number, to: number): number[] {
  return features.map((f) => f.layerCosines.slice(from, to + 1).reduce((a, b) => a + b, 0) / (to - from + 1));
}

function cosineThreshold(train: WicSplit) {
  const layerCount = train.features[0]!.layerCosines.length;
  let best = { from: 0, to: 0, threshold: 0, accuracy: -1 };
  for (let from = 0; from < layerCount; from++) {
    for (let to = from; to < layerCount; to++) {
      const fitted = fitThreshold(rangeScores(train.features, from, to), train.labels);
      if (fitted.accuracy > best.accuracy) best = { from, to, ...fitted };
    }
  }
  return { ...best, predict: (features: PairFeatures[]) => rangeScores(features, best.from, best.to).map((score) => score >= best.threshold) };
}

function accuracy(predictions: boolean[], labels: boolean[]): number {
  return (100 * predictions.filter((p, i) => p === labels[i]).length) / Math.max(1, labels.length);
}

/** Same sense under an inventory; pairs it cannot judge fall back to the cosine threshold. */
function sameSense(pick: (f: PairFeatures) => PairFeatures["wordnet"], train: WicSplit, scored: WicSplit) {
  const fallback = cosineThreshold(train);
  const predict = (split: WicSplit) => {
    const cosine = fallback.predict(split.features);
    return split.features.map((f, i) => pick(f)?.same ?? cosine[i]!);
  };
  const covered = (split: WicSplit) => (100 * split.features.filter((f) => pick(f) !== undefined).length) / split.features.length;
  return {
    accuracy: accuracy(predict(scored), scored.labels),
    trainAccuracy: accuracy(predict(train), train.labels),
    parameters: { coveredPercent: Number(covered(scored).toFixed(1)), fallback: `cosine, layers ${fallback.from}-${fallback.to} >= ${fallback.threshold.toFixed(4)}` },
  };
}

/**
 * The row of one pair: every layer's cosine, and each inventory's verdict, how polysemous the
 * word is there (log of its sense count: the more senses, the less a same/different verdict
 * or a cosine says), and the coverage flag.
 */
function featureRow(f: PairFeatures, inventories: Inventory[]): number[] {
  return [
    ...f.layerCosines,
    f.verb ? 1 : 0,
    ...inventories.flatMap((name) => [f[name]?.same ? 1 : 0, f[name]?.cosine ?? 0, f[name]?.overlap ?? 0, Math.log(f[name]?.senseCount ?? 1), f[name] ? 1 : 0]),
  ];
}

/**
 * Each pair's weight in the fit: every lemma counts the same in total. WiC's dev split holds
 * about one pair per lemma, train 4.3, and the more senses a lemma has, the more pairs: train's
 * lemmas average 6.6 WordNet senses but its pairs 14.2 (dev: 5.5 and 5.6). Unweighted, the
 * classifier would fit the most polysemous lemmas rather than lemmas in general.
 */
export function lemmaWeights(words: readonly string[]): number[] {
  const counts = new Map<string, number>();
  for (const word of words) counts.set(word, (counts.get(word) ?? 0) + 1);
  return words.map((word) => words.length / counts.size / counts.get(word)!);
}

function logistic(train: WicSplit, scored: WicSplit) {
  const inventories = inventoryNames.filter((name) => train.features.some((f) => f[name]));
  const names = [
    ...train.features[0]!.layerCosines.map((_, l) => `cosine layer ${l}`),
    "verb",
    ...inventories.flatMap((n) => [`${n} same`, `${n} sense cosine`, `${n} overlap`, `${n} log sense count`, `${n} covers`]),
  ];
  const rowWeights = lemmaWeights(train.features.map((f) => f.word));
  const model = fitLogistic(train.features.map((f) => featureRow(f, inventories)), train.labels, { l2: 1, rowWeights });
  const probabilities = (split: WicSplit) => split.features.map((f) => predictProbability(model, featureRow(f, inventories)));
  const trainProbabilities = probabilities(train);
  const fitted = fitThreshold(trainProbabilities, train.labels, rowWeights);
  return {
    accuracy: accuracyAt(probabilities(scored), scored.labels, fitted.threshold),
    trainAccuracy: accuracyAt(trainProbabilities, train.labels, fitted.threshold),
    parameters: {
      features: names,
      weights: Object.fromEntries(names.map((name, j) => [name, Number(model.weights[j]!.toFixed(4))])),
      intercept: Number(model.intercept.toFixed(4)),
      probabilityThreshold: Number(fitted.threshold.toFixed(4)),
      l2: 1,
      rowWeights: "every lemma counts the same",
    },
  };
}

export function runWicMethod(method: WicMethod, train: WicSplit, scored: WicSplit): WicMethodResult {
  switch (method) {
    case "cosine": {
      const fitted = cosineThreshold(train);
      return {
        method,
        accuracy: accuracy(fitted.predict(scored.features), scored.labels),
        trainAccuracy: fitted.accuracy,
        parameters: { layers: `${fitted.from}-${fitted.to}`, score: "mean of the layers' cosines", threshold: Number(fitted.threshold.toFixed(4)) },
      };
    }
    case "dictionary":
    case "wordnet":
    case "wordnet-sentence": {
      const { inventory, needs } = sameSenseMethods[method];
      if (!train.features.some((f) => f[inventory])) throw new Error(`the ${method} method needs ${needs}`);
      return { method, ...sameSense((f) => f[inventory], train, scored) };
    }
    case "logistic":
      return { method, ...logistic(train, scored) };
  }
}

export interface WicEvaluationSources {
  /** WordNet for the synset features (each split's own sentences are removed from its inventory) */
  wordnet?: WordNet;
  dictionary?: SenseDictionary;
  onProgress?: (message: string) => void;
}

/**
 * The WordNet inventory the WiC features read. By word: sense vectors from the last four layers,
 * as the occurrences. By sentence: the model's own sentence vectors.
 */
export function wicWordNetSenses(model: EmbeddingModel, wordnet: WordNet, reading: SenseReading): WordNetSenses {
  const embed = reading === "word" ? modelSpanEmbedder(model, { layers: { layers: wordNetLayers(model.info.layerCount), combine: "mean" } }) : modelSentenceEmbedder(model);
  return WordNetSenses.create(wordnet, embed, reading);
}

export type WicInventories = Partial<Record<SenseReading, WordNetSenses>>;

/**
 * Every feature of every pair of one split. The WordNet inventory first drops the sentences
 * `leaveOut` names: WiC was built from WordNet's examples. A split being scored must use "split".
 */
export async function wicSplitFeatures(
  model: EmbeddingModel,
  pairs: readonly WicPair[],
  sources: { inventories?: WicInventories; dictionary?: SenseDictionary },
  leaveOut: InventoryLeaveOut,
): Promise<WicSplit> {
  if (pairs.some((pair) => pair.same === undefined)) throw new Error("WiC pairs without gold labels cannot be fitted or scored");
  const { cosines, vectors } = await layerCosineFeatures(model, pairs);
  const { inventories = {}, dictionary } = sources;
  const byWord = inventories.word ? await wordNetAgreement(inventories.word, pairs, occurrenceVectors(vectors, wordNetLayers(model.info.layerCount)), leaveOut) : [];
  const sentenceVectors = inventories.sentence ? await inventories.sentence.occurrenceVectors(pairs.flatMap(wicOccurrences)) : [];
  const bySentence = inventories.sentence
    ? await wordNetAgreement(inventories.sentence, pairs, pairs.map((_, p) => [sentenceVectors[2 * p]!, sentenceVectors[2 * p + 1]!]), leaveOut)
    : [];
  const senses = dictionary ? await dictionaryAgreement(model, dictionary, pairs) : [];
  const features = pairs.map((pair, p) => ({
    word: pair.word.toLowerCase(),
    layerCosines: cosines[p]!,
    verb: pair.partOfSpeech === "V",
    ...(byWord[p] ? { wordnet: byWord[p] } : {}),
    ...(bySentence[p] ? { wordnetSentence: bySentence[p] } : {}),
    ...(senses[p] ? { dictionary: senses[p] } : {}),
  }));
  return { features, labels: pairs.map((pair) => pair.same!) };
}

/** Reads train and `split`, computes the features once, and runs each method (fitted on train, scored on `split`). */
export async function evaluateWic(model: EmbeddingModel, directory: string, split: string, methods: readonly WicMethod[], sources: WicEvaluationSources = {}): Promise<WicMethodResult[]> {
  const progress = sources.onProgress ?? (() => {});
  const trainPairs = await readWic(directory, "train");
  const scoredPairs = await readWic(directory, split);
  const { wordnet } = sources;
  const readings = wordnet ? [...new Set(methods.flatMap(wordNetReadingsOf))] : [];
  const inventories: WicInventories = Object.fromEntries(readings.map((reading) => [reading, wicWordNetSenses(model, wordnet!, reading)]));
  const featureSources = { inventories, ...(sources.dictionary ? { dictionary: sources.dictionary } : {}) };
  progress(`train: ${trainPairs.length} pairs`);
  const train = await wicSplitFeatures(model, trainPairs, featureSources, "pair");
  progress(`${split}: ${scoredPairs.length} pairs`);
  const scored = await wicSplitFeatures(model, scoredPairs, featureSources, "split");
  return methods.map((method) => runWicMethod(method, train, scored));
}
