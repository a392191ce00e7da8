// The PiC tasks scored with a model: phrase similarity as accuracy at a threshold fitted on the
// training pairs, phrase retrieval and sense disambiguation as PiC's ranking metrics. Each task
// can read phrases in their context or alone, the comparison PiC was built to make.
import type { EmbeddingModel } from "../embedding/embedding-model.js";
import type { CandidateOptions } from "../phrases/candidates.js";
import { rankSpans } from "../phrases/search.js";
import { phraseSimilarities, type PhraseScoringOptions } from "../phrases/similarity.js";
import type { PhraseRetrievalItem, PhraseSimilarityPair } from "./pic-data.js";
import { retrievalMetrics, type RetrievalMetrics } from "./pic-metrics.js";
import { accuracyAt, fitThreshold } from "./wic.js";

export const phraseTasks = ["ps", "pr", "psd"] as const;
export type PhraseTask = (typeof phraseTasks)[number];

export interface PhraseEvaluationOptions extends PhraseScoringOptions, CandidateOptions {
  /** read phrases inside their sentences (default) or alone */
  context?: boolean;
  /**
   * PSD: compete only the occurrences of the answer's phrase (PSD as posed: the phrase is
   * known, the question is which occurrence has the queried sense); default false
   */
  phraseGiven?: boolean;
  /** items per model call; default 64 */
  batchSize?: number;
  /** called with the items scored so far */
  onProgress?: (done: number, total: number) => void;
}

export interface PhraseSimilarityResult {
  count: number;
  accuracy: number;
  threshold: number;
  trainAccuracy: number;
}

async function inChunks<T, R>(
  items: readonly T[],
  options: PhraseEvaluationOptions,
  score: (chunk: readonly T[]) => Promise<R[]>,
): Promise<R[]> {
  const size = options.batchSize ?? 64;
  const results: R[] = [];
  for (let at = 0; at < items.length; at += size) {
    results.push(...(await score(items.slice(at, at + size))));
    options.onProgress?.(results.length, items.length);
  }
  return results;
}

function readingOptions(options: PhraseEvaluationOptions): PhraseScoringOptions & { context: boolean } {
  return {
    context: options.context ?? true,
    ...(options.layers === undefined ? {} : { layers: options.layers }),
    ...(options.spanPooling === undefined ? {} : { spanPooling: options.spanPooling }),
    ...(options.scoring === undefined ? {} : { scoring: options.scoring }),
  };
}

async function similarityScores(
  model: EmbeddingModel,
  pairs: readonly PhraseSimilarityPair[],
  options: PhraseEvaluationOptions,
): Promise<number[]> {
  return inChunks(pairs, options, (chunk) =>
    phraseSimilarities(
      model,
      chunk.map((pair) => [
        { text: pair.sentence1, phrase: pair.phrase1 },
        { text: pair.sentence2, phrase: pair.phrase2 },
      ]),
      readingOptions(options),
    ),
  );
}

/** PS accuracy on `test` at the cosine threshold that is best on `train`. */
export async function evaluatePhraseSimilarity(
  model: EmbeddingModel,
  train: readonly PhraseSimilarityPair[],
  test: readonly PhraseSimilarityPair[],
  options: PhraseEvaluationOptions = {},
): Promise<PhraseSimilarityResult> {
  const fitted = fitThreshold(
    await similarityScores(model, train, options),
    train.map((pair) => pair.label),
  );
  const accuracy = accuracyAt(
    await similarityScores(model, test, options),
    test.map((pair) => pair.label),
    fitted.threshold,
  );
  return { count: test.length, accuracy, threshold: fitted.threshold, trainAccuracy: fitted.accuracy };
}

/**
 * PR or PSD: each item's context ranked against its query, scored by PiC's metrics. PSD counts a
 * hit only at the answer's own range: its context holds the same phrase in the other sense too.
 */
export async function evaluatePhraseRetrieval(
  model: EmbeddingModel,
  task: "pr" | "psd",
  items: readonly PhraseRetrievalItem[],
  options: PhraseEvaluationOptions = {},
): Promise<RetrievalMetrics> {
  const search = {
    ...readingOptions(options),
    top: 5,
    ...(options.maxWords === undefined ? {} : { maxWords: options.maxWords }),
    ...(options.minWords === undefined ? {} : { minWords: options.minWords }),
    ...(options.mode === undefined ? {} : { mode: options.mode }),
  };
  const ranked = await inChunks(items, options, (chunk) =>
    rankSpans(
      model,
      chunk.map((item) => ({
        query: item.query,
        passage: item.context,
        ...(options.phraseGiven ? { phrase: item.answers[0]!.text } : {}),
      })),
      search,
    ),
  );
  return retrievalMetrics(
    items.map((item, i) => ({ answers: item.answers, ranked: ranked[i]! })),
    { match: task === "psd" ? "range" : "text-or-range" },
  );
}
