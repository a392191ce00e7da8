// What llama.cpp's BERT loader expects, and its converter writes (conversion/bert.py, base.py,
// gguf-py constants.py and tensor_mapping.py): hyperparameter keys, tensor names and types.

import type { JsonObject } from "../../util/json-files.js";
import { GgmlType } from "../../gguf/format.js";

export const SUPPORTED_ARCHITECTURES: readonly string[] = ["BertModel", "BertForMaskedLM"];

export interface BertHyperparameters {
  vocabSize: number;
  hiddenSize: number;
  layerCount: number;
  headCount: number;
  feedForwardLength: number;
  /** max_position_embeddings */
  contextLength: number;
  layerNormEpsilon: number;
  tokenTypeCount: number;
}

/** Reads config.json, refusing anything that is not a plain BERT encoder. */
export function readBertConfig(config: JsonObject, configPath: string): BertHyperparameters {
  const architectures = config.architectures;
  const architecture = Array.isArray(architectures) ? architectures[0] : undefined;
  if (
    architecture !== undefined ? !SUPPORTED_ARCHITECTURES.includes(String(architecture)) : config.model_type !== "bert"
  ) {
    const found =
      architecture !== undefined ? `architecture ${String(architecture)}` : `model_type ${String(config.model_type)}`;
    throw new Error(
      `${configPath}: unsupported ${found}; only BERT checkpoints (${SUPPORTED_ARCHITECTURES.join(", ")}) can be converted`,
    );
  }
  const integer = (key: string, fallback?: number): number => {
    const value = config[key] ?? fallback;
    if (value === undefined) throw new Error(`${configPath}: missing "${key}"`);
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
      throw new Error(`${configPath}: "${key}" must be a positive integer, not ${JSON.stringify(value)}`);
    }
    return value;
  };
  const epsilon = config.layer_norm_eps ?? 1e-12;
  if (typeof epsilon !== "number" || !(epsilon > 0))
    throw new Error(`${configPath}: "layer_norm_eps" must be a positive number`);
  // The fallbacks are transformers' BertConfig defaults, which llama.cpp's converter sees through AutoConfig.
  const parameters: BertHyperparameters = {
    vocabSize: integer("vocab_size"),
    hiddenSize: integer("hidden_size"),
    layerCount: integer("num_hidden_layers"),
    headCount: integer("num_attention_heads"),
    feedForwardLength: integer("intermediate_size"),
    contextLength: integer("max_position_embeddings", 512),
    layerNormEpsilon: epsilon,
    tokenTypeCount: integer("type_vocab_size", 2),
  };
  if (parameters.hiddenSize % parameters.headCount !== 0) {
    throw new Error(
      `${configPath}: hidden_size ${parameters.hiddenSize} is not divisible by num_attention_heads ${parameters.headCount}`,
    );
  }
  if (config.position_embedding_type !== undefined && config.position_embedding_type !== "absolute") {
    throw new Error(
      `${configPath}: position_embedding_type ${String(config.position_embedding_type)} is not supported by llama.cpp's BERT`,
    );
  }
  return parameters;
}

export interface BertTensor {
  /** name in the checkpoint */
  sourceName: string;
  ggufName: string;
  /** row-major (PyTorch) order */
  shape: number[];
}

// Checkpoint tensors llama.cpp's converter drops: the pooler and the pre-training heads.
function isUnused(name: string): boolean {
  return (
    ["embeddings.position_ids", "pooler.dense.weight", "pooler.dense.bias"].includes(name) ||
    name.startsWith("cls.predictions") ||
    name.startsWith("cls.seq_relationship")
  );
}

/** The checkpoint name as llama.cpp's converter reads it: no "bert." prefix, TF-era gamma/beta renamed. */
function canonicalName(name: string): string {
  const unprefixed = name.startsWith("bert.") ? name.slice(5) : name;
  if (unprefixed.endsWith(".gamma")) return `${unprefixed.slice(0, -6)}.weight`;
  if (unprefixed.endsWith(".beta")) return `${unprefixed.slice(0, -5)}.bias`;
  return unprefixed;
}

