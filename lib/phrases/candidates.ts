// The spans of a passage that phrase retrieval scores: every word n-gram within a range of
// lengths that does not cross punctuation ("ngrams"), or only those shaped like a content phrase
// ("chunks": no determiner, pronoun, conjunction or auxiliary at either edge). Chunks are a
// tagger-free approximation of noun and verb phrases; prepositions stay allowed at the edges
// because phrasal verbs end in particles ("take off") and many adverbials start with one ("at least").
import { requireInteger, requireOneOf } from "../util/validate.js";

export const candidateModes = ["ngrams", "chunks"] as const;
export type CandidateMode = (typeof candidateModes)[number];

export interface CandidateOptions {
  /** longest candidate, in words; default 4 */
  maxWords?: number;
  /** shortest candidate, in words; default 1 (2 for multiword phrases only, as PiC's are) */
  minWords?: number;
  /** default "chunks" (better than "ngrams" in and out of context on the WordNet phrase set's dev split) */
  mode?: CandidateMode;
}

export interface CandidateSpan {
  /** character range [start, end) of the passage */
  start: number;
  end: number;
  text: string;
}

const edgeWords = new Set([
  "a",
  "an",
  "the",
  "this",
  "that",
  "these",
  "those",
  "my",
  "your",
  "his",
  "her",
  "its",
  "our",
  "their",
  "i",
  "me",
  "you",
  "he",
  "him",
  "she",
  "it",
  "we",
  "us",
  "they",
  "them",
  "who",
  "whom",
  "which",
  "what",
  "and",
  "or",
  "but",
  "nor",
  "so",
  "yet",
  "if",
  "because",
  "than",
  "as",
  "is",
  "are",
  "was",
  "were",
  "be",
  "been",
  "being",
  "am",
  "do",
  "does",
  "did",
  "has",
  "have",
  "had",
  "will",
  "would",
  "shall",
  "should",
  "can",
  "could",
  "may",
  "might",
  "must",
  "not",
  "'s",
]);

const wordPattern = /[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu;

export function candidateSettings(options: CandidateOptions = {}): Required<CandidateOptions> {
  const maxWords = options.maxWords === undefined ? 4 : requireInteger(options.maxWords, "maxWords", 1, 16);
  return {
    maxWords,
    minWords: options.minWords === undefined ? 1 : requireInteger(options.minWords, "minWords", 1, maxWords),
    mode: options.mode === undefined ? "chunks" : requireOneOf(options.mode, "mode", candidateModes),
  };
}

/** Candidate spans of `text` in reading order, shorter first at each start. */
export function candidateSpans(text: string, options: CandidateOptions = {}): CandidateSpan[] {
  const { maxWords, minWords, mode } = candidateSettings(options);
  const words = [...text.matchAll(wordPattern)].map((match) => ({
    start: match.index,
    end: match.index + match[0].length,
    lower: match[0].toLowerCase(),
  }));
  const spans: CandidateSpan[] = [];
  words.forEach((first, i) => {
    for (let last = i; last < words.length && last - i < maxWords; last++) {
      if (last > i && text.slice(words[last - 1]!.end, words[last]!.start).trim().length > 0) break;
      if (
        last - i + 1 < minWords ||
        (mode === "chunks" && (edgeWords.has(first.lower) || edgeWords.has(words[last]!.lower)))
      )
        continue;
      spans.push({ start: first.start, end: words[last]!.end, text: text.slice(first.start, words[last]!.end) });
    }
  });
  return spans;
}

/** Every occurrence of `phrase` in `text` that starts and ends on a word boundary, ignoring case. */
export function phraseOccurrences(text: string, phrase: string): CandidateSpan[] {
  const escaped = phrase
    .trim()
    .replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    .replace(/\s+/g, "\\s+");
  const pattern = new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`, "giu");
  return [...text.matchAll(pattern)].map((match) => ({
    start: match.index,
    end: match.index + match[0].length,
    text: match[0],
  }));
}
