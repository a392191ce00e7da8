// Every tokenizer family llama.cpp has, on real vocabularies: the vocabulary-only GGUFs llama.cpp
// ships for its own tokenizer test (native/llama.cpp/models), each put into a tiny random BERT
// (vocab-model.ts). For each vocabulary:
//  - ids: every input of its .inp file tokenizes (add_special and parse_special off, as
//    test-tokenizer-0 does) to the ids of its .out file;
//  - offsets: the strict re-tokenisation check of offsets.test.ts (retokenize.ts) holds for every
//    token of every input, with the added special tokens on. Byte-level BPE splits characters it
//    has no single token for into fragments; as with SentencePiece byte fallback, the first
//    fragment covers the character, the others are empty at its end, and the run is checked whole.
//    Vocabularies with add_space_prefix (llama-spm, phi-3, nomic-bert-moe) are checked by words,
//    as WordPiece is, since "ed" alone would tokenize as "▁ed";
//  - pieces (all but WordPiece, whose pieces are folded): each token's range is its piece, less
//    the leading spaces the range leaves out; for UGM the ranges the charsmap rewrote are counted.
//  - upstream: every input tokenizes to the ids llama.cpp built without ctxembed's patches gives
//    (llama-probe.cpp on the pinned source, scripts/reference/upstream-llama.ts), also for the
//    vocabularies without an .out file of their own.
// nomic-bert-moe (UGM) comes without .inp/.out: its offsets are checked on bert-bge's inputs, and
// only upstream's ids are expected of it. gemma-4's vocabulary has "\ufeff//" beside "//": it is here because the
// GGUF reader keeps a leading U+FEFF (dropping it made duplicate tokens, and llama.cpp abort).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, type EmbeddingModel } from "../../../lib/embedding/embedding-model.js";
import { nativeAddon, type NativeModel } from "../../../lib/native/addon.js";
import { llamaProbe, probeTokens } from "../llama-tools.js";
import {
  expectWellFormed,
  report,
  sentencepieceChecks,
  spacePrefixChecks,
  tally,
  tokenizeAndAlign,
  wordpieceChecks,
} from "./retokenize.js";
import { vocabularyCases, vocabularyModel, type VocabularyCase } from "./vocab-model.js";
import { whereApplicable } from "../../skips.js";

interface Vocabulary {
  family: "WPM" | "SPM" | "BPE" | "UGM";
  name: string;
  /** vocabulary whose .inp the inputs come from, when this one has none (then no ids are expected) */
  inputsFrom?: string;
  /** add_space_prefix: the tokenizer spells "ed" alone as "▁ed", so the check goes by words (spacePrefixChecks) */
  spacePrefix?: boolean;
  /**
   * UGM's precompiled charsmap rewrites text (½ → 1⁄2, U+200D → "▁"), which offsets.ts does not
   * replicate: those tokens' ranges come from its resynchronisation and are not their piece.
   */
  charsmap?: boolean;
}

const VOCABULARIES: readonly Vocabulary[] = [
  { family: "WPM", name: "bert-bge" },
  { family: "SPM", name: "llama-spm", spacePrefix: true },
  { family: "SPM", name: "phi-3", spacePrefix: true },
  { family: "BPE", name: "gpt-2" },
  { family: "BPE", name: "llama-bpe" },
  { family: "BPE", name: "qwen2" },
  { family: "BPE", name: "falcon" },
  { family: "BPE", name: "deepseek-coder" },
  { family: "BPE", name: "deepseek-llm" },
  { family: "BPE", name: "starcoder" },
  { family: "BPE", name: "refact" },
  { family: "BPE", name: "mpt" },
  { family: "BPE", name: "command-r" },
  { family: "BPE", name: "qwen35" },
  { family: "BPE", name: "gemma-4" },
  // no .inp/.out of their own: offsets on bert-bge's inputs only
  { family: "SPM", name: "baichuan", inputsFrom: "bert-bge", spacePrefix: true },
  { family: "BPE", name: "aquila", inputsFrom: "bert-bge" },
  { family: "BPE", name: "gpt-neox", inputsFrom: "bert-bge" },
  { family: "UGM", name: "nomic-bert-moe", inputsFrom: "bert-bge", spacePrefix: true, charsmap: true },
];

const VOCABULARY_TYPES = { WPM: "wpm", SPM: "spm", BPE: "bpe", UGM: "ugm" } as const;

/**
 * Tokens whose range is not their piece less the leading spaces it leaves out ("▁" in the text
 * reads as a space). A first piece of spaces only may hold the prefix space the tokenizer added.
 */
