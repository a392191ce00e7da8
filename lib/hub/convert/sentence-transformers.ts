import { join } from "node:path";

import {
  isJsonObject,
  readOptionalJson,
  readOptionalJsonObject,
  readRequiredJsonObject,
} from "../../util/json-files.js";

export type Pooling = "none" | "mean" | "cls" | "last";

/** llama.cpp's enum llama_pooling_type. */
export const POOLING_TYPE_IDS: Readonly<Record<Pooling, number>> = { none: 0, mean: 1, cls: 2, last: 3 };

export interface SentenceTransformerSettings {
  /** "none" when the checkpoint is not a sentence-transformers model */
  pooling: Pooling;
  /** whether sentence-transformers L2-normalises the pooled embedding */
  normalize: boolean;
  /** sentence_bert_config.json max_seq_length: where sentence-transformers truncates input */
  maxSequenceLength: number | undefined;
}

/**
 * Reads the sentence-transformers pipeline (modules.json and the module folders). Only
 * Transformer -> Pooling -> Normalize pipelines are accepted: any other module (Dense, ...) would
 * change the embeddings in a way the converted model cannot reproduce.
 */
export async function readSentenceTransformerSettings(directory: string): Promise<SentenceTransformerSettings> {
  const modulesPath = join(directory, "modules.json");
  const modules = await readOptionalJson(modulesPath);
  const settingsPath = join(directory, "sentence_bert_config.json");
  const maxSequenceLength = (await readOptionalJsonObject(settingsPath))?.max_seq_length;
  if (
    maxSequenceLength !== undefined &&
    (typeof maxSequenceLength !== "number" || !Number.isSafeInteger(maxSequenceLength) || maxSequenceLength <= 0)
  ) {
    throw new Error(`${settingsPath}: max_seq_length must be a positive integer`);
  }
  if (modules === undefined) return { pooling: "none", normalize: false, maxSequenceLength };
  if (!Array.isArray(modules)) throw new Error(`${modulesPath} must contain a JSON array of modules`);

  let pooling: Pooling = "none";
  let normalize = false;
  for (const module of modules) {
    // Module types are class paths such as "sentence_transformers.models.Pooling".
    const moduleClass =
      isJsonObject(module) && typeof module.type === "string" ? module.type.split(".").at(-1) : undefined;
    if (moduleClass === "Transformer") continue;
    if (moduleClass === "Normalize") {
      normalize = true;
    } else if (moduleClass === "Pooling" && isJsonObject(module) && typeof module.path === "string") {
      pooling = await readPoolingMode(join(directory, module.path, "config.json"));
    } else {
      throw new Error(
        `${modulesPath}: module ${JSON.stringify(module)} is not supported; only Transformer, Pooling and Normalize modules can be converted`,
      );
    }
  }
  return { pooling, normalize, maxSequenceLength };
}

async function readPoolingMode(configPath: string): Promise<Pooling> {
  const config = await readRequiredJsonObject(configPath, "the sentence-transformers pooling configuration");
  const unsupported = [
    "pooling_mode_max_tokens",
    "pooling_mode_mean_sqrt_len_tokens",
    "pooling_mode_weightedmean_tokens",
  ].filter((key) => config[key] === true);
  if (unsupported.length > 0) throw new Error(`${configPath}: ${unsupported.join(", ")} is not supported by llama.cpp`);
  // Same precedence as llama.cpp's converter (_try_set_pooling_type).
  if (config.pooling_mode_mean_tokens === true) return "mean";
  if (config.pooling_mode_cls_token === true) return "cls";
  if (config.pooling_mode_lasttoken === true) return "last";
  const byName: Record<string, Pooling> = { mean: "mean", cls: "cls", lasttoken: "last" };
  const named = typeof config.pooling_mode === "string" ? byName[config.pooling_mode] : undefined;
  if (named !== undefined) return named;
  throw new Error(`${configPath}: no pooling mode llama.cpp supports (mean, cls or lasttoken) is enabled`);
}
