import { createHash } from "node:crypto";
import { join } from "node:path";

import { isJsonObject, readOptionalJsonObject, readOptionalText, type JsonObject } from "../../util/json-files.js";
import { WordPieceTokenizer, type BertNormalizerOptions } from "./wordpiece.js";

/** llama_token_type values. */
export const TokenType = {
  NORMAL: 1,
  UNKNOWN: 2,
  CONTROL: 3,
  USER_DEFINED: 4,
  UNUSED: 5,
  BYTE: 6,
} as const;

/** The tokenizer description files of a Hugging Face checkpoint, each undefined when absent. */
export interface TokenizerFiles {
  directory: string;
  tokenizerJson?: JsonObject;
  tokenizerConfig?: JsonObject;
  specialTokensMap?: JsonObject;
  vocabTxt?: string;
}

export async function loadTokenizerFiles(directory: string): Promise<TokenizerFiles> {
  const [tokenizerJson, tokenizerConfig, specialTokensMap, vocabTxt] = await Promise.all([
    readOptionalJsonObject(join(directory, "tokenizer.json")),
    readOptionalJsonObject(join(directory, "tokenizer_config.json")),
    readOptionalJsonObject(join(directory, "special_tokens_map.json")),
    readOptionalText(join(directory, "vocab.txt")),
  ]);
  return { directory, tokenizerJson, tokenizerConfig, specialTokensMap, vocabTxt };
}

export interface GgufVocabulary {
  /** token texts in llama.cpp's phantom-space convention */
  tokens: string[];
  tokenTypes: number[];
  /** tokenizer.ggml.pre as llama.cpp's converter names it; undefined when the vocabulary is not one it knows */
  preTokenizer: string | undefined;
}

/**
 * Builds the vocabulary llama.cpp's converter writes for a WordPiece (BERT) tokenizer: the
 * Hugging Face vocabulary padded to `vocabSize`, added special tokens typed CONTROL, and every
 * other token rewritten to the phantom-space form ("##ing" -> "ing", "play" -> "\u2581play").
 */
export function buildWordPieceVocabulary(files: TokenizerFiles, vocabSize: number): GgufVocabulary {
  const modelVocabulary = readWordPieceVocabulary(files);
  const addedTokens = collectAddedTokens(files, modelVocabulary);
  const vocabulary = new Map(modelVocabulary);
  for (const [id, { content }] of addedTokens) vocabulary.set(content, id);

  const textById = new Map<number, string>();
  for (const [text, id] of vocabulary) {
    if (id >= vocabSize) {
      throw new Error(
        `${files.directory}: the tokenizer has token id ${id} (${JSON.stringify(text)}) but config.json vocab_size is ${vocabSize}`,
      );
    }
    textById.set(id, text);
  }

  const tokens: string[] = [];
  const tokenTypes: number[] = [];
  for (let id = 0; id < vocabSize; id++) {
    const text = textById.get(id);
    const added = addedTokens.get(id);
    if (text === undefined) {
      tokens.push(`[PAD${id}]`);
      tokenTypes.push(TokenType.UNUSED);
    } else if (added !== undefined && added.content === text) {
      const control = added.special || looksSpecial(text);
      // llama.cpp expects user-defined tokens with real spaces rather than the "\u2581" marker.
      tokens.push(control ? text : text.replaceAll("\u2581", " "));
      tokenTypes.push(control ? TokenType.CONTROL : TokenType.USER_DEFINED);
    } else {
      tokens.push(text);
      tokenTypes.push(TokenType.NORMAL);
    }
  }
  return {
    tokens: tokens.map((text, id) => toPhantomSpace(text, tokenTypes[id] as number)),
    tokenTypes,
    preTokenizer: identifyPreTokenizer(files, modelVocabulary),
  };
}

function toPhantomSpace(text: string, tokenType: number): string {
  if (tokenType === TokenType.CONTROL) return text;
  return text.startsWith("##") ? text.slice(2) : `\u2581${text}`;
}

function readWordPieceVocabulary(files: TokenizerFiles): Map<string, number> {
  const { tokenizerJson, vocabTxt, directory } = files;
  if (tokenizerJson !== undefined) {
    const model = tokenizerJson.model;
    if (!isJsonObject(model) || model.type !== "WordPiece" || !isJsonObject(model.vocab)) {
      const type = isJsonObject(model) ? String(model.type) : "missing";
      throw new Error(
        `${join(directory, "tokenizer.json")}: the tokenizer model is ${type}, not WordPiece as BERT needs`,
      );
    }
    const vocabulary = new Map<string, number>();
    for (const [text, id] of Object.entries(model.vocab)) {
      if (!Number.isSafeInteger(id) || (id as number) < 0) {
        throw new Error(
          `${join(directory, "tokenizer.json")}: token ${JSON.stringify(text)} has invalid id ${String(id)}`,
        );
      }
      vocabulary.set(text, id as number);
    }
    return vocabulary;
  }
  if (vocabTxt === undefined) {
    throw new Error(`${directory}: no tokenizer found: expected vocab.txt or tokenizer.json`);
  }
  // Python reads vocab.txt with universal newlines: one token per line, ids in line order.
  const lines = vocabTxt.split(/\r\n|\r|\n/);
  if (lines.at(-1) === "") lines.pop();
  return new Map(lines.map((text, id) => [text, id]));
}

