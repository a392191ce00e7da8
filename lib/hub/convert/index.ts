import { access, mkdir, stat } from "node:fs/promises";
import { endianness } from "node:os";
import { basename, dirname, join, resolve } from "node:path";

import { ggufTensorType, planBertTensors, readBertConfig, type BertHyperparameters, type BertTensor } from "./bert.js";
import { bfloat16ToFloat32, float16ToFloat32, float32ToFloat16 } from "../../vectors/float16.js";
import { readOptionalText, readRequiredJsonObject } from "../../util/json-files.js";
import { SafetensorsFile, type SafetensorsTensor } from "./safetensors.js";
import { POOLING_TYPE_IDS, readSentenceTransformerSettings, type Pooling } from "./sentence-transformers.js";
import { specialVocabularyMetadata } from "./special-vocab.js";
import { buildWordPieceVocabulary, loadTokenizerFiles } from "./vocab.js";
import { GgmlType, GgufValueType, LlamaFileType } from "../../gguf/format.js";
import { ggufValue, writeGgufFile, type GgufTensorToWrite, type GgufTypedValue } from "../../gguf/writer.js";

export type ConvertType = "f32" | "f16";

export interface ConvertOptions {
  /** type of the 2-D weight matrices; vectors are always f32. Default "f32", which loses nothing. */
  type?: ConvertType;
  /** general.name. Default: the checkpoint folder's name, or its parent's when the folder is named "model" or "hf". */
  name?: string;
  /** Called with a few human-readable progress lines (at most four per conversion). */
  onProgress?: (message: string) => void;
}

export interface ConversionReport {
  outFile: string;
  architecture: string;
  tensorCount: number;
  type: ConvertType;
  pooling: "none" | "mean" | "cls" | "last";
  maxSequenceLength: number;
}

/** Bumped by ggml when quantisation formats change (GGML_QUANT_VERSION); written by every converter. */
const GGML_QUANT_VERSION = 2;
const READ_CHUNK_BYTES = 4 << 20;
const SUPPORTED_DTYPES = ["F32", "F16", "BF16"];

/**
 * Converts a Hugging Face / sentence-transformers BERT checkpoint (config.json, model.safetensors,
 * vocab.txt or tokenizer.json) to a GGUF file that llama.cpp loads, with the same tensors and
 * bert.* / tokenizer.ggml.* metadata llama.cpp's convert_hf_to_gguf.py writes, plus
 * ctxembed.max_sequence_length and ctxembed.normalize describing the sentence-transformers pipeline.
 * Of the general.* authorship keys only the name and the model card's license are written:
 * llama.cpp never reads the rest.
 */
export async function convertCheckpoint(
  sourceDir: string,
  outFile: string,
  options: ConvertOptions = {},
): Promise<ConversionReport> {
  const type = options.type ?? "f32";
  const progress = options.onProgress ?? (() => undefined);
  if (endianness() !== "LE") throw new Error("converting requires a little-endian machine");
  await requireDirectory(sourceDir);
  progress(`reading checkpoint ${sourceDir}…`);

  const configPath = join(sourceDir, "config.json");
  const config = await readRequiredJsonObject(configPath, "the model configuration");
  const parameters = readBertConfig(config, configPath);
  const weights = await SafetensorsFile.open(await findWeights(sourceDir));
  try {
    const tensors = planBertTensors(weights.tensors.values(), parameters, weights.path);
    const sources = tensors.map((tensor) => sourceTensor(weights, tensor));

    const tokenizerFiles = await loadTokenizerFiles(sourceDir);
    const vocabulary = buildWordPieceVocabulary(tokenizerFiles, parameters.vocabSize);
    if (vocabulary.preTokenizer === undefined) {
      progress(
        "the vocabulary is not one llama.cpp's converter knows by name; writing tokenizer.ggml.pre = default (llama.cpp ignores it for WordPiece)",
      );
    }
    const settings = await readSentenceTransformerSettings(sourceDir);
    const maxSequenceLength = settings.maxSequenceLength ?? parameters.contextLength;
    const license = await readModelCardLicense(sourceDir);

    const metadata = new Map<string, GgufTypedValue>([
      ["general.architecture", ggufValue.string("bert")],
      ["general.name", ggufValue.string(options.name ?? modelName(sourceDir))],
      ...(license === undefined ? [] : [["general.license", ggufValue.string(license)] as const]),
      ...hyperparameterMetadata(parameters, type, settings.pooling),
      ["general.quantization_version", ggufValue.uint32(GGML_QUANT_VERSION)],
      ["tokenizer.ggml.token_type_count", ggufValue.uint32(parameters.tokenTypeCount)],
      ["tokenizer.ggml.model", ggufValue.string("bert")],
      ["tokenizer.ggml.pre", ggufValue.string(vocabulary.preTokenizer ?? "default")],
      ["tokenizer.ggml.tokens", ggufValue.array(GgufValueType.STRING, vocabulary.tokens)],
      ["tokenizer.ggml.token_type", ggufValue.array(GgufValueType.INT32, vocabulary.tokenTypes)],
      ...specialVocabularyMetadata(tokenizerFiles, config, parameters.vocabSize),
      ["ctxembed.max_sequence_length", ggufValue.uint32(maxSequenceLength)],
      ["ctxembed.normalize", ggufValue.bool(settings.normalize)],
    ]);

    const requested = type === "f16" ? GgmlType.F16 : GgmlType.F32;
    const outputs = tensors.map((tensor, index): GgufTensorToWrite => {
      const source = sources[index] as SafetensorsTensor;
      const targetType = ggufTensorType(tensor.ggufName, tensor.shape.length, requested);
      return {
        name: tensor.ggufName,
        shape: [...tensor.shape].reverse(),
        type: targetType,
        chunks: () => convertedChunks(weights, source, targetType),
      };
    });
    await mkdir(dirname(resolve(outFile)), { recursive: true });
    progress(`writing ${outputs.length} tensors (${type})…`);
    await writeGgufFile(outFile, metadata, outputs);
    const { size } = await stat(outFile);
    progress(`wrote ${outFile} (${(size / 1e6).toFixed(1)} MB)`);
    return {
      outFile,
      architecture: "bert",
      tensorCount: outputs.length,
      type,
      pooling: settings.pooling,
      maxSequenceLength,
    };
  } finally {
    await weights.close();
  }
}

