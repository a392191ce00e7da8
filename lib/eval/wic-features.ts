// What the WiC methods look at for each pair: the cosine of the target word's two in-context
// vectors at every layer, the WordNet synsets the two occurrences are disambiguated to (reading
// words, and reading whole sentences), and the corpus-dictionary senses they are assigned to.
import type { EmbeddingModel } from "../embedding/embedding-model.js";
import { embedWordSenses } from "../senses/word-senses.js";
import type { SenseDictionary } from "../senses/dictionary.js";
import { dot, l2Normalize } from "../vectors/similarity.js";
import type { WordNetPos } from "../wordnet/database.js";
import type { WordNetSenses } from "../wordnet/sense-inventory.js";
import { modelSpanEmbedder, type SpanRequestInText } from "../wordnet/span-embedder.js";
import { pairCosines, wicWordVectors, type WicPair } from "./wic.js";

export function wicPos(partOfSpeech: string): WordNetPos {
  if (partOfSpeech === "N") return "noun";
  if (partOfSpeech === "V") return "verb";
  throw new RangeError(`WiC part of speech is N or V, got ${JSON.stringify(partOfSpeech)}`);
}

/** The target's character range in each sentence of a pair (WiC counts whitespace-separated words). */
export function wicOccurrences(pair: WicPair): [SpanRequestInText, SpanRequestInText] {
  const at = (text: string, index: number): SpanRequestInText => {
    const word = [...text.matchAll(/\S+/g)][index];
    if (!word) throw new RangeError(`"${text}" has no word ${index}`);
    return { text, start: word.index, end: word.index + word[0].length };
  };
  return [at(pair.sentence1, pair.index1), at(pair.sentence2, pair.index2)];
}

/** Agreement of two occurrences under a sense inventory: same sense or not, and the cosine of the two senses' vectors. */
export interface SenseAgreement {
  same: boolean;
  cosine: number;
  /** sum over senses of p1 * p2, each occurrence's softmax over its cosines to the senses: a soft "same sense" */
  overlap: number;
  /** how many senses the inventory has for the word: how polysemous it is */
  senseCount: number;
}

/** Temperature of the softmax over sense cosines (cosines of unit vectors differ by hundredths). */
const senseTemperature = 0.05;

/** A soft "same sense": the two occurrences' softmax distributions over the senses, dotted. */
export function senseOverlap(cosines1: readonly number[], cosines2: readonly number[]): number {
  const softmax = (cosines: readonly number[]) => {
    const top = Math.max(...cosines);
    const exps = cosines.map((c) => Math.exp((c - top) / senseTemperature));
    const total = exps.reduce((a, b) => a + b, 0);
    return exps.map((e) => e / total);
  };
  const [p, q] = [softmax(cosines1), softmax(cosines2)];
  return p.reduce((sum, value, i) => sum + value * q[i]!, 0);
}

export interface PairFeatures {
  /** the target lemma, lower case */
  word: string;
  /** cosine of the two word vectors at layer 0 (embeddings) to L; empty when the "layers" group was not computed */
  layerCosines: number[];
  verb: boolean;
  /** undefined when WordNet has no synset for the lemma */
  wordnet?: SenseAgreement;
  /** the same, each synset's vector the mean of its definition's and examples' (mean of cosines) */
  wordnetMean?: SenseAgreement;
  /** the same, with senses and occurrences read as whole sentences */
  wordnetSentence?: SenseAgreement;
  /** undefined when the dictionary lacks the word */
  dictionary?: SenseAgreement;
  /** cosine of the two occurrences' prompted sense vectors (embedWordSenses) */
  prompted?: number;
}

/** The WordNet features, each read by its own inventory. */
export const wordNetFeatures = ["wordnet", "wordnetMean", "wordnetSentence"] as const;
export type WordNetFeature = (typeof wordNetFeatures)[number];

/**
 * What can be computed for a split, each group in its own model pass (and cached on its own):
 * the per-layer cosines, each WordNet inventory's agreement, the corpus dictionary's, and the
 * prompted sense vectors' cosine.
 */
export const wicFeatureGroups = ["layers", ...wordNetFeatures, "dictionary", "prompted"] as const;
export type WicFeatureGroup = (typeof wicFeatureGroups)[number];

/** Layers the WordNet sense vectors and the occurrences they are compared with are read from (LMMS used the last four). */
export function wordNetLayers(layerCount: number): number[] {
  return [layerCount - 3, layerCount - 2, layerCount - 1, layerCount];
}

export async function layerCosineFeatures(model: EmbeddingModel, pairs: readonly WicPair[]): Promise<number[][]> {
  // A decoder's llama.cpp graph has no layer 0 output to capture: its layers start at 1.
  const first = model.info.causal ? 1 : 0;
  const layers = Array.from({ length: model.info.layerCount + 1 - first }, (_, i) => first + i);
  const vectors = await wicWordVectors(model, pairs, layers);
  const perLayer = layers.map((_, slot) => pairCosines(vectors, [slot]));
  return pairs.map((_, p) => perLayer.map((layer) => layer[p]!));
}