function pieceMismatches({ text, spans, pieceSpaces }: ReturnType<typeof tokenizeAndAlign>): string[] {
  const firstText = spans.findIndex((span) => !span.special);
  return spans.flatMap((span, i) => {
    if (span.special || span.text === "" || span.start === span.end) return [];
    const slice = text.slice(span.start, span.end).replaceAll("▁", " ");
    const spaces = pieceSpaces[i] ?? "";
    const onlySpaces = spaces === span.text;
    const piece = onlySpaces || slice.startsWith(spaces) ? span.text : span.text.slice(spaces.length);
    const matches = slice === piece || (onlySpaces && i === firstText && ` ${slice}` === piece);
    return matches
      ? []
      : [`${JSON.stringify(text)} token ${i}: ${JSON.stringify(slice)}, piece ${JSON.stringify(piece)}`];
  });
}

let upstreamProbe: string;
beforeAll(async () => {
  upstreamProbe = await llamaProbe("upstream");
}, 1_800_000);

describe.each(VOCABULARIES)("$family $name", ({ family, name, inputsFrom, spacePrefix, charsmap }) => {
  /** the library's model, whose tokenize is under test; the addon's, which the strict check re-tokenizes with */
  let library: EmbeddingModel;
  let model: NativeModel;
  let path: string;
  let cases: VocabularyCase[];
  /** the one line this vocabulary prints: what each check found */
  const found: string[] = [];
  /** the library's ids, add_special off; "" has none (the library refuses it, a TypeError, docs/api.md) */
  const ids = (text: string): number[] =>
    text === ""
      ? Array.from(model.tokenize(text, false, false))
      : library.tokenize(text, { addSpecial: false }).map((span) => span.id);
  beforeAll(async () => {
    ({ path } = await vocabularyModel(name));
    library = await loadModel(path);
    model = await nativeAddon().loadModel(path, { gpuLayers: 0, useMmap: true, repackWeights: false });
    cases = await vocabularyCases(inputsFrom ?? name);
  });
  afterAll(async () => {
    model?.dispose();
    await library?.dispose();
    process.stderr.write(
      `[families] ${family} ggml-vocab-${name}.gguf: ${cases?.length ?? 0} inputs, ${found.join(", ")}\n`,
    );
  });

  it(`is a ${family} vocabulary`, () => {
    expect(model.metadata().vocabularyType).toBe(VOCABULARY_TYPES[family]);
  });

  it("tokenizes every input to the ids of upstream llama.cpp (unpatched)", () => {
    const texts = cases.map(({ text }) => text);
    const upstream = probeTokens(upstreamProbe, path, texts);
    const mismatches = texts.filter((text, i) => ids(text).join() !== upstream[i]!.join());
    found.push(`${mismatches.length} id mismatches with upstream`);
    expect(mismatches).toEqual([]);
  });

  whereApplicable(
    inputsFrom === undefined
      ? undefined
      : `llama.cpp ships no .inp/.out of ${name}'s own: its ids for ${inputsFrom}'s inputs are unknown`,
  ).it("tokenizes every .inp input to llama.cpp's ids in the .out file", () => {
    const mismatches = cases.filter(({ text, expected }) => ids(text).join() !== expected.join());
    found.push(`${mismatches.length} id mismatches`);
    expect(mismatches.map(({ text }) => text)).toEqual([]);
  });

  it("gives every token of every input a range that tokenizes back to it (the strict check)", () => {
    // the check runs on the addon and alignTokens, which is what the library's tokenize returns
    for (const { text } of cases.filter(({ text }) => text !== "")) {
      expect(library.tokenize(text)).toEqual(tokenizeAndAlign(model, text).spans);
    }
    const result = tally(
      model,
      cases.map(({ text }) => text),
      family === "WPM" ? wordpieceChecks : spacePrefix ? spacePrefixChecks : sentencepieceChecks,
      { emptySpaces: charsmap },
    );
    found.push(`${result.tokens} tokens, ${result.strictFailures.length} strict offset failures`);
    report(`${family} ${name}`, result);
    expect(result.strictFailures).toEqual([]);
  });

  // WordPiece pieces are folded (lowercase, no accents), so only the strict check speaks for them.
  whereApplicable(
    family === "WPM" ? "WordPiece pieces are folded (lowercase, no accents), not the text" : undefined,
  ).it(
    `gives each token its piece as its range${charsmap ? ", except where the charsmap rewrote the text (counted)" : ""}`,
    () => {
      const mismatches = cases.flatMap(({ text }) => {
        const tokenized = tokenizeAndAlign(model, text);
        expectWellFormed(tokenized, { emptySpaces: charsmap });
        return pieceMismatches(tokenized);
      });
      found.push(`${mismatches.length} ranges not their piece`);
      for (const mismatch of mismatches.slice(0, 10)) process.stderr.write(`[families]   ${mismatch}\n`);
      if (!charsmap) expect(mismatches).toEqual([]);
    },
  );
});