async function requireDirectory(path: string): Promise<void> {
  const stats = await stat(path).catch((error: Error) => {
    throw new Error(`cannot read checkpoint folder ${path}: ${error.message}`);
  });
  if (!stats.isDirectory())
    throw new Error(`${path} is not a folder; pass the folder that holds config.json and model.safetensors`);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function findWeights(directory: string): Promise<string> {
  const safetensors = join(directory, "model.safetensors");
  if (await exists(safetensors)) return safetensors;
  for (const other of [
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
    "tf_model.h5",
  ]) {
    if (await exists(join(directory, other))) {
      throw new Error(
        `${directory}: unsupported weights: only single-file safetensors checkpoints (model.safetensors) are supported (found ${other})`,
      );
    }
  }
  throw new Error(`${directory}: missing model.safetensors`);
}

function sourceTensor(weights: SafetensorsFile, tensor: BertTensor): SafetensorsTensor {
  const source = weights.tensors.get(tensor.sourceName) as SafetensorsTensor;
  if (!SUPPORTED_DTYPES.includes(source.dtype)) {
    throw new Error(
      `${weights.path}: tensor "${source.name}" has dtype ${source.dtype}; only ${SUPPORTED_DTYPES.join(", ")} weights can be converted`,
    );
  }
  return source;
}

// Checkpoints are often stored as <name>/model or <name>/hf, where the folder name says nothing.
const GENERIC_FOLDER_NAMES = new Set(["model", "hf"]);

/** The checkpoint folder's name, or its parent's when the folder's name is generic. */
function modelName(sourceDir: string): string {
  const folder = resolve(sourceDir);
  const name = basename(folder);
  return GENERIC_FOLDER_NAMES.has(name) ? basename(dirname(folder)) : name;
}

/** A single-line `license: <id>` in README.md's YAML front matter; anything fancier is skipped. */
async function readModelCardLicense(directory: string): Promise<string | undefined> {
  const card = (await readOptionalText(join(directory, "README.md"))) ?? "";
  const frontMatter = /^---\r?\n([\s\S]*?)\r?\n---/.exec(card)?.[1] ?? "";
  return /^license:[ \t]*["']?([\w.+-]+)/m.exec(frontMatter)?.[1];
}

/** bert.* and general.file_type, in the order llama.cpp's converter writes them. */
function hyperparameterMetadata(
  parameters: BertHyperparameters,
  type: ConvertType,
  pooling: Pooling,
): [string, GgufTypedValue][] {
  const entries: [string, GgufTypedValue][] = [
    ["bert.block_count", ggufValue.uint32(parameters.layerCount)],
    ["bert.context_length", ggufValue.uint32(parameters.contextLength)],
    ["bert.embedding_length", ggufValue.uint32(parameters.hiddenSize)],
    ["bert.feed_forward_length", ggufValue.uint32(parameters.feedForwardLength)],
    ["bert.attention.head_count", ggufValue.uint32(parameters.headCount)],
    ["bert.attention.layer_norm_epsilon", ggufValue.float32(parameters.layerNormEpsilon)],
    ["general.file_type", ggufValue.uint32(type === "f16" ? LlamaFileType.MOSTLY_F16 : LlamaFileType.ALL_F32)],
    ["bert.attention.causal", ggufValue.bool(false)],
  ];
  // Without a sentence-transformers pooling module the converter writes no pooling type.
  if (pooling !== "none") entries.push(["bert.pooling_type", ggufValue.uint32(POOLING_TYPE_IDS[pooling])]);
  return entries;
}

async function* convertedChunks(
  weights: SafetensorsFile,
  source: SafetensorsTensor,
  targetType: number,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of weights.chunks(source, READ_CHUNK_BYTES))
    yield convertChunk(chunk, source.dtype, targetType);
}

/** Converts whole elements from the checkpoint's dtype; `bytes` must be freshly allocated (aligned). */
function convertChunk(bytes: Uint8Array, dtype: string, targetType: number): Uint8Array {
  const sameType = (dtype === "F32" && targetType === GgmlType.F32) || (dtype === "F16" && targetType === GgmlType.F16);
  if (sameType) return bytes;
  let float32: Uint32Array;
  if (dtype === "F32") {
    float32 = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  } else {
    const halves = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
    float32 = new Uint32Array(halves.length);
    (dtype === "BF16" ? bfloat16ToFloat32 : float16ToFloat32)(halves, float32);
  }
  if (targetType === GgmlType.F32) return new Uint8Array(float32.buffer, float32.byteOffset, float32.byteLength);
  const float16 = new Uint16Array(float32.length);
  float32ToFloat16(float32, float16);
  return new Uint8Array(float16.buffer);
}
