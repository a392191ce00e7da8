// Token offsets against the real tokenizers: for 1,000 generated strings mixing scripts, symbols
// and spaces, the text under each token's range must tokenize back to that token.
//
// What "tokenizes back" means, strictly, per vocabulary:
//  - SentencePiece (gemma-3-270m): tokenize(spaces + slice) is exactly [id], where spaces are the
//    piece's leading spaces that the range leaves out ("▁Hello" covers "Hello"). A run of
//    byte-fallback tokens shares one character (the first byte token covers it, the others are
//    empty at its end): tokenize(that character) is exactly the run.
//  - WordPiece (all-MiniLM-L6-v2): a continuation ("##ing") cannot be tokenized on its own, so the
//    check is on the word so far: tokenize(text from the start of the token's word to the end of
//    the token) is exactly the word's tokens up to this one, and the token starts where the one
//    before it in the word ends. Tokenizing normalises again, so "É" re-tokenizing to " e" passes.
// The looser check asks only that the token's id appears when the token's range, widened to its
// whole word (WordPiece) or its whole run of byte tokens (SentencePiece), is tokenized.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pullModel } from "../../../lib/hub/pull.js";
import { nativeAddon, type NativeModel } from "../../../lib/native/addon.js";
import { alignTokens, type TokenSpan } from "../../../lib/tokens/offsets.js";
import { minilmPath } from "../models.js";
import { seededRandom } from "../../../lib/util/random.js";

const STRING_COUNT = 1000;
const CONTROL_ATTRIBUTE = 1 << 3;
const BYTE_ATTRIBUTE = 1 << 5;

const FRAGMENTS: readonly string[] = [
  // Latin with accents, ligatures, special casing
  "café",
  "naïve",
  "Straße",
  "İstanbul",
  "façade",
  "ÆRØ",
  "ﬁnance",
  "ǅemal",
  "Ñandú",
  "Łódź",
  "ÉCOLE",
  "coöperate",
  // Greek (final sigma), Cyrillic
  "ΟΔΟΣ",
  "λόγος",
  "Ἀθῆναι",
  "привет",
  "Ёлка",
  "ЖУРНАЛ",
  // Arabic (with harakat), Hebrew (with niqqud)
  "مرحبا",
  "السَّلَامُ",
  "عَلَيْكُم",
  "שָׁלוֹם",
  "עברית",
  // CJK, Hangul, kana, full- and half-width forms
  "中文",
  "日本語",
  "漢字テスト",
  "한국어",
  "ひらがな",
  "ｶﾀｶﾅ",
  "ＡＢＣ１２３！",
  "、。「」",
  // Devanagari, Thai
  "नमस्ते",
  "हिन्दी",
  "สวัสดี",
  // emoji: astral, skin tones, ZWJ sequences, flags, variation selectors, keycaps
  "😀",
  "👍🏽",
  "👨‍👩‍👧‍👦",
  "🏳️‍🌈",
  "❤️",
  "🇫🇷",
  "1️⃣",
  "🧑🏿‍🚀",
  // combining marks, lone ones included
  "e\u0301",
  "a\u0308\u0304",
  "\u0301",
  "n\u0303o",
  "\u20dd",
  // digits and numbers
  "12345",
  "3.14159",
  "١٢٣",
  "१२३",
  "½",
  "²",
  // punctuation and math
  "...",
  "—",
  "«»",
  "¿¡",
  "!?",
  "(x)",
  "∑",
  "∫",
  "√2",
  "≤",
  "±",
  "𝔸𝕓",
  "∀x∈ℝ",
  "a+b=c",
  "$100",
  "50%",
  "#tag",
  "@user",
  // rare characters that SentencePiece spells in bytes
  "𓀀",
  "𐍈",
  "𠀀",
  "𝄞",
  "🀄",
  "ꙮ",
  "𒀭",
  // ASCII words, contractions, code
  "Hello",
  "world",
  "tokenizer",
  "don't",
  "e-mail",
  "C++",
  "a@b.com",
  "x_y",
  "<div>",
  "snake_case",
  "CamelCase",
  // control and format characters, the space marker
  "\u0001",
  "\u007f",
  "\u200b",
  "\ufeff",
  "▁",
  "\u00ad",
];

const SEPARATORS: readonly string[] = [
  " ",
  " ",
  " ",
  " ",
  "",
  "",
  "  ",
  "\t",
  "\n",
  "\r\n",
  "\u00a0",
  "\u2003",
  "\u3000",
  " \n ",
];

function mixedStrings(count: number, seed: number): string[] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  return Array.from({ length: count }, () => {
    const parts = Array.from({ length: 1 + Math.floor(random() * 12) }, () => pick(FRAGMENTS) + pick(SEPARATORS));
    return (random() < 0.2 ? pick(SEPARATORS) : "") + parts.join("");
  });
}

const strings = mixedStrings(STRING_COUNT, 20250607);

interface Tokenized {
  text: string;
  ids: Int32Array;
  attributes: Uint32Array;
  spans: TokenSpan[];
}

