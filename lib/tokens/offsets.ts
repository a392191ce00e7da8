// Character offsets for llama.cpp tokens. llama.cpp returns token ids only; this module finds
// where each token's piece stands in the original string, in one left-to-right pass.
//
// The text and the pieces are both turned into sequences of comparable units, and each piece is
// matched at a cursor that only moves forward:
//  - SentencePiece, BPE and the others: UTF-8 bytes. Their tokenizers do not normalise (beyond
//    SentencePiece's " " → "▁", which token_to_piece undoes), so a piece is the input's bytes
//    exactly; a byte-fallback piece (<0xNN>) or a byte-level BPE piece may hold part of a character.
//  - WordPiece: code points folded the way llama.cpp's WPM preprocess does (first code point of
//    the NFD decomposition, accent marks, control characters, U+0000 and U+FFFD dropped, simple
//    lowercase). The same folding is applied to the pieces, so cased and uncased vocabularies
//    align alike. Dropped characters (combining marks, ZWJ, variation selectors) join the unit
//    before them in the same word, or the one after when they begin a word.
// Each unit remembers the UTF-16 range of the character it came from, so a token's range is the
// characters of the units it matched. A character whose units are spread over several tokens
// belongs to the first of them; the later ones get an empty range at its end.
// Where a piece cannot be found (normalisation this module does not replicate, such as UGM's
// charsmap, or Unicode tables of another version), Aligner.resynchronise takes over for that token.

export interface TokenSpan {
  id: number;
  /** the token's piece as llama_token_to_piece gives it; "" for a piece that is not whole UTF-8 (a byte fragment) */
  text: string;
  /** UTF-16 index into the original input where the token's text starts */
  start: number;
  /** UTF-16 index into the original input where the token's text ends, exclusive */
  end: number;
  /** a control token the tokenizer added ([CLS], [SEP], <bos>, <eos>): it covers no text */
  special: boolean;
}

export interface TokenPieces {
  bytes: Uint8Array;
  /** piece i is bytes[ends[i - 1] ?? 0, ends[i]) */
  ends: Uint32Array;
}

/** llama_token_attr bits */
const UNKNOWN_ATTRIBUTE = 1 << 0;
const CONTROL_ATTRIBUTE = 1 << 3;

/** How far ahead (in units) the fallback looks for the next token; it bounds the work per mismatch. */
const RESYNC_WINDOW = 64;

const SPACE_UNIT = 0x20;
/** SentencePiece's space marker "▁": token_to_piece renders it as a space, and a literal one in the text tokenizes like one. */
const SPACE_MARKER = 0x2581;

/**
 * unit flag: whitespace, which starts a token's range only when the token is whitespace alone
 * ("▁" too where SentencePiece reads it as a space; to WordPiece and BPE it is a character)
 */
const SPACE_FLAG = 1;
/** unit flag: the unit begins a word of llama.cpp's WordPiece pre-split */
const WORD_START_FLAG = 2;

/**
 * Finds the range of the original `text` that each token covers. `ids`, `pieces` and `attributes`
 * come from the model (tokenize with parseSpecial = false, tokenPieces, tokenAttributes).
 *
 * Ranges are ordered, do not overlap, lie within the text and never split a surrogate pair. A
 * piece's leading spaces are not part of its range, unless the token is only whitespace.
 */
export function alignTokens(
  text: string,
  ids: Int32Array,
  pieces: TokenPieces,
  attributes: Uint32Array,
  vocabularyType: string,
): TokenSpan[] {
  if (pieces.ends.length !== ids.length || attributes.length !== ids.length) {
    throw new RangeError(
      `alignTokens needs one piece and one attribute set per token: ${ids.length} ids, ${pieces.ends.length} pieces, ${attributes.length} attributes`,
    );
  }
  const wordpiece = vocabularyType === "wpm";
  // SentencePiece-family tokenizers write spaces as "▁", so to them a literal "▁" is a space.
  const readsMarkerAsSpace = vocabularyType === "spm" || vocabularyType === "ugm";
  return new Aligner(
    text,
    ids,
    wordpiece ? wordpieceTextUnits(text) : byteTextUnits(text, readsMarkerAsSpace),
    readPieces(
      ids,
      pieces,
      wordpiece ? wordpiecePieceUnits : (_text, bytes) => bytePieceUnits(bytes, readsMarkerAsSpace),
    ),
    tokenRoles(ids, attributes, wordpiece),
    wordpiece,
  ).align();
}