/** Every tensor a BERT checkpoint must provide, by canonical name, with its GGUF name and shape. */
function expectedTensors(parameters: BertHyperparameters): Map<string, { ggufName: string; shape: number[] }> {
  const { vocabSize, hiddenSize: h, feedForwardLength: ff, contextLength, tokenTypeCount, layerCount } = parameters;
  const expected = new Map<string, { ggufName: string; shape: number[] }>();
  const add = (source: string, target: string, weightShape: number[], hasBias: boolean) => {
    expected.set(`${source}.weight`, { ggufName: `${target}.weight`, shape: weightShape });
    if (hasBias) expected.set(`${source}.bias`, { ggufName: `${target}.bias`, shape: [weightShape[0] as number] });
  };
  add("embeddings.word_embeddings", "token_embd", [vocabSize, h], false);
  add("embeddings.token_type_embeddings", "token_types", [tokenTypeCount, h], false);
  add("embeddings.position_embeddings", "position_embd", [contextLength, h], false);
  add("embeddings.LayerNorm", "token_embd_norm", [h], true);
  for (let layer = 0; layer < layerCount; layer++) {
    const source = `encoder.layer.${layer}`;
    const target = `blk.${layer}`;
    add(`${source}.attention.self.query`, `${target}.attn_q`, [h, h], true);
    add(`${source}.attention.self.key`, `${target}.attn_k`, [h, h], true);
    add(`${source}.attention.self.value`, `${target}.attn_v`, [h, h], true);
    add(`${source}.attention.output.dense`, `${target}.attn_output`, [h, h], true);
    add(`${source}.attention.output.LayerNorm`, `${target}.attn_output_norm`, [h], true);
    add(`${source}.intermediate.dense`, `${target}.ffn_up`, [ff, h], true);
    add(`${source}.output.dense`, `${target}.ffn_down`, [h, ff], true);
    add(`${source}.output.LayerNorm`, `${target}.layer_output_norm`, [h], true);
  }
  return expected;
}

/**
 * Maps the checkpoint's tensors to GGUF tensors, in the converter's order (by checkpoint name).
 * Unused heads are skipped; unknown, duplicated, missing or misshapen tensors are errors, so that
 * no weight is ever silently dropped.
 */
export function planBertTensors(
  source: Iterable<{ name: string; shape: readonly number[] }>,
  parameters: BertHyperparameters,
  weightsPath: string,
): BertTensor[] {
  const expected = expectedTensors(parameters);
  const planned = new Map<string, BertTensor>();
  const sorted = [...source].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const { name, shape } of sorted) {
    const canonical = canonicalName(name);
    if (isUnused(canonical)) continue;
    const target = expected.get(canonical);
    if (target === undefined) {
      throw new Error(`${weightsPath}: unexpected tensor "${name}"; only plain BERT encoder weights can be converted`);
    }
    const previous = planned.get(canonical);
    if (previous !== undefined)
      throw new Error(`${weightsPath}: tensors "${previous.sourceName}" and "${name}" are the same weight`);
    if (shape.length !== target.shape.length || shape.some((dim, i) => dim !== target.shape[i])) {
      throw new Error(
        `${weightsPath}: tensor "${name}" has shape [${shape.join(", ")}], but config.json implies [${target.shape.join(", ")}]`,
      );
    }
    planned.set(canonical, { sourceName: name, ggufName: target.ggufName, shape: [...shape] });
  }
  const missing = [...expected.keys()].filter((name) => !planned.has(name));
  if (missing.length > 0) {
    const listed = missing.slice(0, 5).join(", ") + (missing.length > 5 ? `, and ${missing.length - 5} more` : "");
    throw new Error(`${weightsPath}: missing tensors ${listed}`);
  }
  return [...planned.values()];
}

/**
 * The GGUF type llama.cpp's converter picks: 2-D weight matrices take the requested type, except the
 * position and token-type embeddings; vectors (norms, biases) stay F32.
 */
export function ggufTensorType(
  ggufName: string,
  dimensionCount: number,
  requested: typeof GgmlType.F32 | typeof GgmlType.F16,
): GgmlType {
  const alwaysF32 =
    dimensionCount <= 1 ||
    ggufName.endsWith("_norm.weight") ||
    !ggufName.endsWith(".weight") ||
    ggufName === "position_embd.weight" ||
    ggufName === "token_types.weight";
  return alwaysF32 ? GgmlType.F32 : requested;
}
