// SmoothQuant (Xiao et al., 2023) for BERT-family files before llama.cpp quantizes them. On the
// CPU, llama.cpp multiplies quantized weights by activations it quantizes to 8 bits in blocks of
// 32 channels, each block scaled by its largest value. A BERT's hidden states have a few channels
// 5-10x wider than the rest, and the blocks holding them lose most of their precision: in
// all-MiniLM-L6-v2 Q8_0 that costs 10 of the 2,910 STS-B dev sentences a cosine below 0.999.
// Here the input of each Q/K/V and FFN-up product (a LayerNorm output) is divided channel by
// channel by s, and the weights' columns are multiplied by it, which leaves the product unchanged;
// s = sqrt(range of the channel's activations / range of its weights) moves half of the
// difficulty onto the weights. The activation ranges are measured by running the f32 file itself
// over calibration sentences.
// llama.cpp does the division as a MUL by a per-layer tensor (scripts/build/llama-patches/
// 0011-bert-smoothed-inputs.patch).
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { basename } from "node:path";
import { ACTIVATION_SMOOTHING_KEY, GgmlType } from "../gguf/format.js";
import { readGgufHeader, type GgufHeader, type GgufTensorInfo } from "../gguf/reader.js";
import { ggufValue, typedMetadata, writeGgufFile, type GgufTensorToWrite } from "../gguf/writer.js";
import { NativePooling, nativeAddon } from "../native/addon.js";
import { calibrationSentences } from "./calibration-sentences.js";

/** SmoothQuant's alpha: the share of the activations' range moved onto the weights (the paper's default). */
const MIGRATION_STRENGTH = 0.5;

/** Names of the tensors that hold the factors a layer's product inputs are multiplied by. */
export const smoothingTensorNames = (layer: number) => ({
  attention: `blk.${layer}.attn_qkv.input_smooth`,
  feedForward: `blk.${layer}.ffn_up.input_smooth`,
});

/** Why the file cannot be smoothed, or undefined when it can. */
export function smoothingObstacle(header: GgufHeader): string | undefined {
  const architecture = header.metadata.get("general.architecture");
  if (architecture !== "bert") return `its architecture is ${String(architecture)}, not bert`;
  const byName = new Map(header.tensors.map((tensor) => [tensor.name, tensor]));
  if (byName.has(smoothingTensorNames(0).attention)) return "it is smoothed already";
  if (!byName.has("blk.0.attn_q.weight")) return "it has no separate Q, K and V weights";
  for (const tensor of header.tensors) {
    if (/^blk\.\d+\.(attn_[qkv]|ffn_up)\.weight$/.test(tensor.name) && tensor.type !== GgmlType.F32)
      return `${tensor.name} is not f32`;
  }
  return undefined;
}

export interface SmoothingOptions {
  threads: number;
}

/**
 * Writes `outputPath`: the f32 BERT file at `inputPath` with smoothed Q/K/V and FFN-up weights and
 * the factors their inputs are multiplied by. Throws when smoothingObstacle() names a reason.
 */
export async function writeSmoothedModel(
  inputPath: string,
  outputPath: string,
  options: SmoothingOptions,
): Promise<void> {
  const header = await readGgufHeader(inputPath);
  const obstacle = smoothingObstacle(header);
  if (obstacle !== undefined) throw new Error(`${inputPath} cannot be smoothed: ${obstacle}`);
  const layerCount = Number(header.metadata.get("bert.block_count"));
  const inputRanges = await measureInputRanges(inputPath, options.threads);
  const byName = new Map(header.tensors.map((tensor) => [tensor.name, tensor]));
  const replaced = new Map<string, Float32Array>();
  const added: GgufTensorToWrite[] = [];
  const file = await open(inputPath, "r");
  try {
    const read = (name: string) => readF32Tensor(file, header, byName.get(name), name);
    for (let layer = 0; layer < layerCount; layer++) {
      const names = smoothingTensorNames(layer);
      for (const [products, factorName] of [
        [["q", "k", "v"].map((part) => `blk.${layer}.attn_${part}.weight`), names.attention],
        [[`blk.${layer}.ffn_up.weight`], names.feedForward],
      ] as const) {
        const weights = await Promise.all(products.map(read));
        const scales = smoothingScales(sharedRange(inputRanges, products), weights);
        for (const [i, name] of products.entries()) replaced.set(name, scaleColumns(weights[i]!, scales));
        const factors = scales.map((s) => 1 / s);
        added.push(f32Tensor(factorName, factors));
      }
    }
    const tensors = header.tensors.map((tensor): GgufTensorToWrite => {
      const values = replaced.get(tensor.name);
      return values
        ? f32Tensor(tensor.name, values, tensor.shape)
        : { name: tensor.name, shape: tensor.shape, type: tensor.type, chunks: () => fileChunks(file, header, tensor) };
    });
    const metadata = typedMetadata(header);
    metadata.set(ACTIVATION_SMOOTHING_KEY, ggufValue.string(await smoothingProvenance(inputPath)));
    await writeGgufFile(outputPath, metadata, [...tensors, ...added]);
  } finally {
    await file.close();
  }
}

/**
 * What the factors were fitted to, for ACTIVATION_SMOOTHING_KEY: enough to make them again, and
 * to tell the file from plain llama.cpp weights.
 */
