// Token offsets from synthetic pieces, written the way llama.cpp's token_to_piece renders them.
import { describe, expect, it } from "vitest";
import { alignTokens, type TokenSpan } from "../../../lib/tokens/offsets.js";
import { seededRandom } from "../../../lib/util/random.js";

const UNKNOWN = 1 << 0;
const NORMAL = 1 << 2;
const CONTROL = 1 << 3;
const USER_DEFINED = 1 << 4;
const BYTE = 1 << 5;

interface SyntheticToken {
  piece: string | number[];
  attribute: number;
}

const text = (piece: string, attribute = NORMAL): SyntheticToken => ({ piece, attribute });
const control = (piece: string): SyntheticToken => ({ piece, attribute: CONTROL });
const bytes = (...values: number[]): SyntheticToken => ({ piece: values, attribute: BYTE });

const encoder = new TextEncoder();

/** Aligns synthetic tokens; equal pieces get equal ids, as they would from a vocabulary. */
function align(input: string, vocabularyType: string, tokens: SyntheticToken[]): TokenSpan[] {
  const encoded = tokens.map(({ piece }) =>
    typeof piece === "string" ? encoder.encode(piece) : Uint8Array.from(piece),
  );
  const idOf = new Map<string, number>();
  const ids = Int32Array.from(encoded, (piece) => {
    const key = piece.join();
    if (!idOf.has(key)) idOf.set(key, idOf.size);
    return idOf.get(key) ?? -1;
  });
  const ends = new Uint32Array(encoded.length);
  const pieceBytes = new Uint8Array(encoded.reduce((total, piece) => total + piece.length, 0));
  let offset = 0;
  encoded.forEach((piece, i) => {
    pieceBytes.set(piece, offset);
    offset += piece.length;
    ends[i] = offset;
  });
  const spans = alignTokens(
    input,
    ids,
    { bytes: pieceBytes, ends },
    Uint32Array.from(tokens, (token) => token.attribute),
    vocabularyType,
  );
  expectWellFormed(input, spans);
  return spans;
}

/** The text under each token's range */
const slices = (input: string, spans: TokenSpan[]): string[] => spans.map((span) => input.slice(span.start, span.end));

function isSurrogateSplit(input: string, index: number): boolean {
  return /[\ud800-\udbff]/.test(input[index - 1] ?? "") && /[\udc00-\udfff]/.test(input[index] ?? "");
}

function expectWellFormed(input: string, spans: TokenSpan[]): void {
  let previousEnd = 0;
  for (const span of spans) {
    expect(span.start).toBeGreaterThanOrEqual(previousEnd);
    expect(span.end).toBeGreaterThanOrEqual(span.start);
    expect(span.end).toBeLessThanOrEqual(input.length);
    expect(isSurrogateSplit(input, span.start) || isSurrogateSplit(input, span.end)).toBe(false);
    previousEnd = span.end;
  }
}

describe("WordPiece", () => {
  it("maps lowercased, accent-stripped pieces and split punctuation back to the original", () => {
    const input = "Héllo, WORLD! naïve";
    const spans = align(input, "wpm", [
      control("[CLS]"),
      text(" hello"),
      text(" ,"),
      text(" world"),
      text(" !"),
      text(" na"),
      text("ive"),
      control("[SEP]"),
    ]);
    expect(slices(input, spans)).toEqual(["", "Héllo", ",", "WORLD", "!", "na", "ïve", ""]);
    expect(spans.map((span) => span.special)).toEqual([true, false, false, false, false, false, false, true]);
    expect(spans.map((span) => span.text)).toEqual(["[CLS]", " hello", " ,", " world", " !", " na", "ive", "[SEP]"]);
  });

  it("follows llama.cpp's NFD (first code point only) and simple lowercasing", () => {
    const input = "İstanbul ΟΔΟΣ 한국어 e\u0301 ﬁ";
    const spans = align(
      input,
      "wpm",
      [" istanbul", " ο", "δ", "ο", "σ", " ᄒ", "ᄀ", "ᄋ", " e", " ﬁ"].map((piece) => text(piece)),
    );
    expect(slices(input, spans)).toEqual(["İstanbul", "Ο", "Δ", "Ο", "Σ", "한", "국", "어", "e\u0301", "ﬁ"]);
  });

  it("keeps dropped characters (format, control, marks) with their neighbours in the word", () => {
    const input = "a\u200bb\u0001 \u0301c";
    expect(slices(input, align(input, "wpm", [text(" ab"), text(" c")]))).toEqual(["a\u200bb\u0001", "\u0301c"]);
  });

  it("gives an [UNK] one word of the pre-split, whether it is typed control or unknown", () => {
    const input = "I ☃☃ it. ▁x ☃,";
    const spans = align(input, "wpm", [
      control("[CLS]"),
      text(" i"),
      control("[UNK]"),
      text(" it"),
      text(" ."),
      text("[UNK]", UNKNOWN),
      control("[UNK]"),
      text(" ,"),
      control("[SEP]"),
    ]);
    expect(slices(input, spans)).toEqual(["", "I", "☃☃", "it", ".", "▁x", "☃", ",", ""]);
    expect(spans.map((span) => span.special)).toEqual([true, false, false, false, false, false, false, false, true]);
  });

  it("reads control tokens at the ends as [UNK] when the tokenizer added no [CLS]/[SEP]", () => {
    const input = "☃ x ☃";
    const spans = align(input, "wpm", [control("[UNK]"), text(" x"), control("[UNK]")]);
    expect(slices(input, spans)).toEqual(["☃", "x", "☃"]);
    expect(spans.some((span) => span.special)).toBe(false);
  });

  it("runs an [UNK] on to where the next piece matches when the pre-splits disagree", () => {
    // U+1B7F is punctuation since Unicode 16, which llama.cpp's 15.1 tables predate: to the tokenizer "a᭿b" is one word.
    const input = "a\u1b7fb c";
    expect(slices(input, align(input, "wpm", [control("[UNK]"), text(" c")]))).toEqual(["a\u1b7fb", "c"]);
  });

  it("matches a piece's word marker to a literal ▁ in the text", () => {
    const input = "x▁y";
    expect(slices(input, align(input, "wpm", [text(" x"), text(" y")]))).toEqual(["x", "y"]);
  });
});

