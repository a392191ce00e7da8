// Tiny random-weight BERT models that carry the real vocabularies llama.cpp ships for its own
// tokenizer tests (native/llama.cpp/models/ggml-vocab-*.gguf, vocabulary only, with .inp/.out
// pairs of inputs and expected ids). llama.cpp's tokenizer does not depend on the architecture,
// so one builder serves every family: each tokenizer.ggml.* key is copied, the weights are a
// hidden size of 16 and one layer, token embeddings in f16 (a 256k vocabulary stays under 10 MB).
// The GGUFs are written once into the OS temp folder, named by the vocabulary file, its size and BUILD.
import { readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { planBertTensors, ggufTensorType } from "../../../lib/hub/convert/bert.js";
import { GgmlType, GgufValueType, type GgufScalarType } from "../../../lib/gguf/format.js";
import { readGgufHeader, type GgufValue } from "../../../lib/gguf/reader.js";
import { ggufValue, writeGgufFile, type GgufScalar, type GgufTypedValue } from "../../../lib/gguf/writer.js";
import { seededRandom } from "../../../lib/util/random.js";
import { float32ToFloat16 } from "../../../lib/vectors/float16.js";
import { bertTensorShapes } from "../../bert-checkpoint.js";
import { repositoryRoot } from "../models.js";

export const vocabularyFolder = join(repositoryRoot, "native", "llama.cpp", "models");

const HIDDEN = 16;
const HEADS = 2;
const FEED_FORWARD = 32;
const POSITIONS = 512;
const SEED = 20261203;
const SEPARATOR = "\n__ggml_vocab_test__\n";
/** part of the cached file's name: raise it when what the builder writes changes */
const BUILD = 2;

/** GGUF types of the tokenizer keys; the reader gives values only. */
const ARRAY_TYPES: Record<string, GgufScalarType> = {
  "tokenizer.ggml.tokens": GgufValueType.STRING,
  "tokenizer.ggml.merges": GgufValueType.STRING,
  "tokenizer.ggml.scores": GgufValueType.FLOAT32,
  "tokenizer.ggml.token_type": GgufValueType.INT32,
  "tokenizer.ggml.precompiled_charsmap": GgufValueType.UINT8,
};

function typedTokenizerValue(key: string, value: GgufValue): GgufTypedValue {
  if (Array.isArray(value)) {
    const itemType = ARRAY_TYPES[key];
    if (itemType === undefined) throw new Error(`${key}: no GGUF type known for this array`);
    return ggufValue.array(itemType, value as GgufScalar[]);
  }
  if (typeof value === "string") return ggufValue.string(value);
  if (typeof value === "boolean") return ggufValue.bool(value);
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) return ggufValue.uint32(value);
  throw new Error(`${key}: unexpected value ${String(value)}`);
}

export interface VocabularyModel {
  path: string;
  /** tokenizer.ggml.model: bert (WPM), llama (SPM), gpt2 (BPE), t5 (UGM) */
  tokenizerModel: string;
}

/** Builds (or finds) the tiny model for `ggml-vocab-<name>.gguf`. */
export async function vocabularyModel(name: string): Promise<VocabularyModel> {
  const source = join(vocabularyFolder, `ggml-vocab-${name}.gguf`);
  const header = await readGgufHeader(source);
  const tokenizerModel = String(header.metadata.get("tokenizer.ggml.model"));
  const path = join(tmpdir(), `ctxembed-vocab-${name}-${(await stat(source)).size}-b${BUILD}.gguf`);
  if (
    await stat(path).then(
      () => true,
      () => false,
    )
  )
    return { path, tokenizerModel };
  // BERT's loader needs a token type count (two token-type rows here), whatever the vocabulary says
  const tokenizer = [...header.metadata].filter(
    ([key]) => key.startsWith("tokenizer.ggml.") && key !== "tokenizer.ggml.token_type_count",
  );
  const vocabulary = (header.metadata.get("tokenizer.ggml.tokens") as GgufValue[]).length;
  const parameters = {
    vocabSize: vocabulary,
    hiddenSize: HIDDEN,
    layerCount: 1,
    headCount: HEADS,
    feedForwardLength: FEED_FORWARD,
    contextLength: POSITIONS,
    layerNormEpsilon: 1e-12,
    tokenTypeCount: 2,
  };
  const shapes = bertTensorShapes({
    vocabulary,
    hidden: HIDDEN,
    layers: 1,
    feedForward: FEED_FORWARD,
    positions: POSITIONS,
  });
  const random = seededRandom(SEED);
  const tensors = planBertTensors(
    shapes.map(([name, shape]) => ({ name, shape })),
    parameters,
    source,
  ).map(({ ggufName, shape }) => {
    const type = ggufTensorType(ggufName, shape.length, GgmlType.F16);
    const base = ggufName.endsWith("norm.weight") ? 1 : 0;
    const values = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => base + (random() - 0.5) * 0.2);
    const data =
      type === GgmlType.F16
        ? (() => {
            const halves = new Uint16Array(values.length);
            float32ToFloat16(new Uint32Array(values.buffer), halves);
            return new Uint8Array(halves.buffer);
          })()
        : new Uint8Array(values.buffer);
    return { name: ggufName, shape: [...shape].reverse(), type, chunks: () => [data] };
  });
  await writeGgufFile(
    path,
    [
      ["general.architecture", ggufValue.string("bert")],
      ["general.name", ggufValue.string(`tiny-random-bert-${name}`)],
      ["bert.block_count", ggufValue.uint32(1)],
      ["bert.context_length", ggufValue.uint32(POSITIONS)],
      ["bert.embedding_length", ggufValue.uint32(HIDDEN)],
      ["bert.feed_forward_length", ggufValue.uint32(FEED_FORWARD)],
      ["bert.attention.head_count", ggufValue.uint32(HEADS)],
      ["bert.attention.layer_norm_epsilon", ggufValue.float32(1e-12)],
      ["bert.attention.causal", ggufValue.bool(false)],
      ["bert.pooling_type", ggufValue.uint32(1)],
      ["general.file_type", ggufValue.uint32(1)],
      ["tokenizer.ggml.token_type_count", ggufValue.uint32(2)],
      ...tokenizer.map(([key, value]) => [key, typedTokenizerValue(key, value)] as const),
    ],
    tensors,
  );
  return { path, tokenizerModel };
}

export interface VocabularyCase {
  text: string;
  /** llama.cpp's ids for it, tokenized with add_special = false, parse_special = false */
  expected: number[];
}

/** The .inp inputs with the .out ids, in order. */
export async function vocabularyCases(name: string): Promise<VocabularyCase[]> {
  const base = join(vocabularyFolder, `ggml-vocab-${name}.gguf`);
  const raw = await readFile(`${base}.inp`, "utf8");
  // split as test-tokenizer-0 does: a separator at the very end starts no further input
  const inputs = (raw.endsWith(SEPARATOR) ? raw.slice(0, -SEPARATOR.length) : raw).split(SEPARATOR);
  const outputs = (await readFile(`${base}.out`, "utf8")).split("\n");
  return inputs.map((text, i) => ({
    text,
    expected: (outputs[i] ?? "").trim() === "" ? [] : (outputs[i] ?? "").trim().split(/\s+/).map(Number),
  }));
}
