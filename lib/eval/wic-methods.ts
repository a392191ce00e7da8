// WiC methods, each fitted on one split's features and scored on another's: a cosine threshold
// on a layer mix, same sense in the corpus dictionary, same WordNet synset (reading words, with
// either combination of definition and examples, or whole sentences), a threshold on the cosine
// of prompted sense vectors, and logistic regression over chosen features. Nothing is fitted on
// the split being scored.
import type { EmbeddingModel } from "../embedding/embedding-model.js";
import type { SenseDictionary } from "../senses/dictionary.js";
import type { WordNet } from "../wordnet/database.js";
import { WordNetSenses } from "../wordnet/sense-inventory.js";
import { modelSentenceEmbedder, modelSpanEmbedder } from "../wordnet/span-embedder.js";
import { fitLogistic, predictProbability } from "./logistic-regression.js";
import { accuracyAt, fitThreshold, readWic, type WicPair } from "./wic.js";
import { cachedFeatures } from "./wic-feature-cache.js";
import {
  dictionaryAgreement,
  layerCosineFeatures,
  promptedCosines,
  wordNetAgreement,
  wordNetFeatures,
  wordNetLayers,
  type InventoryLeaveOut,
  type PairFeatures,
  type SenseAgreement,
  type WicFeatureGroup,
  type WordNetFeature,
} from "./wic-features.js";

export const wicMethods = [
  "cosine",
  "dictionary",
  "wordnet",
  "wordnet-mean",
  "wordnet-sentence",
  "prompted",
  "logistic",
] as const;
export type WicMethod = (typeof wicMethods)[number];

type Inventory = WordNetFeature | "dictionary";
/** What logistic regression can read besides the layer cosines and the part of speech. */
export const logisticFeatureNames = [...wordNetFeatures, "dictionary", "prompted"] as const;
export type LogisticFeature = (typeof logisticFeatureNames)[number];

/** A method with every setting that is not fitted from the data. */
export interface WicConfiguration {
  method: WicMethod;
  /** logistic: the L2 penalty on standardised weights (default 1) */
  l2?: number;
  /** logistic: the features read besides layer cosines and part of speech (default: the three WordNet inventories) */
  features?: LogisticFeature[];
  /** prompted, and logistic reading "prompted": the word-prompt preset (default "word-meaning") */
  promptPreset?: string;
}

export const defaultLogisticFeatures: readonly LogisticFeature[] = ["wordnet", "wordnetMean", "wordnetSentence"];
export const defaultPromptPreset = "word-meaning";

/** The methods that predict "same sense" from one inventory: which one, and what it takes. */
const sameSenseMethods = {
  dictionary: { inventory: "dictionary", needs: "a sense dictionary (--dict)" },
  wordnet: { inventory: "wordnet", needs: "WordNet" },
  "wordnet-mean": { inventory: "wordnetMean", needs: "WordNet" },
  "wordnet-sentence": { inventory: "wordnetSentence", needs: "WordNet" },
} as const satisfies Partial<Record<WicMethod, { inventory: Inventory; needs: string }>>;

/** The feature groups a configuration reads. */
export function featureGroupsOf(configuration: WicConfiguration): WicFeatureGroup[] {
  switch (configuration.method) {
    case "cosine":
      return ["layers"];
    case "prompted":
      return ["prompted"];
    case "logistic":
      return ["layers", ...(configuration.features ?? defaultLogisticFeatures)];
    default:
      return ["layers", sameSenseMethods[configuration.method].inventory];
  }
}

/** A short name of a configuration, for tables and messages. */
export function describeConfiguration(configuration: WicConfiguration): string {
  const settings = [
    configuration.l2 === undefined ? "" : `l2 ${configuration.l2}`,
    configuration.features ? configuration.features.join("+") : "",
    configuration.promptPreset ?? "",
  ].filter((part) => part.length > 0);
  return settings.length === 0 ? configuration.method : `${configuration.method} (${settings.join("; ")})`;
}

