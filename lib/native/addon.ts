// The raw native module, described once. Everything here is unchecked: the library modules
// validate arguments before they reach these functions.
import { createRequire } from "node:module";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { missingPortableInstructions, prebuildVariant, x64CpuInfo } from "../../native/cpu-baseline.mjs";
import { openblasLoadVariables } from "./openblas.js";

/** llama.cpp's enum llama_pooling_type */
export const NativePooling = { Unspecified: -1, None: 0, Mean: 1, Cls: 2, Last: 3 } as const;
export type NativePooling = (typeof NativePooling)[keyof typeof NativePooling];

export interface NativeSpecialTokens {
  bos: number;
  eos: number;
  eot: number;
  sep: number;
  pad: number;
  mask: number;
  addBos: boolean;
  addEos: boolean;
  addSep: boolean;
}

export interface NativeModelMetadata {
  description: string;
  sizeBytes: number;
  parameterCount: number;
  /** width of the vectors the model outputs */
  embeddingLength: number;
  /** width of the hidden states between blocks */
  hiddenLength: number;
  layerCount: number;
  headCount: number;
  trainingContextLength: number;
  hasEncoder: boolean;
  hasDecoder: boolean;
  isRecurrent: boolean;
  vocabularyType: "spm" | "bpe" | "wpm" | "ugm" | "rwkv" | "plamo2" | "none";
  vocabularySize: number;
  specialTokens: NativeSpecialTokens;
  /** every GGUF metadata entry as llama.cpp prints it (arrays summarised) */
  entries: Record<string, string>;
}

export interface NativeContextOptions {
  contextTokens: number;
  batchTokens: number;
  microBatchTokens: number;
  maxSequences: number;
  threads: number;
  pooling: NativePooling;
  causal: boolean;
  flashAttention: boolean;
  /** a KV stream of contextTokens / maxSequences cells per sequence instead of one unified cache */
  separateSequences: boolean;
}

export interface NativeContextLimits {
  contextTokens: number;
  /** cells one sequence (prefix included) may use */
  sequenceTokens: number;
  batchTokens: number;
  microBatchTokens: number;
  maxSequences: number;
  pooling: NativePooling;
}

export interface NativeEmbedOptions {
  tokenVectors: boolean;
  /** hidden states to capture: 0 = embedding output, L = output of block L */
  layers: Int32Array;
  /** output only each sequence's last token (tokens then has one row per sequence) */
  lastTokenOnly?: boolean;
  /** tokens every sequence starts with, evaluated once and shared through the KV cache; the batch holds what follows */
  prefix?: Int32Array;
  /** measure the largest |value| of each input channel of every product with a named weight */
  inputRanges?: boolean;
}

export interface NativeEmbedResult {
  /** [sequence][embeddingLength], or null for a context with pooling none */
  pooled: Float32Array | null;
  /** [token][embeddingLength] when tokenVectors was asked for */
  tokens: Float32Array | null;
  /** [requested layer][token][hiddenLength] when layers were asked for */
  layers: Float32Array | null;
  /** weight name ("blk.0.attn_q.weight") -> per-input-channel range, when inputRanges was asked for */
  inputRanges: Record<string, Float32Array> | null;
}

export interface NativeEmbeddingContext {
  embed(tokens: Int32Array, sequenceLengths: Uint32Array, options: NativeEmbedOptions): Promise<NativeEmbedResult>;
  limits(): NativeContextLimits;
  dispose(): void;
  readonly disposed: boolean;
}

export interface NativeModel {
  metadata(): NativeModelMetadata;
  tokenize(text: string, addSpecial: boolean, parseSpecial: boolean): Int32Array;
  /** UTF-8 bytes of each token's piece; piece i is bytes[ends[i-1] ?? 0, ends[i]) */
  tokenPieces(ids: Int32Array): { bytes: Uint8Array; ends: Uint32Array };
  /** llama_token_attr bit set per token */
  tokenAttributes(ids: Int32Array): Uint32Array;
  createEmbeddingContext(options: NativeContextOptions): Promise<NativeEmbeddingContext>;
  dispose(): void;
  readonly disposed: boolean;
}

export interface NativeAddon {
  /** repackWeights: llama.cpp's CPU weight repacking ("extra buffer types") */
  loadModel(
    path: string,
    options: { gpuLayers: number; useMmap: boolean; repackWeights: boolean },
  ): Promise<NativeModel>;
  /** llama_model_quantize; fileType is a llama_ftype value */
  quantizeModel(
    inputPath: string,
    outputPath: string,
    options: { fileType: number; threads: number; allowRequantize: boolean },
  ): Promise<void>;
  systemInfo(): string;
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const requireNative = createRequire(import.meta.url);

// npm >= 11.19 runs dependencies' install scripts only once the project approves them.
const approveInstallStep = "npm install-scripts approve ctxembed";

let loaded: NativeAddon | undefined;
let loadedFile: string | undefined;

/**
 * The addon as node-gyp-build finds it: a source build in build/Release first, else the
 * prebuilt binary in prebuilds/<platform>-<arch> (scripts/build/install.mjs chose between them),
 * in the widest CPU variant this CPU runs (native/cpu-baseline.mjs; CTXEMBED_CPU_VARIANT names one).
 */
export function nativeAddon(): NativeAddon {
  if (loaded) return loaded;
  const nodeGypBuild = requireNative("node-gyp-build") as { resolve(directory: string): string };
  let file: string;
  try {
    file = nodeGypBuild.resolve(packageRoot);
  } catch (error) {
    throw new Error(
      `ctxembed's native addon is neither built nor prebuilt for ${process.platform}-${process.arch}: ${(error as Error).message.trim()}\n` +
        `Build it with \`${approveInstallStep} && npm rebuild ctxembed\` (or \`npm run build:native\` in ${packageRoot}); that needs cmake, a C++17 compiler and git.`,
    );
  }
  // npm skips dependencies' install scripts unless allowed, so the install step's CPU check may
  // never have run: a missing instruction would otherwise surface as SIGILL at the first embed.
  if (relative(packageRoot, file).startsWith(`prebuilds${sep}`)) {
    const missing = missingPortableInstructions();
    if (missing.length > 0) {
      throw new Error(
        `this CPU lacks ${missing.join(", ")}, which ctxembed's prebuilt binary assumes; build from source instead: ${approveInstallStep} && CTXEMBED_BUILD_FROM_SOURCE=1 npm rebuild ctxembed`,
      );
    }
    file = prebuildVariant(file).file;
  }
  // Set only while the addon loads: child processes (and the system's OpenBLAS) see the values
  // they had before.
  const variables = openblasLoadVariables(x64CpuInfo());
  const before = Object.fromEntries(Object.keys(variables).map((name) => [name, process.env[name]]));
  Object.assign(process.env, variables);
  try {
    loaded = requireNative(file) as NativeAddon;
    loadedFile = file;
  } finally {
    for (const [name, value] of Object.entries(before)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
  return loaded;
}

/** The file nativeAddon() loaded (it loads the addon if it has not yet). */
export function nativeAddonFile(): string {
  nativeAddon();
  return loadedFile!;
}
