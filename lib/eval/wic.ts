// Word-in-Context (Pilehvar and Camacho-Collados, 2019): does a word mean the same in two
// sentences? Scored here from the cosine of the word's in-context vectors, with a threshold
// fitted on the training split.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { EmbeddingModel } from "../embedding/embedding-model.js";
import { cosineSimilarity } from "../vectors/similarity.js";

export interface WicPair {
  word: string;
  partOfSpeech: string;
  sentence1: string;
  sentence2: string;
  /** index of the target in each sentence's whitespace-separated words */
  index1: number;
  index2: number;
  /** gold label: same meaning; undefined when the split has no gold file */
  same?: boolean;
}

export async function readWic(directory: string, split: string): Promise<WicPair[]> {
  const dataPath = join(directory, `${split}.data.txt`);
  const data = (await readFile(dataPath, "utf8")).split("\n").filter((line) => line.length > 0);
  const gold = await readFile(join(directory, `${split}.gold.txt`), "utf8").then(
    (text) => text.split("\n").filter((line) => line.length > 0),
    () => undefined,
  );
  if (gold && gold.length !== data.length)
    throw new Error(`${split}: ${data.length} pairs but ${gold.length} gold labels`);
  return data.map((line, i) => {
    const [word, partOfSpeech, indices, sentence1, sentence2] = line.split("\t");
    const [index1, index2] = (indices ?? "").split("-").map(Number);
    if (!word || !partOfSpeech || !sentence1 || !sentence2 || !Number.isInteger(index1) || !Number.isInteger(index2)) {
      throw new Error(`${dataPath}:${i + 1} is not a WiC line (word, PoS, i1-i2, sentence1, sentence2)`);
    }
    const label = gold?.[i];
    return {
      word,
      partOfSpeech,
      sentence1,
      sentence2,
      index1: index1!,
      index2: index2!,
      ...(label ? { same: label === "T" } : {}),
    };
  });
}

/**
 * The threshold on `scores` (label "same" when score >= threshold) with the best accuracy on
 * `labels`; with `weights`, the best weighted accuracy (each pair counts its weight).
 */
export function fitThreshold(
  scores: readonly number[],
  labels: readonly boolean[],
  weights?: readonly number[],
): { threshold: number; accuracy: number } {
  const order = scores
    .map((score, i) => ({ score, same: labels[i]!, weight: weights?.[i] ?? 1 }))
    .sort((a, b) => a.score - b.score);
  // Start with everything "same"; moving the threshold past each score flips one prediction.
  let correct = order.reduce((sum, item) => sum + (item.same ? item.weight : 0), 0);
  let best = { threshold: order[0]?.score ?? 0, correct };
  order.forEach((item, i) => {
    correct += item.same ? -item.weight : item.weight;
    const next = order[i + 1];
    if (correct > best.correct && (!next || next.score > item.score)) {
      best = { threshold: next ? (item.score + next.score) / 2 : item.score + 1e-9, correct };
    }
  });
  const total = order.reduce((sum, item) => sum + item.weight, 0);
  return { threshold: best.threshold, accuracy: (100 * best.correct) / (total || 1) };
}

export function accuracyAt(scores: readonly number[], labels: readonly boolean[], threshold: number): number {
  const correct = scores.filter((score, i) => score >= threshold === labels[i]).length;
  return (100 * correct) / Math.max(1, scores.length);
}

/**
 * The target word's vector in both sentences of every pair, for each of `layers` (one forward
 * pass per sentence: the layers are captured together and the word's tokens mean-pooled).
 * Returns vectors[pair][layer slot] = [vector in sentence1, vector in sentence2].
 */
export async function wicWordVectors(
  model: EmbeddingModel,
  pairs: readonly WicPair[],
  layers: number[],
): Promise<[Float32Array, Float32Array][][]> {
  const inputs = pairs.flatMap((pair) => [
    { text: pair.sentence1, spans: [{ word: pair.index1 }] },
    { text: pair.sentence2, spans: [{ word: pair.index2 }] },
  ]);
  const results = await model.embed(inputs, { layers: { layers, combine: "concat" }, normalize: false });
  const width = model.info.hiddenSize;
  const layerSlice = (vector: Float32Array, slot: number) => vector.subarray(slot * width, (slot + 1) * width);
  return pairs.map((_, p) =>
    layers.map((_, slot) => [
      layerSlice(results[2 * p]!.spans![0]!.embedding, slot),
      layerSlice(results[2 * p + 1]!.spans![0]!.embedding, slot),
    ]),
  );
}

/** Cosine per pair after averaging the chosen layer slots of each word vector. */
export function pairCosines(vectors: [Float32Array, Float32Array][][], slots: number[]): number[] {
  const average = (pick: 0 | 1, pair: [Float32Array, Float32Array][]) => {
    const sum = new Float32Array(pair[0]![0].length);
    for (const slot of slots) pair[slot]![pick].forEach((value, d) => (sum[d]! += value));
    return sum;
  };
  return vectors.map((pair) => cosineSimilarity(average(0, pair), average(1, pair)));
}