interface AddedToken {
  content: string;
  special: boolean;
}

const SPECIAL_TOKEN_ROLES = ["unk", "sep", "pad", "cls", "mask"] as const;
const BERT_DEFAULT_SPECIAL_TOKENS: Record<(typeof SPECIAL_TOKEN_ROLES)[number], string> = {
  unk: "[UNK]",
  sep: "[SEP]",
  pad: "[PAD]",
  cls: "[CLS]",
  mask: "[MASK]",
};

/** The tokenizer's added tokens by id, as transformers' BertTokenizerFast registers them. */
function collectAddedTokens(files: TokenizerFiles, vocabulary: ReadonlyMap<string, number>): Map<number, AddedToken> {
  const added = new Map<number, AddedToken>();
  for (const entry of asArray(files.tokenizerJson?.added_tokens)) {
    if (isJsonObject(entry) && typeof entry.content === "string" && Number.isSafeInteger(entry.id)) {
      added.set(entry.id as number, { content: entry.content, special: entry.special === true });
    }
  }
  const decoder = files.tokenizerConfig?.added_tokens_decoder;
  if (isJsonObject(decoder)) {
    for (const [id, entry] of Object.entries(decoder)) {
      if (isJsonObject(entry) && typeof entry.content === "string") {
        added.set(Number(id), { content: entry.content, special: entry.special === true });
      }
    }
  }
  // transformers also registers the tokenizer's named special tokens, wherever they sit in the vocabulary.
  for (const content of namedSpecialTokens(files)) {
    const id = vocabulary.get(content);
    if (id !== undefined) added.set(id, { content, special: true });
  }
  return added;
}

function namedSpecialToken(files: TokenizerFiles, role: (typeof SPECIAL_TOKEN_ROLES)[number]): string {
  const key = `${role}_token`;
  return (
    tokenContent(files.specialTokensMap?.[key]) ??
    tokenContent(files.tokenizerConfig?.[key]) ??
    BERT_DEFAULT_SPECIAL_TOKENS[role]
  );
}

function namedSpecialTokens(files: TokenizerFiles): string[] {
  const additional = asArray(
    files.specialTokensMap?.additional_special_tokens ?? files.tokenizerConfig?.additional_special_tokens,
  );
  return [
    ...SPECIAL_TOKEN_ROLES.map((role) => namedSpecialToken(files, role)),
    ...additional.map(tokenContent).filter((content): content is string => content !== undefined),
  ];
}

