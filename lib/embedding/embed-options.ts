// The options of model.embed(), validated once per call into the settings the pipeline runs on.
import { planLayers, type LayerPlan, type LayerSpec } from "./layers.js";
import { poolingModes, type PoolingMode } from "../vectors/pooling.js";
import { spanPoolingModes, type SpanPooling, type SpanRequest } from "../tokens/spans.js";
import type { WindowOptions } from "../tokens/windows.js";
import {
  describe,
  requireBoolean,
  requireInteger,
  requireKnownKeys,
  requireOneOf,
  requireOptions,
  requireText,
} from "../util/validate.js";
import { precisions, type Precision } from "../output/quantize-vectors.js";
import type { ModelInfo } from "./model-info.js";
import { planPrompt, type PromptOptions, type PromptPlan } from "../prompts/prompting.js";

export interface EmbedOptions {
  /**
   * sentence pooling; "model" (default) is what the model was trained with. "none" makes no
   * sentence vector (`embedding` is empty) and returns the token vectors in `tokens`.
   */
  pooling?: "model" | PoolingMode | "none";
  /** scale every returned vector to unit length; default true */
  normalize?: boolean;
  /** inputs over maxSequenceTokens: cut them (true, default) or reject them (false); ignored with `window` */
  truncate?: boolean;
  /** hidden states to build vectors from (default: the model's output); see LayerSpec */
  layers?: LayerSpec;
  /** also return every token's vector with its id, text and character range */
  tokens?: boolean;
  /** how span vectors pool their tokens; default "mean" */
  spanPooling?: SpanPooling;
  /** split inputs longer than the window into overlapping windows instead of truncating; `true` for defaults */
  window?: boolean | Partial<WindowOptions>;
  /** put each input in an instruction / in-context template; its preset's pooling applies unless `pooling` is given */
  prompt?: PromptOptions;
  /** Matryoshka: keep the first `dimensions` values of the sentence vector (re-normalised when `normalize`) */
  dimensions?: number;
  /** also return the sentence vector in a storage precision (`quantized`); default float32 only */
  precision?: Precision;
}

/** One input: a text, or a text with the spans (words, phrases) to return vectors for. */
export type EmbedInput = string | { text: string; spans?: SpanRequest[] };

export interface EmbedSettings {
  pooling: PoolingMode | "none";
  normalize: boolean;
  truncate: boolean;
  layers: LayerPlan | undefined;
  tokens: boolean;
  spanPooling: SpanPooling;
  window: WindowOptions | undefined;
  prompt: PromptPlan | undefined;
  dimensions: number | undefined;
  precision: Precision | undefined;
}

export interface NormalizedInput {
  text: string;
  spans: SpanRequest[];
}

const embedOptionKeys = [
  "pooling",
  "normalize",
  "truncate",
  "layers",
  "tokens",
  "spanPooling",
  "window",
  "prompt",
  "dimensions",
  "precision",
] as const;

export function embedSettings(options: unknown, info: ModelInfo, maxSequenceTokens: number): EmbedSettings {
  const given = requireOptions(options, "embed options");
  requireKnownKeys(given, "embed options", embedOptionKeys);
  const prompt = planPrompt(given.prompt);
  const requested =
    given.pooling === undefined ? "model" : requireOneOf(given.pooling, "pooling", ["model", ...poolingModes, "none"]);
  if (requested === "none") {
    const conflicting = [
      given.dimensions !== undefined && "dimensions",
      given.precision !== undefined && "precision",
      given.tokens === false && "tokens: false",
    ].filter(Boolean);
    if (conflicting.length > 0)
      throw new TypeError(
        `pooling "none" makes no sentence vector, so it cannot be combined with ${conflicting.join(", ")}`,
      );
  }
  const modelPooling =
    prompt && given.pooling === undefined
      ? prompt.preset.pooling
      : info.defaultPooling === "none"
        ? "mean"
        : info.defaultPooling;
  const width = given.layers === undefined ? info.dimensions : Number.MAX_SAFE_INTEGER;
  return {
    pooling: requested === "model" ? modelPooling : requested,
    normalize: given.normalize === undefined ? true : requireBoolean(given.normalize, "normalize"),
    truncate: given.truncate === undefined ? true : requireBoolean(given.truncate, "truncate"),
    layers: given.layers === undefined ? undefined : planLayers(given.layers, info.layerCount),
    tokens: requested === "none" || (given.tokens === undefined ? false : requireBoolean(given.tokens, "tokens")),
    spanPooling:
      given.spanPooling === undefined ? "mean" : requireOneOf(given.spanPooling, "spanPooling", spanPoolingModes),
    window: windowSettings(given.window, maxSequenceTokens),
    prompt,
    dimensions: given.dimensions === undefined ? undefined : requireInteger(given.dimensions, "dimensions", 1, width),
    precision: given.precision === undefined ? undefined : requireOneOf(given.precision, "precision", precisions),
  };
}

function windowSettings(value: unknown, maxSequenceTokens: number): WindowOptions | undefined {
  if (value === undefined || value === false) return undefined;
  const given = value === true ? {} : requireOptions(value, "window");
  requireKnownKeys(given, "window", ["size", "stride"]);
  const size =
    given.size === undefined ? maxSequenceTokens : requireInteger(given.size, "window.size", 3, maxSequenceTokens);
  const stride =
    given.stride === undefined
      ? Math.max(1, Math.floor(size / 2))
      : requireInteger(given.stride, "window.stride", 1, size);
  return { size, stride };
}

export function normalizeInput(input: unknown, what: string): NormalizedInput {
  if (typeof input === "string") return { text: requireText(input, what), spans: [] };
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw new TypeError(`${what} must be a string or {text, spans}, got ${describe(input)}`);
  }
  const { text, spans = [] } = input as { text?: unknown; spans?: unknown };
  requireKnownKeys(input, what, ["text", "spans"]);
  if (!Array.isArray(spans)) throw new TypeError(`${what}.spans must be an array, got ${describe(spans)}`);
  return { text: requireText(text, `${what}.text`), spans: spans as SpanRequest[] };
}
