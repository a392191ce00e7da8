// The raw native module, described once. Everything here is unchecked: the library modules
// validate arguments before they reach these functions.
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

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
}

export interface NativeContextLimits {
  contextTokens: number;
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
}

export interface NativeEmbedResult {
  /** [sequence][embeddingLength], or null for a context with pooling none */
  pooled: Float32Array | null;
  /** [token][embeddingLength] when tokenVectors was asked for */
  tokens: Float32Array | null;
  /** [requested layer][token][hiddenLength] when layers were asked for */
  layers: Float32Array | null;
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
  loadModel(path: string, options: { gpuLayers: number; useMmap: boolean; repackWeights: boolean }): Promise<NativeModel>;
  systemInfo(): string;
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const addonPath = join(packageRoot, "build", "Release", "ctxembed.node");

let loaded: NativeAddon | undefined;

export function nativeAddon(): NativeAddon {
  if (loaded) return loaded;
  if (!existsSync(addonPath)) {
    throw new Error(
      `ctxembed's native addon is not built (${addonPath} is missing). Run \`npm run build:native\` in ${packageRoot}; it needs cmake, a C++ compiler and git.`,
    );
  }
  loaded = createRequire(import.meta.url)(addonPath) as NativeAddon;
  return loaded;
}
