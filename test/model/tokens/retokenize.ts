// The strict re-tokenisation check on token offsets, shared by the offset tests: the text under
// each token's range must tokenize back to that token (see offsets.test.ts for what "back" means
// per vocabulary). A token whose piece is not whole UTF-8 (a SentencePiece byte-fallback token or
// a byte-level BPE fragment) shares its character with the tokens after it in the same character:
// the first covers the character, the others are empty at its end, and the run is checked whole.
import { expect } from "vitest";
import type { NativeModel } from "../../../lib/native/addon.js";
import { alignTokens, type TokenSpan } from "../../../lib/tokens/offsets.js";

const CONTROL_ATTRIBUTE = 1 << 3;
const BYTE_ATTRIBUTE = 1 << 5;

/** A byte-fallback token, or a byte-level BPE token whose piece is part of a character (its text is ""). */
function isByteFragment(attributes: Uint32Array, spans: TokenSpan[], k: number): boolean {
  return ((attributes[k] ?? 0) & BYTE_ATTRIBUTE) !== 0 || (spans[k]?.text === "" && spans[k]?.special === false);
}

export interface Tokenized {
  text: string;
  ids: Int32Array;
  attributes: Uint32Array;
  spans: TokenSpan[];
  /** each piece's leading spaces, read from its bytes: a byte-level BPE fragment has them but no text */
  pieceSpaces: string[];
}

export function tokenizeAndAlign(model: NativeModel, text: string): Tokenized {
  const ids = model.tokenize(text, true, false);
  const attributes = model.tokenAttributes(ids);
  const pieces = model.tokenPieces(ids);
  const spans = alignTokens(text, ids, pieces, attributes, model.metadata().vocabularyType);
  const pieceSpaces = Array.from(pieces.ends, (end, i) => {
    let k = pieces.ends[i - 1] ?? 0;
    while (k < end && pieces.bytes[k] === 0x20) k++;
    return " ".repeat(k - (pieces.ends[i - 1] ?? 0));
  });
  return { text, ids, attributes, spans, pieceSpaces };
}

function isSurrogateSplit(text: string, index: number): boolean {
  const before = text.charCodeAt(index - 1);
  const after = text.charCodeAt(index);
  return before >= 0xd800 && before <= 0xdbff && after >= 0xdc00 && after <= 0xdfff;
}

/**
 * `emptySpaces`: any piece of spaces only may have an empty range, which UGM gives one that its
 * charsmap made from a character that is no space in the text (U+200D ZWJ becomes "▁").
 */
export function expectWellFormed(
  { text, ids, attributes, spans, pieceSpaces }: Tokenized,
  { emptySpaces = false }: { emptySpaces?: boolean } = {},
): void {
  expect(spans.map((span) => span.id)).toEqual(Array.from(ids));
  // SentencePiece's added prefix (add_space_prefix) as a token of its own, "▁" before a text that
  // starts with no space: it stands for no character of the text, so its range is empty at 0.
  // Before a text that starts with spaces, as several "▁" pieces, each piece takes a space while
  // there is one, and the range left empty is the last of them.
  const firstText = spans.findIndex((span) => !span.special);
  const isSpaces = (i: number): boolean => spans[i]?.text === pieceSpaces[i];
  let leadingSpacesEnd = firstText;
  while (leadingSpacesEnd >= 0 && leadingSpacesEnd < spans.length && isSpaces(leadingSpacesEnd)) leadingSpacesEnd++;
  const isAddedPrefix = (i: number): boolean =>
    isSpaces(i) &&
    spans[i]?.start === spans[i]?.end &&
    (emptySpaces ||
      (i === firstText && spans[i]?.end === 0 && !/^[ ▁]/u.test(text)) ||
      (i > firstText && i < leadingSpacesEnd && /^[ ▁]/u.test(text)));
  let previousEnd = 0;
  spans.forEach((span, i) => {
    const where = `${JSON.stringify(text)} token ${i} ${JSON.stringify(span)}`;
    expect(span.start, where).toBeGreaterThanOrEqual(previousEnd);
    expect(span.end, where).toBeGreaterThanOrEqual(span.start);
    expect(span.end, where).toBeLessThanOrEqual(text.length);
    expect(isSurrogateSplit(text, span.start) || isSurrogateSplit(text, span.end), where).toBe(false);
    const isByteContinuation = isByteFragment(attributes, spans, i) && span.start === previousEnd;
    if (span.special) expect(span.end, where).toBe(span.start);
    else if (!isByteContinuation && !isAddedPrefix(i)) expect(span.end, where).toBeGreaterThan(span.start);
    previousEnd = span.end;
  });
}

/** What one non-special token's range must satisfy */
export interface RetokenizationCheck {
  token: number;
  /** strict: tokenizing this gives exactly strictIds... */
  strictText: string;
  strictIds: number[];
  /** ...and the range starts where the token's predecessor in the same word ends */
  joinsItsWord: boolean;
  /** loose: tokenizing this gives the token's id somewhere */
  looseText: string;
}

/** SentencePiece: each token alone, a byte-fallback run as a whole. */
export function sentencepieceChecks({ text, ids, attributes, spans, pieceSpaces }: Tokenized): RetokenizationCheck[] {
  const checks: RetokenizationCheck[] = [];
  spans.forEach((span, i) => {
    if (span.special || span.start === span.end) return;
    const continuesCharacter = (k: number): boolean =>
      isByteFragment(attributes, spans, k) && spans[k]?.start === span.end && spans[k]?.end === span.end;
    let runEnd = i + 1;
    if (isByteFragment(attributes, spans, i)) while (continuesCharacter(runEnd)) runEnd++;
    const slice = text.slice(span.start, span.end);
    // A piece of spaces only covers its own whitespace (or "▁"); any other leaves its leading spaces out.
    const spaces = pieceSpaces[i] ?? "";
    const context = spaces === span.text || slice.startsWith(spaces) ? "" : spaces;
    checks.push({
      token: i,
      strictText: context + slice,
      strictIds: Array.from(ids.subarray(i, runEnd)),
      joinsItsWord: true,
      looseText: context + slice,
    });
  });
  return checks;
}