const Role = { Text: 0, Special: 1, Unknown: 2 } as const;
type Role = (typeof Role)[keyof typeof Role];

/**
 * Control tokens are the ones the tokenizer added, with one exception: converters type BERT's
 * [UNK] CONTROL, not UNKNOWN (so does this project's converter), and llama.cpp's WordPiece emits
 * it for every word it cannot spell. WordPiece adds control tokens only as [CLS] first and [SEP]
 * last, both or neither, and they differ; so there a control token is an added one only at the
 * ends of a sequence that starts and ends with two different control tokens, and an [UNK] anywhere else.
 */
function tokenRoles(ids: Int32Array, attributes: Uint32Array, wordpiece: boolean): Role[] {
  const last = ids.length - 1;
  const isControl = (i: number): boolean => ((attributes[i] ?? 0) & CONTROL_ATTRIBUTE) !== 0;
  const hasAddedEnds = last > 0 && isControl(0) && isControl(last) && ids[0] !== ids[last];
  return Array.from(attributes, (attribute, i): Role => {
    if (attribute & UNKNOWN_ATTRIBUTE) return Role.Unknown;
    if (!(attribute & CONTROL_ATTRIBUTE)) return Role.Text;
    if (!wordpiece) return Role.Special;
    return hasAddedEnds && (i === 0 || i === last) ? Role.Special : Role.Unknown;
  });
}

/** The text as comparable units, each with the UTF-16 range of the character it stands for. */
class TextUnits {
  readonly values: Int32Array;
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  readonly flags: Uint8Array;
  length = 0;

  constructor(capacity: number) {
    this.values = new Int32Array(capacity);
    this.starts = new Int32Array(capacity);
    this.ends = new Int32Array(capacity);
    this.flags = new Uint8Array(capacity);
  }

  push(value: number, start: number, end: number, flags: number): void {
    const k = this.length++;
    this.values[k] = value;
    this.starts[k] = start;
    this.ends[k] = end;
    this.flags[k] = flags;
  }

  hasFlag(k: number, flag: number): boolean {
    return ((this.flags[k] ?? 0) & flag) !== 0;
  }
}

interface Piece {
  /** as llama_token_to_piece gives it, "" for a byte fragment */
  text: string;
  /** to compare with the text's units */
  units: Int32Array;
}

/** Each token's piece, read once per distinct id: pieces come from the vocabulary and repeat a lot. */
function readPieces(
  ids: Int32Array,
  pieces: TokenPieces,
  toUnits: (text: string, bytes: Uint8Array) => Int32Array,
): Piece[] {
  const byId = new Map<number, Piece>();
  return Array.from(ids, (id, i) => {
    let piece = byId.get(id);
    if (!piece) {
      const bytes = pieces.bytes.subarray(pieces.ends[i - 1] ?? 0, pieces.ends[i]);
      const text = isWholeUtf8(bytes) ? utf8.decode(bytes) : "";
      piece = { text, units: toUnits(text, bytes) };
      byId.set(id, piece);
    }
    return piece;
  });
}

interface Match {
  /** first unit the token consumed */
  first: number;
  /** unit after the last one it consumed */
  end: number;
}

class Aligner {
  private cursor = 0;
  /** UTF-16 end of the text already given to tokens */
  private claimed = 0;
  /** for each token, the next one with a piece to match (-1 if none), where the fallback resumes */
  private readonly nextTextToken: Int32Array;

  constructor(
    private readonly text: string,
    private readonly ids: Int32Array,
    private readonly units: TextUnits,
    private readonly pieces: Piece[],
    private readonly roles: Role[],
    private readonly wordpiece: boolean,
  ) {
    this.nextTextToken = new Int32Array(roles.length);
    let next = -1;
    for (let i = roles.length - 1; i >= 0; i--) {
      this.nextTextToken[i] = next;
      if (roles[i] === Role.Text) next = i;
    }
  }

  align(): TokenSpan[] {
    const lastTextToken = this.roles.findLastIndex((role) => role !== Role.Special);
    return Array.from(this.ids, (id, i) => {
      const text = this.pieces[i]?.text ?? "";
      if (this.roles[i] === Role.Special) {
        const position = i > lastTextToken ? this.text.length : this.claimed;
        return { id, text, start: position, end: position, special: true };
      }
      const match = this.matchToken(i);
      this.cursor = match.end;
      const [start, end] = this.claim(match);
      return { id, text, start, end, special: false };
    });
  }