/** Both occurrences (unit vectors) against one word's sense vectors: the nearest sense of each, and how the two compare. */
function agreement(senseVectors: Float32Array[], [first, second]: [Float32Array, Float32Array]): SenseAgreement {
  const cosines1 = senseVectors.map((vector) => dot(first, vector));
  const cosines2 = senseVectors.map((vector) => dot(second, vector));
  const a = cosines1.indexOf(Math.max(...cosines1));
  const b = cosines2.indexOf(Math.max(...cosines2));
  return {
    same: a === b,
    cosine: dot(senseVectors[a]!, senseVectors[b]!),
    overlap: senseOverlap(cosines1, cosines2),
    senseCount: senseVectors.length,
  };
}

/**
 * Which sentences the inventory drops before judging a pair (WiC was built from WordNet's
 * examples). "split": every sentence of the split, as when scoring it. "pair": only the pair's
 * own two, for the split a classifier is fitted on: each pair then sees an inventory like the
 * scored split's, where the lemma's other examples remain. (WiC's train split has about four
 * pairs per lemma, so dropping the whole split strips train lemmas of most of their examples,
 * which the scored splits' lemmas keep.)
 */
export type InventoryLeaveOut = "split" | "pair";

/** The inventory each pair of `pairs` is judged with, and one holding all their sentences, to embed everything at once (vectors are shared). */
export function leaveOutInventories(
  senses: WordNetSenses,
  pairs: readonly WicPair[],
  leaveOut: InventoryLeaveOut,
): { superset: WordNetSenses; of: (pair: WicPair) => WordNetSenses } {
  if (leaveOut === "pair")
    return { superset: senses, of: (pair) => senses.excluding([pair.sentence1, pair.sentence2]) };
  const withoutSplit = senses.excluding(pairs.flatMap((pair) => [pair.sentence1, pair.sentence2]));
  return { superset: withoutSplit, of: () => withoutSplit };
}

/** Disambiguates both occurrences of every pair to WordNet synsets (the occurrences read as `senses` reads). */
export async function wordNetAgreement(
  senses: WordNetSenses,
  pairs: readonly WicPair[],
  leaveOut: InventoryLeaveOut,
): Promise<(SenseAgreement | undefined)[]> {
  const occurrences = await senses.occurrenceVectors(pairs.flatMap(wicOccurrences));
  const inventories = leaveOutInventories(senses, pairs, leaveOut);
  await inventories.superset.prepare(pairs.map((pair) => ({ lemma: pair.word, pos: wicPos(pair.partOfSpeech) })));
  const result: (SenseAgreement | undefined)[] = [];
  for (const [p, pair] of pairs.entries()) {
    const inventory = inventories.of(pair);
    const vectors = (await inventory.senses(pair.word, wicPos(pair.partOfSpeech))).map((sense) => sense.vector);
    result.push(vectors.length === 0 ? undefined : agreement(vectors, [occurrences[2 * p]!, occurrences[2 * p + 1]!]));
  }
  return result;
}

/** Cosine of the two occurrences' prompted sense vectors, per pair. */
export async function promptedCosines(
  model: EmbeddingModel,
  pairs: readonly WicPair[],
  preset: string,
): Promise<number[]> {
  const vectors = await embedWordSenses(model, pairs.flatMap(wicOccurrences), { preset });
  return pairs.map((_, p) => dot(vectors[2 * p]!, vectors[2 * p + 1]!));
}

/** Assigns both occurrences to dictionary senses, reading their vectors the way the dictionary was built. */
export async function dictionaryAgreement(
  model: EmbeddingModel,
  dictionary: SenseDictionary,
  pairs: readonly WicPair[],
): Promise<(SenseAgreement | undefined)[]> {
  if (dictionary.settings.model !== model.info.name)
    throw new Error(`the dictionary was built with ${dictionary.settings.model}, not ${model.info.name}`);
  const { layers, spanPooling } = dictionary.settings;
  const embed = modelSpanEmbedder(model, { spanPooling, ...(layers === undefined ? {} : { layers }) });
  const vectors = await embed(pairs.flatMap(wicOccurrences));
  return pairs.map((pair, p) => {
    const [first, second] = wicOccurrences(pair);
    const key = (occurrence: SpanRequestInText) =>
      occurrence.text
        .slice(occurrence.start, occurrence.end)
        .toLowerCase()
        .replace(/[^\p{L}'’-]/gu, "");
    // The surface form first (the dictionary is keyed by corpus forms), then the lemma.
    const entryWord = (occurrence: SpanRequestInText) =>
      [key(occurrence), pair.word.toLowerCase()].find((word) => dictionary.lookup(word));
    const [word1, word2] = [entryWord(first), entryWord(second)];
    if (!word1 || !word2 || word1 !== word2) return undefined;
    const unit = (vector: Float32Array) => l2Normalize(Float32Array.from(vector));
    return agreement(
      dictionary.lookup(word1)!.senses.map((sense) => sense.centroid),
      [unit(vectors[2 * p]!), unit(vectors[2 * p + 1]!)],
    );
  });
}