/** WordPiece: each token with the part of its word before it. */
export function wordpieceChecks({ text, ids, attributes, spans }: Tokenized): RetokenizationCheck[] {
  const checks: RetokenizationCheck[] = [];
  let wordFirst = 0;
  // A word starts with a "▁" piece (rendered " "), or is an [UNK], typed control like [CLS] and [SEP].
  const isWordStart = (k: number): boolean =>
    spans[k]?.text.startsWith(" ") || ((attributes[k] ?? 0) & CONTROL_ATTRIBUTE) !== 0;
  spans.forEach((span, i) => {
    if (span.special) return;
    if (isWordStart(i)) wordFirst = i;
    let wordLast = i;
    while (wordLast + 1 < spans.length && !isWordStart(wordLast + 1)) wordLast++;
    const wordStart = spans[wordFirst]?.start ?? 0;
    checks.push({
      token: i,
      strictText: text.slice(wordStart, span.end),
      strictIds: Array.from(ids.subarray(wordFirst, i + 1)),
      joinsItsWord: i === wordFirst || span.start === spans[i - 1]?.end,
      looseText: text.slice(wordStart, spans[wordLast]?.end),
    });
  });
  return checks;
}

/**
 * SentencePiece and UGM with add_space_prefix: the tokenizer spells a text alone as "▁" + text, so
 * a piece inside a word ("ed" of "▁i" "ed") has no text of its own to tokenize back to it. The
 * check is WordPiece's, on the word so far, with the word's leading spaces less the one the
 * tokenizer adds; a run of byte tokens is checked whole at its first, which covers the character.
 */
export function spacePrefixChecks(tokenized: Tokenized): RetokenizationCheck[] {
  const { text, attributes, spans, pieceSpaces } = tokenized;
  return wordpieceChecks(tokenized).flatMap((check) => {
    const span = spans[check.token];
    if (!span || span.start === span.end) return [];
    const wordFirst = check.token - check.strictIds.length + 1;
    const first = spans[wordFirst];
    const spaces = pieceSpaces[wordFirst] ?? "";
    // The word's text needs its first piece's spaces less one; a piece of spaces only covers some
    // of them (not the prefix the tokenizer added, where the text begins), any other piece none.
    const covered = first && spaces === first.text ? first.end - first.start : 0;
    const missing = spaces.length - 1 - covered;
    const spaced = (slice: string): string => (missing >= 0 ? " ".repeat(missing) + slice : slice.slice(-missing));
    let runEnd = check.token + 1;
    while (
      isByteFragment(attributes, spans, runEnd) &&
      spans[runEnd]?.start === span.end &&
      spans[runEnd]?.end === span.end
    )
      runEnd++;
    const strictText = spaced(check.strictText);
    if (strictText === "") return [];
    // After a piece of spaces only, whitespace the tokenizer folded into it (UGM's
    // remove_extra_whitespaces) stays unclaimed between the two.
    const previous = spans[check.token - 1];
    const afterFoldedSpaces =
      previous?.text === pieceSpaces[check.token - 1] && /^\s*$/u.test(text.slice(previous?.end, span.start));
    return [
      {
        ...check,
        joinsItsWord: check.joinsItsWord || afterFoldedSpaces,
        strictText,
        strictIds: Array.from(tokenized.ids.subarray(wordFirst, runEnd)),
        looseText: spaced(check.looseText),
      },
    ];
  });
}

export interface Tally {
  tokens: number;
  strict: number;
  loose: number;
  strictFailures: string[];
}

export function tally(
  model: NativeModel,
  strings: readonly string[],
  checksOf: (tokenized: Tokenized) => RetokenizationCheck[],
  wellFormed: { emptySpaces?: boolean } = {},
): Tally {
  const result: Tally = { tokens: 0, strict: 0, loose: 0, strictFailures: [] };
  for (const text of strings) {
    const tokenized = tokenizeAndAlign(model, text);
    expectWellFormed(tokenized, wellFormed);
    for (const check of checksOf(tokenized)) {
      const id = tokenized.ids[check.token] ?? -1;
      const strictIds = Array.from(model.tokenize(check.strictText, false, false));
      const isStrict = check.joinsItsWord && strictIds.join() === check.strictIds.join();
      result.tokens++;
      if (isStrict) result.strict++;
      else
        result.strictFailures.push(
          `${JSON.stringify(text)} token ${check.token} (${id}): ${JSON.stringify(check.strictText)} → [${strictIds.join()}], want [${check.strictIds.join()}]`,
        );
      if (isStrict || model.tokenize(check.looseText, false, false).includes(id)) result.loose++;
    }
  }
  return result;
}

export function report(name: string, { tokens, strict, loose, strictFailures }: Tally): void {
  const share = (count: number): string => `${((100 * count) / tokens).toFixed(2)}%`;
  process.stderr.write(
    `[offsets] ${name}: ${tokens} tokens, strict ${strict} (${share(strict)}), loose ${loose} (${share(loose)})\n`,
  );
  for (const failure of strictFailures.slice(0, 20)) process.stderr.write(`[offsets]   ${failure}\n`);
}