  private matchToken(i: number): Match {
    const role = this.roles[i];
    if (role === Role.Unknown && this.wordpiece) return this.unknownWord(i);
    return (role === Role.Text ? this.matchPiece(i, this.cursor) : undefined) ?? this.resynchronise(i);
  }

  /**
   * Matches piece `token` at unit `at`. Leading spaces of the piece that the text lacks are
   * skipped (SentencePiece's added prefix, WordPiece's word marker), and so is whitespace in the
   * text that no piece claims. The token's text starts after the piece's leading spaces and any
   * whitespace, unless the piece is only whitespace. Unclaimed whitespace is looked through up to
   * `skipLimit`, which keeps the fallback's search bounded.
   */
  private matchPiece(token: number, at: number, skipLimit = this.units.length): Match | undefined {
    const { values, length } = this.units;
    const piece = this.pieces[token]?.units ?? new Int32Array();
    const pieceEnd = piece.length;
    let p = 0;
    let t = at;
    while (p < pieceEnd && piece[p] === SPACE_UNIT && t < length && values[t] === SPACE_UNIT) {
      p++;
      t++;
    }
    while (p < pieceEnd && piece[p] === SPACE_UNIT) p++;
    if (p === pieceEnd) return { first: at, end: t };
    while (t < skipLimit && this.units.hasFlag(t, SPACE_FLAG) && values[t] !== piece[p]) t++;
    const core = t;
    for (; p < pieceEnd; p++, t++) {
      if (t >= length || values[t] !== piece[p]) return undefined;
    }
    return { first: this.firstNonSpace(core, t) ?? at, end: t };
  }

  /**
   * A WordPiece [UNK] stands for one whole word of the tokenizer's pre-split. Where the next
   * token's piece does not match after that word, our pre-split has cut where llama.cpp's did not
   * (its Unicode 15.1 tables see no punctuation or mark in a character that JavaScript's newer ones
   * do); then the [UNK] takes the following words up to where the next token matches, without
   * crossing whitespace, which always ends a word.
   */
  private unknownWord(token: number): Match {
    const { units } = this;
    let first = this.cursor;
    while (first < units.length && units.hasFlag(first, SPACE_FLAG)) first++;
    const searchEnd = Math.min(first + RESYNC_WINDOW, units.length);
    const wordEnd = this.wordEnd(first, units.length);
    const next = token + 1;
    if (this.roles[next] !== Role.Text || this.matchPiece(next, wordEnd, searchEnd)) return { first, end: wordEnd };
    for (let end = wordEnd; end < searchEnd && !units.hasFlag(end, SPACE_FLAG); ) {
      end = this.wordEnd(end, searchEnd);
      if (this.matchPiece(next, end, searchEnd)) return { first, end };
    }
    return { first, end: wordEnd };
  }

  /** End of the pre-split word that starts at unit `start`, looking no further than `limit` */
  private wordEnd(start: number, limit: number): number {
    let end = Math.min(start + 1, limit);
    while (end < limit && !this.units.hasFlag(end, SPACE_FLAG | WORD_START_FLAG)) end++;
    return end;
  }

  /**
   * Fallback for a piece that is not found at the cursor, which happens where our folding and
   * llama.cpp's tables disagree (a character of a newer Unicode version, UGM's charsmap rewrites,
   * which are not replicated here) and for unknown tokens outside WordPiece. The token takes the
   * text up to where the next token's piece is found within RESYNC_WINDOW units (so the pass stays
   * linear); failing that, as many units as its piece has, on the guess that the normalisation
   * was one to one. Either way the cursor only moves forward, so ranges stay ordered, and the next
   * token resumes exact matching from there.
   */
  private resynchronise(token: number): Match {
    const searchEnd = Math.min(this.cursor + RESYNC_WINDOW, this.units.length);
    let end = Math.min(this.cursor + (this.pieces[token]?.units.length ?? 0), this.units.length);
    const anchor = this.nextTextToken[token] ?? -1;
    for (let at = this.cursor + 1; anchor >= 0 && at <= searchEnd; at++) {
      if (this.matchPiece(anchor, at, searchEnd)) {
        end = at;
        break;
      }
    }
    return { first: this.firstNonSpace(this.cursor, end) ?? this.cursor, end };
  }

  private firstNonSpace(from: number, end: number): number | undefined {
    for (let k = from; k < end; k++) if (!this.units.hasFlag(k, SPACE_FLAG)) return k;
    return undefined;
  }

