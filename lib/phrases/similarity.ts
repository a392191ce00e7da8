// Phrase similarity (PiC's PS): how close two phrases are, each read inside its own sentence
// (or alone, with `context: false`), as the cosine of their vectors or by matching their tokens.
import type { EmbeddingModel } from "../embedding/embedding-model.js";
import { dot } from "../vectors/similarity.js";
import { describe, requireOneOf } from "../util/validate.js";
import {
  phraseForms,
  readPhrases,
  type PhraseForm,
  type PhraseInput,
  type PhraseReading,
  type PhraseVectorOptions,
} from "./phrase-vectors.js";

export interface PhraseScoringOptions extends PhraseVectorOptions {
  /**
   * "vector" (default): the cosine of the phrases' pooled vectors. "tokens": each token matched
   * to its closest token in the other phrase (phraseMatch), which sees extra or missing words
   * that a pooled vector blurs; spanPooling does not apply.
   */
  scoring?: PhraseForm;
}

/** The reading form `options.scoring` asks for, validated. */
export function scoringForm(options: PhraseScoringOptions): PhraseForm {
  const form = options.scoring === undefined ? "vector" : requireOneOf(options.scoring, "scoring", phraseForms);
  if (form === "tokens" && options.spanPooling !== undefined)
    throw new TypeError(
      'spanPooling applies to scoring "vector" only: scoring "tokens" compares the tokens themselves',
    );
  return form;
}

/**
 * BERTScore's F1 without idf weights (Zhang et al., ICLR 2020): each token of one phrase is
 * matched to its most similar token of the other; recall averages over `a`'s tokens, precision
 * over `b`'s. For two pooled vectors it is their cosine.
 */
export function phraseMatch(a: PhraseReading, b: PhraseReading): number {
  if (a.length === 1 && b.length === 1) return dot(a[0]!, b[0]!);
  const similarities = a.map((x) => b.map((y) => dot(x, y)));
  const recall = similarities.reduce((sum, row) => sum + Math.max(...row), 0) / a.length;
  const precision = b.reduce((sum, _, j) => sum + Math.max(...similarities.map((row) => row[j]!)), 0) / b.length;
  // The harmonic mean needs both positive; otherwise the plain mean still orders candidates sensibly.
  return recall > 0 && precision > 0 ? (2 * recall * precision) / (recall + precision) : (recall + precision) / 2;
}

/** The similarity of each pair, all phrases embedded in one call. */
export async function phraseSimilarities(
  model: EmbeddingModel,
  pairs: readonly (readonly [PhraseInput, PhraseInput])[],
  options: PhraseScoringOptions & { context?: boolean } = {},
): Promise<number[]> {
  pairs.forEach((pair, i) => {
    if (!Array.isArray(pair) || pair.length !== 2)
      throw new TypeError(`pairs[${i}] must be [phrase, phrase], got ${describe(pair)}`);
  });
  const readings = await readPhrases(model, pairs.flat(), options, scoringForm(options));
  return pairs.map((_, i) => phraseMatch(readings[2 * i]!, readings[2 * i + 1]!));
}
