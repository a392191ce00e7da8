// Special-token metadata exactly as gguf-py's SpecialVocab derives it (gguf-py/gguf/vocab.py):
// token ids from tokenizer_config.json + tokenizer.json's added tokens, then config.json;
// add_bos/add_eos/add_sep from the post-processor template and tokenizer_config.json;
// normaliser flags from tokenizer.json. Chat templates are not carried over: BERT models have none.

import { isJsonObject, type JsonObject } from "../../util/json-files.js";
import { tokenContent, type TokenizerFiles } from "./vocab.js";
import { ggufValue, type GgufTypedValue } from "../../gguf/writer.js";

const TOKEN_ID_KEYS: Readonly<Record<string, string>> = {
  bos: "tokenizer.ggml.bos_token_id",
  eos: "tokenizer.ggml.eos_token_id",
  unk: "tokenizer.ggml.unknown_token_id",
  sep: "tokenizer.ggml.seperator_token_id",
  pad: "tokenizer.ggml.padding_token_id",
  mask: "tokenizer.ggml.mask_token_id",
  eot: "tokenizer.ggml.eot_token_id",
  eom: "tokenizer.ggml.eom_token_id",
};

const ADD_TOKEN_KEYS: Readonly<Record<string, string>> = {
  bos: "tokenizer.ggml.add_bos_token",
  eos: "tokenizer.ggml.add_eos_token",
  sep: "tokenizer.ggml.add_sep_token",
};

export function specialVocabularyMetadata(
  files: TokenizerFiles,
  modelConfig: JsonObject,
  vocabSize: number,
): [string, GgufTypedValue][] {
  const special = new SpecialVocab(vocabSize);
  special.loadFromTokenizerFiles(files);
  special.loadFromModelConfig(modelConfig);
  return special.metadata();
}

/** Python's truthiness, which the logic below depends on. */
function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (isJsonObject(value)) return Object.keys(value).length > 0;
  return value !== undefined && value !== null && value !== false && value !== 0 && value !== "";
}

function templateTokenId(piece: unknown): unknown {
  return isJsonObject(piece) && isJsonObject(piece.SpecialToken) ? piece.SpecialToken.id : undefined;
}

function templateSequenceId(piece: unknown): unknown {
  return isJsonObject(piece) && isJsonObject(piece.Sequence) ? piece.Sequence.id : undefined;
}

class SpecialVocab {
  private tokenTypes = ["bos", "eos", "unk", "sep", "pad", "cls", "mask"];
  private readonly tokenIds = new Map<string, number>();
  private readonly addToken = new Map<string, boolean>();
  private normalizerLowercase: unknown;
  private normalizerStripAccents: unknown;

  constructor(private readonly vocabSize: number) {}

  loadFromTokenizerFiles(files: TokenizerFiles): void {
    const tokenizer = files.tokenizerJson;
    // SpecialVocab edits its copy of tokenizer_config.json as it infers roles.
    const config: JsonObject | undefined =
      files.tokenizerConfig === undefined ? undefined : { ...files.tokenizerConfig };
    let addedTokens: unknown[] = [];
    if (tokenizer !== undefined) {
      if (truthy(tokenizer.normalizer)) this.parseNormalizer(tokenizer.normalizer);
      addedTokens = Array.isArray(tokenizer.added_tokens) ? tokenizer.added_tokens : [];
    }
    if (tokenizer !== undefined && truthy(tokenizer)) this.readPostProcessor(tokenizer, config);
    if (config === undefined || !truthy(config)) return;

    for (const type of this.tokenTypes) {
      const add = config[`add_${type}_token`];
      if (typeof add === "boolean") this.addToken.set(type, add);
      const content = tokenContent(config[`${type}_token`]);
      if (content === undefined) continue;
      const match = addedTokens.find((token) => isJsonObject(token) && token.content === content);
      this.setTokenId(type, isJsonObject(match) ? match.id : undefined);
    }
  }

  loadFromModelConfig(config: JsonObject): void {
    const textConfig = isJsonObject(config.text_config) ? config.text_config : undefined;
    for (const type of this.tokenTypes) {
      this.setTokenId(type, config[`${type}_token_id`] ?? textConfig?.[`${type}_token_id`]);
    }
  }

  metadata(): [string, GgufTypedValue][] {
    const entries: [string, GgufTypedValue][] = [];
    for (const [type, id] of this.tokenIds) {
      const key = TOKEN_ID_KEYS[type];
      if (key !== undefined) entries.push([key, ggufValue.uint32(id)]);
    }
    for (const [type, add] of this.addToken) {
      const key = ADD_TOKEN_KEYS[type];
      if (key !== undefined) entries.push([key, ggufValue.bool(add)]);
    }
    if (typeof this.normalizerLowercase === "boolean") {
      entries.push(["tokenizer.ggml.normalizer.lowercase", ggufValue.bool(this.normalizerLowercase)]);
    }
    if (typeof this.normalizerStripAccents === "boolean") {
      entries.push(["tokenizer.ggml.normalizer.strip_accents", ggufValue.bool(this.normalizerStripAccents)]);
    }
    return entries;
  }