describe("SentencePiece", () => {
  it("gives a byte-fallback character to its first byte token and empty ranges at its end to the rest", () => {
    const input = "I ❤ 𓀀!";
    const spans = align(input, "spm", [
      control("<bos>"),
      text("I"),
      text(" ❤"),
      text(" "),
      bytes(0xf0),
      bytes(0x93),
      bytes(0x80),
      bytes(0x80),
      text("!"),
    ]);
    expect(slices(input, spans)).toEqual(["", "I", "❤", " ", "𓀀", "", "", "", "!"]);
    expect(spans.slice(4, 8).map((span) => [span.start, span.end])).toEqual([
      [4, 6],
      [6, 6],
      [6, 6],
      [6, 6],
    ]);
    expect(spans.slice(4, 8).map((span) => span.text)).toEqual(["", "", "", ""]);
  });

  it("leaves a piece's leading spaces out of its range, and a prefix space the text lacks out entirely", () => {
    const input = "Hello  world";
    const spans = align(input, "spm", [text(" Hello"), text(" "), text(" world")]);
    expect(slices(input, spans)).toEqual(["Hello", " ", "world"]);
    const emoji = "😀";
    expect(slices(emoji, align(emoji, "spm", [text(" "), bytes(0xf0), bytes(0x9f), bytes(0x98), bytes(0x80)]))).toEqual(
      ["", "😀", "", "", ""],
    );
  });

  it("reads ▁ in the text and in user-defined pieces as the space it stands for", () => {
    const input = "a▁b  \tc";
    const spans = align(input, "spm", [
      text("a"),
      text(" b"),
      text("▁▁", USER_DEFINED),
      text("\t", USER_DEFINED),
      text("c"),
    ]);
    expect(slices(input, spans)).toEqual(["a", "b", "  ", "\t", "c"]);
  });

  it("keeps a piece's leading U+FEFF, which is a character of the vocabulary, not a BOM", () => {
    const input = "\ufeff//x";
    const spans = align(input, "spm", [text("\ufeff//"), text("x")]);
    expect(slices(input, spans)).toEqual(["\ufeff//", "x"]);
    expect(spans[0]?.text).toBe("\ufeff//");
  });

  it("covers a lone surrogate with the U+FFFD that llama.cpp received", () => {
    const input = "\ud800x";
    expect(slices(input, align(input, "spm", [text("\ufffd"), text("x")]))).toEqual(["\ud800", "x"]);
  });

  it("puts added special tokens at the ends even around unclaimed whitespace", () => {
    const input = "  Hi  ";
    const spans = align(input, "spm", [control("<bos>"), text(" Hi"), control("<eos>")]);
    expect(spans.map((span) => [span.start, span.end])).toEqual([
      [0, 0],
      [2, 4],
      [6, 6],
    ]);
  });
});