export interface WicMethodResult {
  method: WicMethod;
  configuration: WicConfiguration;
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
  return {
    ...best,
    predict: (features: PairFeatures[]) =>
      rangeScores(features, best.from, best.to).map((score) => score >= best.threshold),
  };
}

export function accuracy(predictions: readonly boolean[], labels: readonly boolean[]): number {
  return (100 * predictions.filter((p, i) => p === labels[i]).length) / Math.max(1, labels.length);
}

/** A method fitted on one split: its predictions for any other, and what it fitted. */
export interface FittedWicMethod {
  predict(features: PairFeatures[]): boolean[];
  trainAccuracy: number;
  parameters: Record<string, unknown>;
}

/** Same sense under an inventory; pairs it cannot judge fall back to the cosine threshold. */
function sameSense(pick: (f: PairFeatures) => SenseAgreement | undefined, train: WicSplit): FittedWicMethod {
  const fallback = cosineThreshold(train);
  const predict = (features: PairFeatures[]) => {
    const cosine = fallback.predict(features);
    return features.map((f, i) => pick(f)?.same ?? cosine[i]!);
  };
  return {
    predict,
    trainAccuracy: accuracy(predict(train.features), train.labels),
    parameters: { fallback: `cosine, layers ${fallback.from}-${fallback.to} >= ${fallback.threshold.toFixed(4)}` },
  };
}

function promptedCosineOf(f: PairFeatures): number {
  if (f.prompted === undefined) throw new Error("the prompted method needs the prompted sense vectors' cosines");
  return f.prompted;
}

function promptedThreshold(train: WicSplit): FittedWicMethod {
  const fitted = fitThreshold(train.features.map(promptedCosineOf), train.labels);
  return {
    predict: (features) => features.map((f) => promptedCosineOf(f) >= fitted.threshold),
    trainAccuracy: fitted.accuracy,
    parameters: { threshold: Number(fitted.threshold.toFixed(4)), score: "cosine of the prompted sense vectors" },
  };
}

const agreementColumns = ["same", "sense cosine", "overlap", "log sense count", "covers"];

/**
 * The row of one pair: every layer's cosine, the part of speech, each inventory's verdict, how
 * polysemous the word is there (log of its sense count: the more senses, the less a same/different
 * verdict or a cosine says) and the coverage flag, and the prompted vectors' cosine.
 */
