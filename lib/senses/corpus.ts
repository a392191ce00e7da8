// A corpus as a stream of short texts (each line cut into pieces of at most `maxWords` words so
// that every piece fits the model's context) and the words inside them.
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";

export interface CorpusOptions {
  /** stop after this many words (whole pieces) */
  maxWords?: number;
  /** longest piece, in whitespace-separated words */
  pieceWords?: number;
}

export async function* readCorpus(path: string, options: CorpusOptions = {}): AsyncGenerator<string> {
  const { maxWords = Infinity, pieceWords = 64 } = options;
  let words = 0;
  for await (const line of createInterface({ input: createReadStream(path, "utf8"), crlfDelay: Infinity })) {
    const tokens = line.split(/\s+/).filter((token) => token.length > 0);
    for (let at = 0; at < tokens.length && words < maxWords; at += pieceWords) {
      const piece = tokens.slice(at, at + pieceWords);
      words += piece.length;
      yield piece.join(" ");
    }
    if (words >= maxWords) return;
  }
}

export interface WordOccurrence {
  /** lower-cased form, the dictionary's key */
  word: string;
  start: number;
  end: number;
}

/** Alphabetic words (with inner apostrophes or hyphens), lower-cased, with their character ranges. */
export function wordsOf(text: string): WordOccurrence[] {
  return [...text.matchAll(/\p{L}+(?:['’-]\p{L}+)*/gu)].map((match) => ({
    word: match[0].toLowerCase(),
    start: match.index,
    end: match.index + match[0].length,
  }));
}
