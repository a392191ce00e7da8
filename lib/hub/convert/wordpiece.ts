// A WordPiece tokenizer that reproduces Hugging Face `tokenizers` (BertNormalizer, BertPreTokenizer,
// WordPiece) closely enough to identify a vocabulary the way llama.cpp's converter does: by hashing
// the ids of a fixed probe text. Added-token matching is not modelled; the probe text contains none.

export interface BertNormalizerOptions {
  cleanText: boolean;
  handleChineseChars: boolean;
  /** null: strip accents exactly when lowercasing, as BertNormalizer does */
  stripAccents: boolean | null;
  lowercase: boolean;
}

export interface WordPieceOptions {
  vocabulary: ReadonlyMap<string, number>;
  unknownToken: string;
  continuingSubwordPrefix: string;
  maxInputCharsPerWord: number;
  normalizer: BertNormalizerOptions;
  /** ids added around the sequence by the post-processor, e.g. [CLS] ... [SEP] */
  prefixIds: readonly number[];
  suffixIds: readonly number[];
}

const CONTROL = /\p{C}/u;
const WHITESPACE = /\p{White_Space}/u;
const NONSPACING_MARK = /\p{Mn}/gu;
const PUNCTUATION = /[!-/:-@[-`{-~]|\p{P}/u;

// CJK ideograph blocks, as in BERT's tokenizer (_is_chinese_char).
const CJK_RANGES: readonly (readonly [number, number])[] = [
  [0x4e00, 0x9fff],
  [0x3400, 0x4dbf],
  [0x20000, 0x2a6df],
  [0x2a700, 0x2b73f],
  [0x2b740, 0x2b81f],
  [0x2b820, 0x2ceaf],
  [0xf900, 0xfaff],
  [0x2f800, 0x2fa1f],
];

function isCjk(codePoint: number): boolean {
  return CJK_RANGES.some(([first, last]) => codePoint >= first && codePoint <= last);
}

export function normalizeBertText(text: string, options: BertNormalizerOptions): string {
  let chars = Array.from(text);
  if (options.cleanText) {
    chars = chars
      .filter((c) => c !== "\u0000" && c !== "\ufffd" && (c === "\t" || c === "\n" || c === "\r" || !CONTROL.test(c)))
      .map((c) => (WHITESPACE.test(c) ? " " : c));
  }
  if (options.handleChineseChars) {
    chars = chars.flatMap((c) => (isCjk(c.codePointAt(0) ?? 0) ? [" ", c, " "] : [c]));
  }
  let normalized = chars.join("");
  if (options.stripAccents ?? options.lowercase) {
    normalized = normalized.normalize("NFD").replace(NONSPACING_MARK, "");
  }
  if (options.lowercase) {
    // Per code point, like Rust's char::to_lowercase: no context-dependent final sigma.
    normalized = Array.from(normalized, (c) => c.toLowerCase()).join("");
  }
  return normalized;
}

/** Splits on whitespace (dropped) and punctuation (kept as single-character words). */
export function splitBertWords(text: string): string[] {
  const words: string[] = [];
  let current = "";
  for (const c of text) {
    if (WHITESPACE.test(c) || PUNCTUATION.test(c)) {
      if (current !== "") words.push(current);
      current = "";
      if (!WHITESPACE.test(c)) words.push(c);
    } else {
      current += c;
    }
  }
  if (current !== "") words.push(current);
  return words;
}

export class WordPieceTokenizer {
  private readonly unknownId: number;

  constructor(private readonly options: WordPieceOptions) {
    const unknownId = options.vocabulary.get(options.unknownToken);
    if (unknownId === undefined) throw new Error(`the unknown token ${options.unknownToken} is not in the vocabulary`);
    this.unknownId = unknownId;
  }

  encode(text: string): number[] {
    const words = splitBertWords(normalizeBertText(text, this.options.normalizer));
    return [...this.options.prefixIds, ...words.flatMap((word) => this.encodeWord(word)), ...this.options.suffixIds];
  }

  /** Greedy longest-match-first; a word with any unmatched piece becomes a single unknown token. */
  private encodeWord(word: string): number[] {
    const { vocabulary, continuingSubwordPrefix, maxInputCharsPerWord } = this.options;
    const chars = Array.from(word);
    if (chars.length > maxInputCharsPerWord) return [this.unknownId];
    const ids: number[] = [];
    for (let start = 0; start < chars.length; ) {
      let end = chars.length;
      let matchId: number | undefined;
      for (; end > start; end--) {
        const piece = (start > 0 ? continuingSubwordPrefix : "") + chars.slice(start, end).join("");
        matchId = vocabulary.get(piece);
        if (matchId !== undefined) break;
      }
      if (matchId === undefined) return [this.unknownId];
      ids.push(matchId);
      start = end;
    }
    return ids;
  }
}
