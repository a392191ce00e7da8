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
import { minilmPath } from "../models.js";
import { seededRandom } from "../../../lib/util/random.js";
import { report, sentencepieceChecks, tally, tokenizeAndAlign, wordpieceChecks } from "./retokenize.js";

const STRING_COUNT = 1000;

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
    const result = tally(model, strings, checksOf);
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
