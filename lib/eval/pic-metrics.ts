// The figures PiC (Pham et al., EACL 2023) reports for phrase retrieval and sense
// disambiguation: Top-1/Top-3 accuracy and MRR@5 over ranked spans, and SQuAD's exact match and
// token F1 of the best span. Phrase similarity is accuracy at a fitted threshold: fitThreshold
// and accuracyAt in wic.ts.
import { requireOneOf } from "../util/validate.js";
import type { PhraseAnswer } from "./pic-data.js";

/** A candidate answer: `text` is context.slice(start, end). */
export interface RankedSpan {
  text: string;
  start: number;
  end: number;
  score: number;
}

export interface RetrievalResult {
  answers: readonly PhraseAnswer[];
  /** best first */
  ranked: readonly RankedSpan[];
}

/** Percentages (x 100), MRR@5 included. */
export interface RetrievalMetrics {
  count: number;
  top1: number;
  top3: number;
  mrr5: number;
  exactMatch: number;
  f1: number;
}

/**
 * When a ranked span counts as the answer. "text-or-range": its normalised text equals a gold
 * text, or its range is a gold range. "range" only: for PSD, whose context holds the phrase in
 * both senses, so that the same words in the wrong passage do not count.
 */
export const spanMatches = ["text-or-range", "range"] as const;
export type SpanMatch = (typeof spanMatches)[number];

// Python's string.punctuation, which SQuAD's evaluation strips (ASCII only).
const punctuation = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;
// SQuAD uses Python's \b, which knows Unicode letters; JavaScript's \b knows only ASCII ones.
const articles = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

/** SQuAD's answer normalisation: lower case, no punctuation, no articles, single spaces. */
export function normalizeAnswer(text: string): string {
  return tokens(text.toLowerCase().replace(punctuation, "").replace(articles, " ")).join(" ");
}

/** 1 when the normalised prediction equals a normalised gold answer, else 0. */
export function exactMatch(prediction: string, golds: readonly string[]): number {
  const normalized = normalizeAnswer(prediction);
  return requireGolds(golds).some((gold) => normalizeAnswer(gold) === normalized) ? 1 : 0;
}

/** SQuAD's token F1 (0 to 1) of the prediction against its closest gold answer. */
export function tokenF1(prediction: string, golds: readonly string[]): number {
  const predicted = tokens(normalizeAnswer(prediction));
  return Math.max(...requireGolds(golds).map((gold) => f1(predicted, tokens(normalizeAnswer(gold)))));
}

export function retrievalMetrics(
  results: readonly RetrievalResult[],
  options: { match?: SpanMatch } = {},
): RetrievalMetrics {
  const match = requireOneOf(options.match ?? "text-or-range", "match", spanMatches);
  const sums = { top1: 0, top3: 0, mrr5: 0, exactMatch: 0, f1: 0 };
  results.forEach(({ answers, ranked }, i) => {
    const golds = requireGolds(
      answers.map((answer) => answer.text),
      `result ${i + 1}`,
    );
    const goldTexts = new Set(golds.map(normalizeAnswer));
    const isAnswer = (span: RankedSpan) =>
      answers.some((answer) => answer.start === span.start && answer.start + answer.text.length === span.end) ||
      (match === "text-or-range" && goldTexts.has(normalizeAnswer(span.text)));
    const rank = ranked.slice(0, 5).findIndex(isAnswer) + 1; // 0: no answer among the first five
    if (rank === 1) sums.top1++;
    if (rank >= 1 && rank <= 3) sums.top3++;
    if (rank >= 1) sums.mrr5 += 1 / rank;
    const best = ranked[0];
    if (best) {
      sums.exactMatch += exactMatch(best.text, golds);
      sums.f1 += tokenF1(best.text, golds);
    }
  });
  const percent = (sum: number) => (100 * sum) / Math.max(1, results.length);
  return {
    count: results.length,
    top1: percent(sums.top1),
    top3: percent(sums.top3),
    mrr5: percent(sums.mrr5),
    exactMatch: percent(sums.exactMatch),
    f1: percent(sums.f1),
  };
}

function tokens(text: string): string[] {
  return text.split(/\s+/).filter((token) => token.length > 0);
}

function f1(predicted: string[], gold: string[]): number {
  // SQuAD 2.0's rule when either side normalises to nothing (an answer such as "the").
  if (predicted.length === 0 || gold.length === 0) return predicted.length === gold.length ? 1 : 0;
  const unmatched = new Map<string, number>();
  for (const token of gold) unmatched.set(token, (unmatched.get(token) ?? 0) + 1);
  let common = 0;
  for (const token of predicted) {
    const left = unmatched.get(token) ?? 0;
    if (left > 0) {
      common++;
      unmatched.set(token, left - 1);
    }
  }
  if (common === 0) return 0;
  const precision = common / predicted.length;
  const recall = common / gold.length;
  return (2 * precision * recall) / (precision + recall);
}

function requireGolds(golds: readonly string[], what = "golds"): readonly string[] {
  if (golds.length === 0) throw new RangeError(`${what} has no gold answers to compare with`);
  return golds;
}
