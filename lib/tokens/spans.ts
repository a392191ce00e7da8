// Words and phrases in context: a span of the input, resolved to the tokens that cover it, and
// pooled from the token vectors of the one forward pass over the whole input.
import type { PoolingMode } from "../vectors/pooling.js";
import { describe } from "../util/validate.js";
import type { TokenSpan } from "./offsets.js";

export type SpanRequest =
  /** a character range [start, end) in JavaScript string indices */
  | { start: number; end: number }
  /** the `occurrence`-th (0-based, default 0) occurrence of a substring */
  | { find: string; occurrence?: number }
  /** whitespace-separated words [word, wordEnd) (wordEnd defaults to word + 1), as WiC counts them */
  | { word: number; wordEnd?: number };

export const spanPoolingModes = ["mean", "first", "last", "max"] as const;
export type SpanPooling = (typeof spanPoolingModes)[number];

export interface ResolvedSpan {
  start: number;
  end: number;
  text: string;
  /** covering tokens [tokenStart, tokenEnd) of the input's token list */
  tokenStart: number;
  tokenEnd: number;
}

export function rowPoolingOf(pooling: SpanPooling): PoolingMode {
  return pooling === "first" ? "cls" : pooling;
}

/** The characters [start, end) of `text` a request asks for. */
export function characterRange(text: string, request: SpanRequest, what: string): [number, number] {
  if ("find" in request) {
    if (typeof request.find !== "string" || request.find.length === 0)
      throw new TypeError(`${what}.find must be a non-empty string`);
    const occurrence = request.occurrence ?? 0;
    let at = -1;
    for (let seen = -1; seen < occurrence; seen++) {
      at = text.indexOf(request.find, at + 1);
      if (at < 0)
        throw new RangeError(
          `${what}: ${JSON.stringify(request.find)} occurs ${seen + 1} time(s) in the text, occurrence ${occurrence} was asked for`,
        );
    }
    return [at, at + request.find.length];
  }
  if ("word" in request) {
    const words = [...text.matchAll(/\S+/g)];
    const first = request.word;
    const last = (request.wordEnd ?? first + 1) - 1;
    if (!Number.isInteger(first) || !Number.isInteger(last) || first < 0 || last < first || last >= words.length) {
      throw new RangeError(
        `${what} asks for words [${first}, ${last + 1}) but the text has ${words.length} whitespace-separated words`,
      );
    }
    return [words[first]!.index, words[last]!.index + words[last]![0].length];
  }
  if ("start" in request && "end" in request) {
    const { start, end } = request;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > text.length || start >= end) {
      throw new RangeError(
        `${what} is [${start}, ${end}), which is not a non-empty range inside the text's ${text.length} characters`,
      );
    }
    return [start, end];
  }
  throw new TypeError(`${what} must be {start, end}, {find} or {word}, got ${describe(request)}`);
}

/** Resolves a request to its characters and the non-special tokens that overlap them. */
export function resolveSpan(
  text: string,
  request: SpanRequest,
  tokens: readonly TokenSpan[],
  what: string,
): ResolvedSpan {
  const [start, end] = characterRange(text, request, what);
  let tokenStart = -1;
  let tokenEnd = -1;
  tokens.forEach((token, index) => {
    const overlaps = token.start < end && token.end > start;
    const insideEmpty = token.start === token.end && token.start > start && token.start < end;
    if (!token.special && (overlaps || insideEmpty)) {
      if (tokenStart < 0) tokenStart = index;
      tokenEnd = index + 1;
    }
  });
  if (tokenStart < 0)
    throw new RangeError(
      `${what} [${start}, ${end}) covers no token of the text (it may lie in text the tokenizer drops)`,
    );
  return { start, end, text: text.slice(start, end), tokenStart, tokenEnd };
}