async function smoothingProvenance(inputPath: string): Promise<string> {
  const sha256 = (text: string | Buffer) => createHash("sha256").update(text).digest("hex");
  const fileHash = createHash("sha256");
  for await (const chunk of createReadStream(inputPath)) fileHash.update(chunk as Buffer);
  return (
    `SmoothQuant (alpha ${MIGRATION_STRENGTH}) of each block's Q/K/V and FFN-up inputs, channel ranges measured on ` +
    `${basename(inputPath)} (sha256 ${fileHash.digest("hex")}) over ${calibrationSentences.length} calibration ` +
    `sentences (sha256 ${sha256(calibrationSentences.join("\n"))}, lib/hub/calibration-sentences.ts); the factors ` +
    `are tensors blk.N.attn_qkv.input_smooth and blk.N.ffn_up.input_smooth, which only ctxembed's llama.cpp reads`
  );
}

/**
 * The largest |value| of each input channel of every weight product, over the calibration
 * sentences, measured by the addon while the f32 model embeds them.
 */
async function measureInputRanges(path: string, threads: number): Promise<Record<string, Float32Array>> {
  const model = await nativeAddon().loadModel(path, { gpuLayers: 0, useMmap: true, repackWeights: false });
  try {
    const { trainingContextLength } = model.metadata();
    const sequences = calibrationSentences.map((sentence) =>
      model.tokenize(sentence, true, false).subarray(0, trainingContextLength),
    );
    const tokens = Int32Array.from(sequences.flatMap((ids) => [...ids]));
    const context = await model.createEmbeddingContext({
      contextTokens: tokens.length,
      batchTokens: tokens.length,
      microBatchTokens: tokens.length,
      maxSequences: sequences.length,
      threads,
      pooling: NativePooling.None,
      causal: false,
      flashAttention: true,
      separateSequences: false,
    });
    try {
      const lengths = Uint32Array.from(sequences, (ids) => ids.length);
      const result = await context.embed(tokens, lengths, {
        tokenVectors: false,
        layers: new Int32Array(0),
        inputRanges: true,
      });
      return result.inputRanges!;
    } finally {
      context.dispose();
    }
  } finally {
    model.dispose();
  }
}

/** The channel ranges of an input several products read (Q, K and V read the same one). */
function sharedRange(inputRanges: Record<string, Float32Array>, products: readonly string[]): Float32Array {
  const measured = products.map((name) => {
    const range = inputRanges[name];
    if (range === undefined) throw new Error(`the calibration run never multiplied by ${name}`);
    return range;
  });
  return measured[0]!.map((_, j) => Math.max(...measured.map((range) => range[j]!)));
}

/**
 * s_j = sqrt(activation range_j / weight range_j), divided by its median so that typical channels
 * stay near 1. Weight range_j is the largest |w| in input column j of any of the products that
 * share the input. (Rounding s to powers of two would make the smoothing exact in floating point,
 * but on STS-B train it left 2 of 10,566 sentences below a cosine of 0.999 against none.)
 */
export function smoothingScales(activationRanges: Float32Array, weights: readonly Float32Array[]): Float32Array {
  const width = activationRanges.length;
  const weightRanges = new Float32Array(width);
  for (const matrix of weights) {
    matrix.forEach((value, i) => {
      const column = i % width;
      weightRanges[column] = Math.max(weightRanges[column]!, Math.abs(value));
    });
  }
  const live = (j: number) => activationRanges[j]! > 0 && weightRanges[j]! > 0;
  const raw = Array.from(activationRanges, (range, j) =>
    live(j) ? range ** MIGRATION_STRENGTH / weightRanges[j]! ** (1 - MIGRATION_STRENGTH) : Number.NaN,
  );
  const sorted = raw.filter((s) => !Number.isNaN(s)).sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 1;
  // a channel that never fires, or that no weight reads, has nothing to balance
  return Float32Array.from(raw, (s) => (Number.isNaN(s) ? 1 : s / median));
}

function scaleColumns(matrix: Float32Array, scales: Float32Array): Float32Array {
  return matrix.map((value, i) => value * scales[i % scales.length]!);
}

function f32Tensor(name: string, values: Float32Array, shape: readonly number[] = [values.length]): GgufTensorToWrite {
  return {
    name,
    shape,
    type: GgmlType.F32,
    chunks: () => [new Uint8Array(values.buffer, values.byteOffset, values.byteLength)],
  };
}

async function readF32Tensor(
  file: FileHandle,
  header: GgufHeader,
  tensor: GgufTensorInfo | undefined,
  name: string,
): Promise<Float32Array> {
  if (tensor === undefined) throw new Error(`the file has no tensor ${name}`);
  if (tensor.type !== GgmlType.F32) throw new Error(`${name} is not f32`);
  const values = new Float32Array(tensor.byteLength / 4);
  await readExactly(file, new Uint8Array(values.buffer), header.dataOffset + tensor.offset);
  return values;
}

const CHUNK_BYTES = 1 << 20;

async function* fileChunks(file: FileHandle, header: GgufHeader, tensor: GgufTensorInfo): AsyncIterable<Uint8Array> {
  for (let done = 0; done < tensor.byteLength; done += CHUNK_BYTES) {
    const chunk = new Uint8Array(Math.min(CHUNK_BYTES, tensor.byteLength - done));
    await readExactly(file, chunk, header.dataOffset + tensor.offset + done);
    yield chunk;
  }
}

async function readExactly(file: FileHandle, target: Uint8Array, position: number): Promise<void> {
  const { bytesRead } = await file.read(target, 0, target.length, position);
  if (bytesRead !== target.length) throw new Error(`the file ended ${target.length - bytesRead} bytes early`);
}
