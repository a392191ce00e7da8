// A random-weight BERT small enough to push hundreds of thousands of lines through on two
// cores, for tests of mechanics (streaming, memory, resuming) rather than of vector quality.
// It keeps MiniLM's real WordPiece tokenizer, so texts tokenize as they would for a real model,
// and goes through the project's own converter. The GGUF is cached in the OS temp folder.
import { createHash } from "node:crypto";
import { copyFile, mkdir, mkdtemp, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { convertCheckpoint } from "../../lib/hub/convert/index.js";
import { checkpointPath } from "../../lib/hub/pull.js";
import { bertTensorShapes, safetensorsFile, type CheckpointTensor } from "../bert-checkpoint.js";
import { seededRandom } from "../../lib/util/random.js";
import { minilmPath } from "./models.js";

const HIDDEN = 32;
const LAYERS = 2;
const HEADS = 2;
const FEED_FORWARD = 64;
const POSITIONS = 512;
/** bert-base-uncased's vocabulary, which MiniLM uses */
const VOCABULARY = 30522;
const SEED = 20261128;

const tokenizerFiles = [
  "vocab.txt",
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "sentence_bert_config.json",
  "modules.json",
];

/** float32 safetensors; layer-norm scales near 1, everything else small, so activations stay tame. */
function weights(): Buffer {
  const random = seededRandom(SEED);
  const sizes = {
    vocabulary: VOCABULARY,
    hidden: HIDDEN,
    layers: LAYERS,
    feedForward: FEED_FORWARD,
    positions: POSITIONS,
  };
  const tensors = bertTensorShapes(sizes).map(([name, shape]): CheckpointTensor => {
    const base = name.endsWith("LayerNorm.weight") ? 1 : 0;
    const values = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => base + (random() - 0.5) * 0.2);
    return { name, dtype: "F32", shape, data: new Uint8Array(values.buffer) };
  });
  return safetensorsFile(tensors);
}

const config = {
  architectures: ["BertModel"],
  model_type: "bert",
  hidden_size: HIDDEN,
  num_hidden_layers: LAYERS,
  num_attention_heads: HEADS,
  intermediate_size: FEED_FORWARD,
  max_position_embeddings: POSITIONS,
  type_vocab_size: 2,
  vocab_size: VOCABULARY,
  layer_norm_eps: 1e-12,
  pad_token_id: 0,
  hidden_act: "gelu",
};

async function writeCheckpoint(folder: string, safetensors: Buffer): Promise<void> {
  await minilmPath();
  const minilm = checkpointPath("all-minilm-l6-v2");
  await Promise.all(tokenizerFiles.map((file) => copyFile(join(minilm, file), join(folder, file))));
  await writeFile(join(folder, "config.json"), JSON.stringify(config));
  await mkdir(join(folder, "1_Pooling"));
  await writeFile(
    join(folder, "1_Pooling", "config.json"),
    JSON.stringify({ word_embedding_dimension: HIDDEN, pooling_mode_mean_tokens: true }),
  );
  await writeFile(join(folder, "model.safetensors"), safetensors);
}

/** Path of the tiny model's GGUF, built on first use. */
export async function tinyModelPath(): Promise<string> {
  const safetensors = weights();
  // Named by its content, so that a change here never picks up a stale cached model.
  const digest = createHash("sha256").update(safetensors).update(JSON.stringify(config)).digest("hex").slice(0, 12);
  const path = join(tmpdir(), `ctxembed-tiny-bert-${digest}.gguf`);
  if (
    await stat(path).then(
      () => true,
      () => false,
    )
  )
    return path;
  const folder = await mkdtemp(join(tmpdir(), "ctxembed-tiny-bert-"));
  try {
    await writeCheckpoint(folder, safetensors);
    // Converted beside the target and renamed, so that a half-written file is never taken as the model.
    const partial = join(folder, "tiny-bert.gguf");
    await convertCheckpoint(folder, partial, { name: "tiny-random-bert" });
    await rename(partial, path);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
  return path;
}