  /** Turns matched units into a UTF-16 range, giving each character to the first token that reaches it. */
  private claim({ first, end }: Match): [number, number] {
    if (first >= end) return [this.claimed, this.claimed];
    const start = Math.max(this.units.starts[first] ?? 0, this.claimed);
    this.claimed = Math.max(this.units.ends[end - 1] ?? 0, start);
    return [start, this.claimed];
  }
}

/**
 * Calls `visit` with each code point of `text` and its UTF-16 range. A lone surrogate reads as
 * U+FFFD, which is what llama.cpp receives for it.
 */
function forEachCodePoint(text: string, visit: (codePoint: number, start: number, end: number) => void): void {
  for (let i = 0; i < text.length; ) {
    const codePoint = text.codePointAt(i) ?? 0;
    const width = codePoint > 0xffff ? 2 : 1;
    visit(codePoint >= 0xd800 && codePoint <= 0xdfff ? 0xfffd : codePoint, i, i + width);
    i += width;
  }
}

/** llama.cpp's whitespace set (unicode-data.cpp, the White_Space property) */
const WHITESPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006,
  0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);

function byteTextUnits(text: string, readsMarkerAsSpace: boolean): TextUnits {
  const units = new TextUnits(Buffer.byteLength(text));
  forEachCodePoint(text, (codePoint, start, end) => {
    if (readsMarkerAsSpace && codePoint === SPACE_MARKER) return units.push(SPACE_UNIT, start, end, SPACE_FLAG);
    const flags = WHITESPACE.has(codePoint) ? SPACE_FLAG : 0;
    pushUtf8(codePoint, (byte) => units.push(byte, start, end, flags));
  });
  return units;
}

/** UTF-8 lead byte marker by the number of continuation bytes */
const UTF8_LEAD = [0x00, 0xc0, 0xe0, 0xf0] as const;

function pushUtf8(codePoint: number, push: (byte: number) => void): void {
  const continuationCount = codePoint < 0x80 ? 0 : codePoint < 0x800 ? 1 : codePoint < 0x10000 ? 2 : 3;
  push(UTF8_LEAD[continuationCount] | (codePoint >> (6 * continuationCount)));
  for (let k = continuationCount - 1; k >= 0; k--) push(0x80 | ((codePoint >> (6 * k)) & 0x3f));
}

/** The piece bytes as they are, except that a SentencePiece "▁" (E2 96 81), which user-defined pieces keep, reads as the space it stands for. */
function bytePieceUnits(bytes: Uint8Array, readsMarkerAsSpace: boolean): Int32Array {
  const units = new Int32Array(bytes.length);
  let length = 0;
  for (let b = 0; b < bytes.length; b++) {
    const isMarker = readsMarkerAsSpace && bytes[b] === 0xe2 && bytes[b + 1] === 0x96 && bytes[b + 2] === 0x81;
    units[length++] = isMarker ? SPACE_UNIT : (bytes[b] ?? 0);
    if (isMarker) b += 2;
  }
  return units.subarray(0, length);
}

/** What llama.cpp's WordPiece preprocess does with a code point */
const CharacterKind = {
  /** control characters, U+0000, U+FFFD and accent marks: removed */
  Dropped: 0,
  /** breaks words and is removed */
  Whitespace: 1,
  /** "▁": part of a word for the pre-split, but it matches the space a vocabulary entry's "▁" renders as */
  SpaceMarker: 2,
  /** punctuation, ASCII symbols and CJK ideographs: a word on its own */
  Isolated: 3,
  Word: 4,
} as const;
type CharacterKind = (typeof CharacterKind)[keyof typeof CharacterKind];

interface WordpieceCharacter {
  kind: CharacterKind;
  /** the code point after llama.cpp's NFD and lowercasing */
  folded: number;
}

const MARK = /\p{M}/u;
const CONTROL = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}]/u;
const PUNCTUATION = /\p{P}/u;
const SYMBOL = /\p{S}/u;

/** Classification per code point; a text reuses few distinct characters, so it is computed once each. */
const wordpieceCharacters = new Map<number, WordpieceCharacter>();

function wordpieceCharacter(codePoint: number): WordpieceCharacter {
  let known = wordpieceCharacters.get(codePoint);
  if (!known) {
    known = classifyForWordpiece(codePoint);
    wordpieceCharacters.set(codePoint, known);
  }
  return known;
}