describe("byte-level BPE", () => {
  it("gives a character split across pieces to the first piece that reaches it", () => {
    const input = "Hello wörld 😀";
    const spans = align(input, "bpe", [
      text("Hello"),
      text(" w"),
      { piece: [0xc3, 0xb6, 0x72], attribute: NORMAL },
      text("ld"),
      text(" "),
      { piece: [0xf0, 0x9f], attribute: NORMAL },
      { piece: [0x98, 0x80], attribute: NORMAL },
    ]);
    expect(slices(input, spans)).toEqual(["Hello", "w", "ör", "ld", " ", "😀", ""]);
    expect(spans.map((span) => span.text)).toEqual(["Hello", " w", "ör", "ld", " ", "", ""]);
  });

  it("moves the next piece's start past a character the previous piece already took", () => {
    const input = "aöb";
    const spans = align(input, "bpe", [
      { piece: [0x61, 0xc3], attribute: NORMAL },
      { piece: [0xb6, 0x62], attribute: NORMAL },
    ]);
    expect(slices(input, spans)).toEqual(["aö", "b"]);
  });
});

describe("fallback when normalisation defeats matching", () => {
  it("gives a piece not found in the text the text up to where the next piece matches", () => {
    const input = "one two three";
    expect(slices(input, align(input, "wpm", [text(" one"), text(" xyz"), text(" three")]))).toEqual([
      "one",
      "two",
      "three",
    ]);
  });

  it("guesses one unit per piece unit when nothing after it matches either, and stays ordered", () => {
    const input = "one two";
    const spans = align(input, "spm", [text("one"), text(" qqq"), text(" zz")]);
    expect(spans.map((span) => [span.start, span.end])).toEqual([
      [0, 3],
      [4, 7],
      [7, 7],
    ]);
  });

  it("survives pieces that belong to another text entirely", () => {
    const input = "Straße İ ς 👨‍👩‍👧 ﬁ ＡＢＣ \u00a0مرحبا שלום \u0301";
    for (const vocabularyType of ["wpm", "spm", "bpe", "ugm"]) {
      align(
        input,
        vocabularyType,
        ["unrelated", " pieces", "ö", "ﬀ", " ", "[UNK]"].map((piece) => text(piece)),
      );
    }
  });

  it("rejects pieces and attributes that do not match the ids", () => {
    expect(() =>
      alignTokens(
        "x",
        Int32Array.of(1, 2),
        { bytes: Uint8Array.of(0x78), ends: Uint32Array.of(1) },
        Uint32Array.of(NORMAL),
        "spm",
      ),
    ).toThrow(RangeError);
  });
});

describe("properties", () => {
  const random = seededRandom(7);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const randomText = (alphabet: readonly string[]): string =>
    Array.from({ length: 1 + Math.floor(random() * 30) }, () => pick(alphabet)).join("");

  it("with exact byte pieces cut anywhere, each character belongs to the piece holding its first byte", () => {
    const alphabet = ["a", "Z", "é", "e\u0301", "中", "😀", "👍🏽", " ", "  ", "\n", "\u00a0", "▁", "ق", "\u200d"];
    for (let round = 0; round < 300; round++) {
      const input = randomText(alphabet);
      const utf8 = encoder.encode(input);
      const cuts = [0];
      while ((cuts[cuts.length - 1] ?? 0) < utf8.length)
        cuts.push(Math.min(utf8.length, (cuts[cuts.length - 1] ?? 0) + 1 + Math.floor(random() * 6)));
      const tokens = cuts
        .slice(1)
        .map((end, k): SyntheticToken => ({ piece: Array.from(utf8.subarray(cuts[k], end)), attribute: NORMAL }));
      const spans = align(input, "bpe", tokens);

      let index = 0;
      let byteOffset = 0;
      let owner = 0;
      for (const character of input) {
        while ((cuts[owner + 1] ?? Infinity) <= byteOffset) owner++;
        const span = spans[owner] as TokenSpan;
        const piece = new TextDecoder().decode(Uint8Array.from(tokens[owner]?.piece as number[]));
        if (!/\s/u.test(character) || /^\s*$/u.test(piece)) {
          expect(
            index >= span.start && index < span.end,
            `${JSON.stringify(input)}: ${JSON.stringify(character)} at ${index}`,
          ).toBe(true);
        }
        index += character.length;
        byteOffset += encoder.encode(character).length;
      }
    }
  });

  it("with WordPiece-style pieces, each range folds to its piece", () => {
    const alphabet = ["a", "b", "C", "D", "é", "Ö", ",", "!", " ", " ", "\t", "\u0301"];
    for (let round = 0; round < 300; round++) {
      const input = randomText(alphabet);
      const fold = (s: string): string => s.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
      const words = fold(input).match(/[^\s,!]+|[,!]/gu) ?? [];
      const tokens = words.flatMap((word) => {
        const chunks = word.match(new RegExp(`.{1,${1 + Math.floor(random() * 3)}}`, "gu")) ?? [];
        return chunks.map((chunk, k) => text(k === 0 ? ` ${chunk}` : chunk));
      });
      const spans = align(input, "wpm", tokens);
      expect(spans.map((span) => fold(input.slice(span.start, span.end)))).toEqual(
        tokens.map((token) => (token.piece as string).trim()),
      );
    }
  });
});
