// What the library needs to know about a model, derived from the GGUF metadata llama.cpp read.
import { basename } from "node:path";
import { ACTIVATION_SMOOTHING_KEY } from "../gguf/format.js";
import { NativePooling, type NativeModelMetadata, type NativeSpecialTokens } from "../native/addon.js";
import { recommendPrompt, type PromptRecommendation } from "../prompts/recommend.js";

export type ModelPooling = "mean" | "cls" | "last" | "none";

export interface ModelInfo {
  path: string;
  architecture: string;
  name: string;
  description: string;
  /** width of the output vectors */
  dimensions: number;
  /** width of the hidden states between blocks (layer outputs) */
  hiddenSize: number;
  layerCount: number;
  parameterCount: number;
  sizeBytes: number;
  /** positions the model was trained with */
  trainingContextLength: number;
  /** longest input the model's own pipeline embeds (sentence-transformers' max_seq_length when the converter recorded it) */
  maxSequenceLength: number;
  /** pooling the model was trained with; "mean" when the file does not say */
  defaultPooling: ModelPooling;
  causal: boolean;
  /** the vectors are L2-normalised unless an embed call says otherwise (sentence-transformers' Normalize is not recorded in GGUF) */
  normalizedByDefault: true;
  /** the prompt preset that suits the model, from its name or, for a plain decoder, its being causal */
  recommendedPrompt?: PromptRecommendation;
  /**
   * Where ctxembed's quantizer smoothed the file's activations: where its factors came from. Only
   * ctxembed loads such a file (`ctxembed quantize --no-smooth` writes a portable one; docs/models.md).
   */
  activationSmoothing?: string;
  vocabularyType: NativeModelMetadata["vocabularyType"];
  vocabularySize: number;
  specialTokens: NativeSpecialTokens;
  metadata: Record<string, string>;
}

const poolingNames: Record<number, ModelPooling> = {
  [NativePooling.None]: "none",
  [NativePooling.Mean]: "mean",
  [NativePooling.Cls]: "cls",
  [NativePooling.Last]: "last",
};

// Bidirectional encoders whose files may omit {arch}.attention.causal. gemma-embedding's and
// t5encoder's converters write no such key; llama.cpp runs both without a causal mask.
const encoderArchitectures = new Set([
  "gemma-embedding",
  "t5encoder",
  "bert",
  "nomic-bert",
  "nomic-bert-moe",
  "jina-bert-v2",
  "jina-bert-v3",
  "modern-bert",
  "neo-bert",
]);

// Architectures llama.cpp loads but ctxembed cannot embed with. The addon runs llama_decode only;
// T5's decoder then reads cross-attention from an encoder pass that never ran, so its "vectors"
// would be decoder states of nothing, not embeddings (llama-embedding refuses encoder-decoders too).
// Refused by name at load rather than ever returning such a vector.
const unembeddableArchitectures = new Map([
  [
    "t5",
    "it is an encoder-decoder, and only its encoder makes embeddings: convert the encoder alone " +
      "(T5EncoderModel, architecture 't5encoder', as llama.cpp's convert_hf_to_gguf.py writes " +
      "sentence-t5), or pick a t5encoder GGUF",
  ],
]);

/** Throws, naming the architecture and what to do instead, for a file ctxembed cannot embed with. */
export function refuseUnembeddableArchitecture(path: string, architecture: unknown): void {
  if (typeof architecture !== "string") return;
  const reason = unembeddableArchitectures.get(architecture);
  if (reason !== undefined)
    throw new Error(`${path}: ctxembed cannot embed with architecture '${architecture}': ${reason}`);
}

function positiveInteger(text: string | undefined): number | undefined {
  const value = text === undefined ? NaN : Number(text);
  return Number.isInteger(value) && value > 0 ? value : undefined;
}

export function modelInfo(path: string, native: NativeModelMetadata): ModelInfo {
  const entries = native.entries;
  const architecture = entries["general.architecture"] ?? "unknown";
  const causalFlag = entries[`${architecture}.attention.causal`];
  const poolingCode = positiveInteger(entries[`${architecture}.pooling_type`]);
  const causal = causalFlag === undefined ? !encoderArchitectures.has(architecture) : causalFlag !== "false";
  const name = entries["general.name"] ?? architecture;
  const recommendedPrompt = recommendPrompt([name, basename(path)], causal);
  const smoothing = entries[ACTIVATION_SMOOTHING_KEY];
  return {
    path,
    architecture,
    name,
    description: native.description,
    dimensions: native.embeddingLength,
    hiddenSize: native.hiddenLength,
    layerCount: native.layerCount,
    parameterCount: native.parameterCount,
    sizeBytes: native.sizeBytes,
    trainingContextLength: native.trainingContextLength,
    maxSequenceLength: Math.min(
      positiveInteger(entries["ctxembed.max_sequence_length"]) ?? native.trainingContextLength,
      native.trainingContextLength,
    ),
    defaultPooling: (poolingCode !== undefined ? poolingNames[poolingCode] : undefined) ?? "mean",
    causal,
    normalizedByDefault: true,
    ...(recommendedPrompt === undefined ? {} : { recommendedPrompt }),
    ...(smoothing === undefined ? {} : { activationSmoothing: smoothing }),
    vocabularyType: native.vocabularyType,
    vocabularySize: native.vocabularySize,
    specialTokens: native.specialTokens,
    metadata: entries,
  };
}