/** A token given either as its text or as an AddedToken object ({"content": ...}). */
export function tokenContent(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (isJsonObject(value) && typeof value.content === "string") return value.content;
  return undefined;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Added tokens that some models fail to flag as special (llama.cpp's does_token_look_special). */
function looksSpecial(text: string): boolean {
  return (
    ["<pad>", "<mask>", "<2mass>", "[@BOS@]"].includes(text) ||
    (text.startsWith("<|") && text.endsWith("|>")) ||
    (text.startsWith("<\uff5c") && text.endsWith("\uff5c>")) ||
    (text.startsWith("<unused") && text.endsWith(">"))
  );
}

// llama.cpp's converter names a vocabulary's pre-tokenizer by hashing the ids the tokenizer gives
// this text (get_vocab_base_pre in conversion/base.py).
const PRE_TOKENIZER_PROBE =
  "\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n     \n\ud83d\ude80 (normal) \ud83d\ude36\u200d\ud83c\udf2b\ufe0f (multiple emojis concatenated) \u2705 \ud83e\udd99\ud83e\udd99 3 33 333 3333 33333 333333 3333333 33333333 3.3 3..3 3...3 \u1780\u17b6\u1793\u17cb\u178f\u17c2\u1796\u17b7\u179f\u17c1\u179f\u17a2\u17b6\u1785\ud83d\ude01 ?\u6211\u60f3\u5728apple\u5de5\u4f5c1314151\u5929\uff5e ------======= \u043d\u0435\u0449\u043e \u043d\u0430 \u0411\u044a\u043b\u0433\u0430\u0440\u0441\u043a\u0438 ''''''```````\"\"\"\"......!!!!!!?????? I've been 'told he's there, 'RE you sure? 'M not sure I'll make it, 'D you like some tea? We'Ve a'lL";

// The WordPiece entries of that table. Where a hash is listed twice the converter keeps the later name.
const WORDPIECE_PRE_TOKENIZERS: ReadonlyMap<string, string> = new Map([
  ["0876d13b50744004aa9aeae05e7b0647eac9d801b5ba4668afc01e709c15e19f", "jina-v2-en"],
  ["8e62295832751ca1e8f92f2226f403dea30dc5165e448b5bfa05af5340c64ec7", "bert-bge-large"],
  ["c7699093ba4255a91e702aa38a596aa81669f3525dae06c2953267dde580f448", "jina-v1-en"],
]);

function identifyPreTokenizer(files: TokenizerFiles, vocabulary: ReadonlyMap<string, number>): string | undefined {
  const tokenizer = probeTokenizer(files, vocabulary);
  if (tokenizer === undefined) return undefined;
  const ids = tokenizer.encode(PRE_TOKENIZER_PROBE);
  // The hash is of Python's str() of the id list: "[101, 7592, 102]".
  const hash = createHash("sha256")
    .update(`[${ids.join(", ")}]`)
    .digest("hex");
  return WORDPIECE_PRE_TOKENIZERS.get(hash);
}

/** A tokenizer equivalent to the checkpoint's, or undefined when it uses parts we do not model. */
function probeTokenizer(
  files: TokenizerFiles,
  vocabulary: ReadonlyMap<string, number>,
): WordPieceTokenizer | undefined {
  const json = files.tokenizerJson;
  const config = files.tokenizerConfig ?? {};
  const unknownToken = namedSpecialToken(files, "unk");
  if (!vocabulary.has(unknownToken)) return undefined;
  if (json === undefined) {
    const cls = vocabulary.get(namedSpecialToken(files, "cls"));
    const sep = vocabulary.get(namedSpecialToken(files, "sep"));
    if (cls === undefined || sep === undefined) return undefined;
    return new WordPieceTokenizer({
      vocabulary,
      unknownToken,
      continuingSubwordPrefix: "##",
      maxInputCharsPerWord: 100,
      normalizer: {
        cleanText: true,
        handleChineseChars: config.tokenize_chinese_chars !== false,
        stripAccents: typeof config.strip_accents === "boolean" ? config.strip_accents : null,
        lowercase: config.do_lower_case !== false,
      },
      prefixIds: [cls],
      suffixIds: [sep],
    });
  }
  const normalizer = bertNormalizerOptions(json.normalizer);
  const template = postProcessorIds(json.post_processor);
  const model = json.model as JsonObject;
  if (
    normalizer === undefined ||
    template === undefined ||
    !isJsonObject(json.pre_tokenizer) ||
    json.pre_tokenizer.type !== "BertPreTokenizer"
  ) {
    return undefined;
  }
  return new WordPieceTokenizer({
    vocabulary,
    unknownToken: typeof model.unk_token === "string" ? model.unk_token : unknownToken,
    continuingSubwordPrefix:
      typeof model.continuing_subword_prefix === "string" ? model.continuing_subword_prefix : "##",
    maxInputCharsPerWord: typeof model.max_input_chars_per_word === "number" ? model.max_input_chars_per_word : 100,
    normalizer,
    ...template,
  });
}

function bertNormalizerOptions(normalizer: unknown): BertNormalizerOptions | undefined {
  if (!isJsonObject(normalizer) || normalizer.type !== "BertNormalizer") return undefined;
  return {
    cleanText: normalizer.clean_text !== false,
    handleChineseChars: normalizer.handle_chinese_chars !== false,
    stripAccents: typeof normalizer.strip_accents === "boolean" ? normalizer.strip_accents : null,
    lowercase: normalizer.lowercase !== false,
  };
}

/** The special token ids a post-processor puts around a single sequence. */
function postProcessorIds(processor: unknown): { prefixIds: number[]; suffixIds: number[] } | undefined {
  if (processor === null) return { prefixIds: [], suffixIds: [] };
  if (!isJsonObject(processor)) return undefined;
  if (processor.type === "BertProcessing") {
    const cls = asArray(processor.cls)[1];
    const sep = asArray(processor.sep)[1];
    return typeof cls === "number" && typeof sep === "number" ? { prefixIds: [cls], suffixIds: [sep] } : undefined;
  }
  if (processor.type !== "TemplateProcessing" || !isJsonObject(processor.special_tokens)) return undefined;
  const specialTokens = processor.special_tokens;
  const prefixIds: number[] = [];
  const suffixIds: number[] = [];
  let seenSequence = false;
  for (const piece of asArray(processor.single)) {
    if (!isJsonObject(piece)) return undefined;
    if ("Sequence" in piece) {
      seenSequence = true;
      continue;
    }
    const special = isJsonObject(piece.SpecialToken) ? specialTokens[String(piece.SpecialToken.id)] : undefined;
    if (!isJsonObject(special)) return undefined;
    const ids = asArray(special.ids).filter((id): id is number => typeof id === "number");
    (seenSequence ? suffixIds : prefixIds).push(...ids);
  }
  return { prefixIds, suffixIds };
}