function featureRow(f: PairFeatures, features: readonly LogisticFeature[]): number[] {
  return [
    ...f.layerCosines,
    f.verb ? 1 : 0,
    ...features.flatMap((name) => {
      if (name === "prompted") return [promptedCosineOf(f)];
      const verdict = f[name];
      return [
        verdict?.same ? 1 : 0,
        verdict?.cosine ?? 0,
        verdict?.overlap ?? 0,
        Math.log(verdict?.senseCount ?? 1),
        verdict ? 1 : 0,
      ];
    }),
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

function logistic(train: WicSplit, configuration: WicConfiguration): FittedWicMethod {
  const features = configuration.features ?? defaultLogisticFeatures;
  const l2 = configuration.l2 ?? 1;
  const names = [
    ...train.features[0]!.layerCosines.map((_, l) => `cosine layer ${l}`),
    "verb",
    ...features.flatMap((n) =>
      n === "prompted" ? ["prompted cosine"] : agreementColumns.map((column) => `${n} ${column}`),
    ),
  ];
  const rowWeights = lemmaWeights(train.features.map((f) => f.word));
  const model = fitLogistic(
    train.features.map((f) => featureRow(f, features)),
    train.labels,
    { l2, rowWeights },
  );
  const probabilities = (split: PairFeatures[]) => split.map((f) => predictProbability(model, featureRow(f, features)));
  const trainProbabilities = probabilities(train.features);
  const fitted = fitThreshold(trainProbabilities, train.labels, rowWeights);
  return {
    predict: (split) => probabilities(split).map((probability) => probability >= fitted.threshold),
    trainAccuracy: accuracyAt(trainProbabilities, train.labels, fitted.threshold),
    parameters: {
      weights: Object.fromEntries(names.map((name, j) => [name, Number(model.weights[j]!.toFixed(4))])),
      intercept: Number(model.intercept.toFixed(4)),
      probabilityThreshold: Number(fitted.threshold.toFixed(4)),
      l2,
      rowWeights: "every lemma counts the same",
    },
  };
}

export function fitWicMethod(configuration: WicConfiguration, train: WicSplit): FittedWicMethod {
  const { method } = configuration;
  switch (method) {
    case "cosine": {
      const fitted = cosineThreshold(train);
      return {
        predict: fitted.predict,
        trainAccuracy: fitted.accuracy,
        parameters: {
          layers: `${fitted.from}-${fitted.to}`,
          score: "mean of the layers' cosines",
          threshold: Number(fitted.threshold.toFixed(4)),
        },
      };
    }
    case "prompted":
      return promptedThreshold(train);
    case "logistic":
      return logistic(train, configuration);
    default: {
      const { inventory, needs } = sameSenseMethods[method];
      if (!train.features.some((f) => f[inventory])) throw new Error(`the ${method} method needs ${needs}`);
      return sameSense((f) => f[inventory], train);
    }
  }
}

/** Fits on `train`, scores `scored`. */
export function runWicMethod(configuration: WicConfiguration, train: WicSplit, scored: WicSplit): WicMethodResult {
  const fitted = fitWicMethod(configuration, train);
  const inventory =
    configuration.method in sameSenseMethods
      ? sameSenseMethods[configuration.method as keyof typeof sameSenseMethods].inventory
      : undefined;
  const covered = inventory
    ? {
        coveredPercent: Number(
          ((100 * scored.features.filter((f) => f[inventory]).length) / scored.features.length).toFixed(1),
        ),
      }
    : {};
  return {
    method: configuration.method,
    configuration,
    accuracy: accuracy(fitted.predict(scored.features), scored.labels),
    trainAccuracy: fitted.trainAccuracy,
    parameters: { ...covered, ...fitted.parameters },
  };
}

/**
 * The WordNet inventories the WiC features read. By word: sense vectors from the last four
 * layers, as the occurrences, the definition and examples joined as a unit sum ("wordnet") or as
 * the mean of cosines ("wordnetMean", sharing the vectors). By sentence: the model's own
 * sentence vectors, mean of cosines.
 */
export function wicWordNetInventories(model: EmbeddingModel, wordnet: WordNet): Record<WordNetFeature, WordNetSenses> {
  const byWord = WordNetSenses.create(
    wordnet,
    modelSpanEmbedder(model, { layers: { layers: wordNetLayers(model.info.layerCount), combine: "mean" } }),
    "word",
  );
  return {
    wordnet: byWord,
    wordnetMean: byWord.combined("mean-of-cosines"),
    wordnetSentence: WordNetSenses.create(wordnet, modelSentenceEmbedder(model), "sentence"),
  };
}

export interface WicFeatureSources {
  inventories?: Record<WordNetFeature, WordNetSenses>;
  dictionary?: SenseDictionary;
  /** the word-prompt preset of the "prompted" group (default "word-meaning") */
  promptPreset?: string;
  /** keep computed groups in the ctxembed cache and read them from there (the dictionary group is never kept) */
  cache?: boolean;
  onProgress?: (message: string) => void;
}

/**
 * The chosen feature groups of every pair of one split. The WordNet inventory first drops the
 * sentences `leaveOut` names: WiC was built from WordNet's examples. A split being scored must use "split".
 */
export async function wicSplitFeatures(
  model: EmbeddingModel,
  pairs: readonly WicPair[],
  groups: readonly WicFeatureGroup[],
  sources: WicFeatureSources,
  leaveOut: InventoryLeaveOut,
): Promise<WicSplit> {
  if (pairs.some((pair) => pair.same === undefined))
    throw new Error("WiC pairs without gold labels cannot be fitted or scored");
  const progress = sources.onProgress ?? (() => {});
  const preset = sources.promptPreset ?? defaultPromptPreset;
  const compute = async (group: WicFeatureGroup): Promise<Partial<PairFeatures>[]> => {
    progress(`${group}: ${pairs.length} pairs`);
    if (group === "layers") return (await layerCosineFeatures(model, pairs)).map((layerCosines) => ({ layerCosines }));
    if (group === "prompted") return (await promptedCosines(model, pairs, preset)).map((prompted) => ({ prompted }));
    if (group === "dictionary") {
      if (!sources.dictionary) throw new Error("the dictionary features need a sense dictionary (--dict)");
      return (await dictionaryAgreement(model, sources.dictionary, pairs)).map((verdict) =>
        verdict ? { dictionary: verdict } : {},
      );
    }
    if (!sources.inventories) throw new Error(`the ${group} features need WordNet`);
    return (await wordNetAgreement(sources.inventories[group], pairs, leaveOut)).map((verdict) =>
      verdict ? { [group]: verdict } : {},
    );
  };
  const cacheName = (group: WicFeatureGroup) =>
    group === "prompted" ? `prompted-${preset}` : group === "layers" ? group : `${group}-${leaveOut}`;
  const features: PairFeatures[] = pairs.map((pair) => ({
    word: pair.word.toLowerCase(),
    verb: pair.partOfSpeech === "V",
    layerCosines: [],
  }));
  for (const group of new Set(groups)) {
    const values =
      sources.cache && group !== "dictionary"
        ? await cachedFeatures(model.info.path, cacheName(group), pairs, () => compute(group))
        : await compute(group);
    values.forEach((value, p) => Object.assign(features[p]!, value));
  }
  return { features, labels: pairs.map((pair) => pair.same!) };
}

/** A method name is its configuration with every setting at its default. */
export function configurationOf(method: WicMethod | WicConfiguration): WicConfiguration {
  return typeof method === "string" ? { method } : method;
}

/** Reads train and `split`, computes the features the configurations need once, and runs each (fitted on train, scored on `split`). */
export async function evaluateWic(
  model: EmbeddingModel,
  directory: string,
  split: string,
  methods: readonly (WicMethod | WicConfiguration)[],
  sources: Omit<WicFeatureSources, "inventories"> & { wordnet?: WordNet } = {},
): Promise<WicMethodResult[]> {
  const configurations = methods.map(configurationOf);
  const presets = new Set(
    configurations.flatMap((c) =>
      featureGroupsOf(c).includes("prompted") ? [c.promptPreset ?? defaultPromptPreset] : [],
    ),
  );
  if (presets.size > 1) throw new Error(`one evaluation reads one word-prompt preset, got ${[...presets].join(", ")}`);
  const groups = [...new Set(configurations.flatMap(featureGroupsOf))];
  const progress = sources.onProgress ?? (() => {});
  const { wordnet, ...rest } = sources;
  const featureSources: WicFeatureSources = {
    ...rest,
    ...(wordnet ? { inventories: wicWordNetInventories(model, wordnet) } : {}),
    ...(presets.size ? { promptPreset: [...presets][0]! } : {}),
  };
  const trainPairs = await readWic(directory, "train");
  const scoredPairs = await readWic(directory, split);
  progress(`train: ${trainPairs.length} pairs`);
  const train = await wicSplitFeatures(model, trainPairs, groups, featureSources, "pair");
  progress(`${split}: ${scoredPairs.length} pairs`);
  const scored = await wicSplitFeatures(model, scoredPairs, groups, featureSources, "split");
  return configurations.map((configuration) => runWicMethod(configuration, train, scored));
}