  private setTokenId(type: string, id: unknown): void {
    if (typeof id !== "number" || !Number.isInteger(id)) return;
    if (id < 0) throw new Error(`invalid id ${id} for the ${type} special token`);
    if (id < this.vocabSize && !this.tokenIds.has(type)) this.tokenIds.set(type, id);
  }

  private parseNormalizer(normalizer: unknown): void {
    if (!isJsonObject(normalizer)) return;
    switch (normalizer.type) {
      case "Lowercase":
        this.normalizerLowercase = true;
        break;
      case "StripAccents":
        this.normalizerStripAccents = true;
        break;
      case "BertNormalizer":
        if ("lowercase" in normalizer) this.normalizerLowercase = normalizer.lowercase;
        if ("strip_accents" in normalizer) this.normalizerStripAccents = normalizer.strip_accents;
        break;
      case "Sequence":
        for (const inner of Array.isArray(normalizer.normalizers) ? normalizer.normalizers : [])
          this.parseNormalizer(inner);
        break;
    }
  }

  /** Infers which special tokens the tokenizer adds around sequences from its post-processor. */
  private readPostProcessor(tokenizer: JsonObject, config: JsonObject | undefined): void {
    const roles = {
      bos: config?.bos_token,
      cls: config?.cls_token,
      eos: config?.eos_token,
      sep: config?.sep_token,
    };
    const configIsSet = config !== undefined && truthy(config);
    if (!truthy(roles.bos) && truthy(roles.cls) && configIsSet) config.bos_token = roles.bos = roles.cls;
    if (!truthy(roles.eos) && truthy(roles.sep) && configIsSet) config.eos_token = roles.eos = roles.sep;

    const postProcessor = tokenizer.post_processor;
    if (!isJsonObject(postProcessor) || !truthy(postProcessor)) return;
    const processors = Array.isArray(postProcessor.processors) ? postProcessor.processors : [postProcessor];
    for (const processor of processors) {
      if (!isJsonObject(processor)) continue;
      if (processor.type === "RobertaProcessing") {
        for (const type of ["bos", "eos", "sep"]) this.addToken.set(type, true);
        if (!truthy(roles.cls) && configIsSet) {
          config.cls_token = roles.cls = Array.isArray(processor.cls) ? processor.cls[0] : roles.bos;
        }
        if (!truthy(roles.sep) && configIsSet) {
          config.sep_token = roles.sep = Array.isArray(processor.sep) ? processor.sep[0] : roles.eos;
        }
      } else if (processor.type === "TemplateProcessing") {
        this.readTemplate(processor, roles, configIsSet ? config : undefined);
      }
    }
  }

  // A crude reading of TemplateProcessing, mirroring SpecialVocab's; it only understands simple templates.
  private readTemplate(
    processor: JsonObject,
    roles: { bos: unknown; cls: unknown; eos: unknown; sep: unknown },
    config: JsonObject | undefined,
  ): void {
    const single = Array.isArray(processor.single) ? processor.single : [];
    let pair = Array.isArray(processor.pair) ? processor.pair : [];
    let first: unknown;
    let last: unknown;
    if (single.length > 1) {
      first = templateTokenId(single[0]);
      if (truthy(first)) {
        if (config === undefined) {
          roles.bos = first;
        } else if (first !== roles.bos && first !== roles.cls) {
          if (!truthy(roles.bos)) config.bos_token = roles.bos = first;
          if (!truthy(roles.cls)) config.cls_token = roles.cls = first;
        }
        this.addToken.set("bos", first === roles.bos || first === roles.cls);
      }
      last = templateTokenId(single.at(-1));
      if (truthy(last)) {
        if (config === undefined) {
          roles.eos = last;
        } else if (last !== roles.eos) {
          // The old EOS becomes an end-of-turn (or end-of-message) token.
          for (const fallback of ["eot", "eom"]) {
            if (!this.tokenTypes.includes(fallback)) {
              this.tokenTypes = [...this.tokenTypes, fallback];
              config[`${fallback}_token`] = roles.eos;
              break;
            }
          }
          config.eos_token = roles.eos = last;
        }
        this.addToken.set("eos", last === roles.eos);
      }
    }
    if (pair.length === 0) return;
    const start = truthy(first) && templateTokenId(pair[0]) === first ? 1 : 0;
    const stop = truthy(last) && templateTokenId(pair.at(-1)) === last ? pair.length - 1 : pair.length;
    pair = pair.slice(start, stop);
    if (pair.length === 0) return;
    if (templateSequenceId(pair[0]) !== "A" || templateSequenceId(pair.at(-1)) !== "B") return;
    const middle = pair.slice(1, -1);
    if (middle.length === 0) return;
    // "A [sep] B" or "A [sep] [eos] B"
    let addSeparator = false;
    const separator = templateTokenId(middle[0]);
    if (truthy(separator) && (separator === roles.sep || separator === roles.eos) && !truthy(last)) addSeparator = true;
    if (middle.length === 2) {
      const second = templateTokenId(middle[1]);
      if (truthy(second) && (second === roles.sep || second === roles.eos)) addSeparator = true;
    }
    this.addToken.set("sep", addSeparator);
    if (addSeparator && !truthy(roles.sep) && config !== undefined) config.sep_token = roles.eos;
  }
}
