// Semantic textual similarity: score sentence pairs by the cosine of their embeddings and
// correlate with human judgements, as the STS Benchmark's evaluation does.
import { readFile } from "node:fs/promises";
import { sampleCorrelation, sampleRankCorrelation } from "simple-statistics";
import type { EmbeddingModel } from "../embedding/embedding-model.js";
import type { EmbedOptions } from "../embedding/embed-options.js";
import { cosineSimilarity } from "../vectors/similarity.js";

export interface StsPair {
  score: number;
  sentence1: string;
  sentence2: string;
}

export interface StsResult {
  pairs: number;
  /** Spearman correlation x 100, the figure STS papers report */
  spearman: number;
  pearson: number;
}

/**
 * Reads an STS Benchmark file: tab-separated genre, file, year, id, score, sentence1, sentence2.
 * Some lines carry extra trailing fields, which are ignored.
 */
export async function readStsBenchmark(path: string): Promise<StsPair[]> {
  const lines = (await readFile(path, "utf8")).split("\n").filter((line) => line.length > 0);
  return lines.map((line, index) => {
    const fields = line.split("\t");
    const score = Number(fields[4]);
    if (fields.length < 7 || !Number.isFinite(score)) {
      throw new Error(
        `${path}:${index + 1} is not an STS Benchmark line (expected 7 tab-separated fields with a numeric score)`,
      );
    }
    return { score, sentence1: fields[5]!, sentence2: fields[6]! };
  });
}

/** Every sentence of the pairs once, in order of first appearance: what has to be embedded. */
export function stsSentences(pairs: readonly StsPair[]): string[] {
  return [...new Set(pairs.flatMap((pair) => [pair.sentence1, pair.sentence2]))];
}

export async function evaluateSts(
  model: EmbeddingModel,
  pairs: readonly StsPair[],
  options: EmbedOptions = {},
): Promise<StsResult> {
  const distinct = stsSentences(pairs);
  const embeddings = await model.embed(distinct, options);
  return scoreSts(pairs, new Map(distinct.map((sentence, index) => [sentence, embeddings[index]!.embedding])));
}

/** Spearman and Pearson of the cosines of each pair's vectors (every sentence of the pairs in `vectorOf`) against the gold scores. */
export function scoreSts(pairs: readonly StsPair[], vectorOf: ReadonlyMap<string, Float32Array>): StsResult {
  const vector = (sentence: string) => {
    const found = vectorOf.get(sentence);
    if (!found) throw new RangeError(`no vector for the sentence ${JSON.stringify(sentence)}`);
    return found;
  };
  const predicted = pairs.map((pair) => cosineSimilarity(vector(pair.sentence1), vector(pair.sentence2)));
  const gold = pairs.map((pair) => pair.score);
  return {
    pairs: pairs.length,
    spearman: 100 * sampleRankCorrelation(predicted, gold),
    pearson: 100 * sampleCorrelation(predicted, gold),
  };
}