function tokenizeAndAlign(model: NativeModel, text: string): Tokenized {
  const ids = model.tokenize(text, true, false);
  const attributes = model.tokenAttributes(ids);
  const spans = alignTokens(text, ids, model.tokenPieces(ids), attributes, model.metadata().vocabularyType);
  return { text, ids, attributes, spans };
}

function isSurrogateSplit(text: string, index: number): boolean {
  const before = text.charCodeAt(index - 1);
  const after = text.charCodeAt(index);
  return before >= 0xd800 && before <= 0xdbff && after >= 0xdc00 && after <= 0xdfff;
}

function expectWellFormed({ text, ids, attributes, spans }: Tokenized): void {
  expect(spans.map((span) => span.id)).toEqual(Array.from(ids));
  let previousEnd = 0;
  spans.forEach((span, i) => {
    const where = `${JSON.stringify(text)} token ${i} ${JSON.stringify(span)}`;
    expect(span.start, where).toBeGreaterThanOrEqual(previousEnd);
    expect(span.end, where).toBeGreaterThanOrEqual(span.start);
    expect(span.end, where).toBeLessThanOrEqual(text.length);
    expect(isSurrogateSplit(text, span.start) || isSurrogateSplit(text, span.end), where).toBe(false);
    const isByteContinuation = ((attributes[i] ?? 0) & BYTE_ATTRIBUTE) !== 0 && span.start === previousEnd;
    if (span.special) expect(span.end, where).toBe(span.start);
    else if (!isByteContinuation) expect(span.end, where).toBeGreaterThan(span.start);
    previousEnd = span.end;
  });
}

/** What one non-special token's range must satisfy */
interface RetokenizationCheck {
  token: number;
  /** strict: tokenizing this gives exactly strictIds... */
  strictText: string;
  strictIds: number[];
  /** ...and the range starts where the token's predecessor in the same word ends */
  joinsItsWord: boolean;
  /** loose: tokenizing this gives the token's id somewhere */
  looseText: string;
}

function leadingSpaces(piece: string): string {
  return /^ */.exec(piece)?.[0] ?? "";
}

/** SentencePiece: each token alone, a byte-fallback run as a whole. */
function sentencepieceChecks({ text, ids, attributes, spans }: Tokenized): RetokenizationCheck[] {
  const checks: RetokenizationCheck[] = [];
  spans.forEach((span, i) => {
    if (span.special || span.start === span.end) return;
    const continuesCharacter = (k: number): boolean =>
      ((attributes[k] ?? 0) & BYTE_ATTRIBUTE) !== 0 && spans[k]?.start === span.end && spans[k]?.end === span.end;
    let runEnd = i + 1;
    if ((attributes[i] ?? 0) & BYTE_ATTRIBUTE) while (continuesCharacter(runEnd)) runEnd++;
    const slice = text.slice(span.start, span.end);
    // A piece of spaces only covers its own whitespace (or "▁"); any other leaves its leading spaces out.
    const spaces = leadingSpaces(span.text);
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
function wordpieceChecks({ text, ids, attributes, spans }: Tokenized): RetokenizationCheck[] {
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

interface Tally {
  tokens: number;
  strict: number;
  loose: number;
  strictFailures: string[];
}

function tally(model: NativeModel, checksOf: (tokenized: Tokenized) => RetokenizationCheck[]): Tally {
  const result: Tally = { tokens: 0, strict: 0, loose: 0, strictFailures: [] };
  for (const text of strings) {
    const tokenized = tokenizeAndAlign(model, text);
    expectWellFormed(tokenized);
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

function report(name: string, { tokens, strict, loose, strictFailures }: Tally): void {
  const share = (count: number): string => `${((100 * count) / tokens).toFixed(2)}%`;
  process.stderr.write(
    `[offsets] ${name}: ${tokens} tokens, strict ${strict} (${share(strict)}), loose ${loose} (${share(loose)})\n`,
  );
  for (const failure of strictFailures.slice(0, 20)) process.stderr.write(`[offsets]   ${failure}\n`);
}

describe.each([
  { name: "all-MiniLM-L6-v2 (WordPiece)", path: () => minilmPath("f32"), checksOf: wordpieceChecks },
  { name: "gemma-3-270m (SentencePiece)", path: () => pullModel("gemma-3-270m"), checksOf: sentencepieceChecks },
])("$name", ({ name, path, checksOf }) => {
  let model: NativeModel;
  beforeAll(async () => {
    model = await nativeAddon().loadModel(await path(), { gpuLayers: 0, useMmap: true, repackWeights: false });
  });
  afterAll(() => model.dispose());

  it(`gives ${STRING_COUNT} mixed-script strings well-formed ranges that tokenize back to their tokens`, () => {
    const result = tally(model, checksOf);
    report(name, result);
    expect(result.strictFailures).toEqual([]);
  });

  it("puts the added special tokens at the ends, empty", () => {
    const text = " Hello there ";
    const spans = tokenizeAndAlign(model, text).spans;
    const specials = spans.filter((span) => span.special);
    expect(specials.length).toBeGreaterThan(0);
    for (const span of specials) expect([0, text.length]).toContain(span.start);
    const words = spans.filter((span) => !span.special).map((span) => text.slice(span.start, span.end));
    expect(words.filter((word) => word.trim() !== "")).toEqual(["Hello", "there"]);
  });
});