/** Mirrors llm_tokenizer_wpm_session::preprocess for one code point (with lowercasing and accent stripping on). */
function classifyForWordpiece(codePoint: number): WordpieceCharacter {
  if (codePoint === SPACE_MARKER) return { kind: CharacterKind.SpaceMarker, folded: SPACE_UNIT };
  // llama.cpp's NFD table maps each code point to the first code point of its decomposition.
  const base = String.fromCodePoint(codePoint).normalize("NFD").codePointAt(0) ?? codePoint;
  const character = String.fromCodePoint(base);
  if (WHITESPACE.has(base)) return { kind: CharacterKind.Whitespace, folded: SPACE_UNIT };
  if (base === 0 || base === 0xfffd || CONTROL.test(character) || MARK.test(character)) {
    return { kind: CharacterKind.Dropped, folded: base };
  }
  // Simple (one code point) lowercase, as UnicodeData.txt gives it; only U+0130 lowercases to two
  // code points in JavaScript, and it never gets here (NFD made it "I").
  const folded = character.toLowerCase().codePointAt(0) ?? base;
  const isolated = PUNCTUATION.test(character) || (base < 0x7f && SYMBOL.test(character)) || isChineseCharacter(base);
  return { kind: isolated ? CharacterKind.Isolated : CharacterKind.Word, folded };
}

/** llm_tokenizer_wpm_session::is_chinese_char */
function isChineseCharacter(codePoint: number): boolean {
  return (
    (codePoint >= 0x4e00 && codePoint <= 0x9fff) ||
    (codePoint >= 0x3400 && codePoint <= 0x4dbf) ||
    (codePoint >= 0x20000 && codePoint <= 0x2a6df) ||
    (codePoint >= 0x2a700 && codePoint <= 0x2b73f) ||
    (codePoint >= 0x2b740 && codePoint <= 0x2b81f) ||
    (codePoint >= 0x2b920 && codePoint <= 0x2ceaf) ||
    (codePoint >= 0xf900 && codePoint <= 0xfaff) ||
    (codePoint >= 0x2f800 && codePoint <= 0x2fa1f)
  );
}

function wordpieceTextUnits(text: string): TextUnits {
  const units = new TextUnits(text.length);
  /** unit that dropped characters attach to, -1 at the start of a word */
  let lastInWord = -1;
  /** start of dropped characters that begin a word, waiting for its first unit */
  let pendingStart = -1;
  let nextStartsWord = true;
  forEachCodePoint(text, (codePoint, start, end) => {
    const { kind, folded } = wordpieceCharacter(codePoint);
    if (kind === CharacterKind.Dropped) {
      if (lastInWord >= 0) units.ends[lastInWord] = end;
      else if (pendingStart < 0) pendingStart = start;
      return;
    }
    if (kind === CharacterKind.Whitespace) {
      units.push(SPACE_UNIT, start, end, SPACE_FLAG);
      lastInWord = -1;
      pendingStart = -1;
      nextStartsWord = true;
      return;
    }
    const startsWord = nextStartsWord || kind === CharacterKind.Isolated;
    units.push(folded, pendingStart >= 0 ? pendingStart : start, end, startsWord ? WORD_START_FLAG : 0);
    lastInWord = units.length - 1;
    pendingStart = -1;
    nextStartsWord = kind === CharacterKind.Isolated;
  });
  return units;
}

/** A piece folded like the text, so that a cased vocabulary compares as an uncased one would. */
function wordpiecePieceUnits(text: string): Int32Array {
  const units: number[] = [];
  forEachCodePoint(text, (codePoint) => {
    const { kind, folded } = wordpieceCharacter(codePoint);
    if (kind !== CharacterKind.Dropped) units.push(folded);
  });
  return Int32Array.from(units);
}

/** ignoreBOM: a piece's leading U+FEFF is a character of the vocabulary, which the default decoder would drop */
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/** Whether the bytes are whole UTF-8 characters (a byte-fallback or byte-level fragment is not). */
function isWholeUtf8(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; ) {
    const lead = bytes[i] ?? 0;
    const length = lead < 0x80 ? 1 : lead < 0xc2 ? 0 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : lead < 0xf5 ? 4 : 0;
    if (length === 0 || i + length > bytes.length) return false;
    for (let k = i + 1; k < i + length; k++) {
      if (((bytes[k] ?? 0) & 0xc0) !== 0x80) return false;
    }
    i += length;
  }
  return true;
}
