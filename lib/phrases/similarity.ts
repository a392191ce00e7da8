// Phrase similarity (PiC's PS): the cosine of two phrases' vectors, each read inside its own
// sentence (or alone, with `context: false`).
import type { EmbeddingModel } from "../models/embedding-model.js";
import { dot } from "../senses/vectors.js";
import { describe } from "../validate.js";
import { phraseVectors, type PhraseInput, type PhraseVectorOptions } from "./phrase-vectors.js";

/** Cosine similarity of each pair, all phrases embedded in one call. */
export async function phraseSimilarities(
  model: EmbeddingModel,
  pairs: readonly (readonly [PhraseInput, PhraseInput])[],
  options: PhraseVectorOptions & { context?: boolean } = {},
): Promise<number[]> {
  pairs.forEach((pair, i) => {
    if (!Array.isArray(pair) || pair.length !== 2) throw new TypeError(`pairs[${i}] must be [phrase, phrase], got ${describe(pair)}`);
  });
  const vectors = await phraseVectors(model, pairs.flat(), options);
  return pairs.map((_, i) => dot(vectors[2 * i]!, vectors[2 * i + 1]!));
}
