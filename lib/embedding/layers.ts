// Which hidden states a vector is made of: one layer, several combined, or an ELMo-style scalar
// mix. Layer 0 is the embedding output, layer L the output of block L; negative numbers count
// from the top (-1 is the last block), as people say "the last four layers".
import { describe, requireOneOf } from "../util/validate.js";

export interface ScalarMix {
  /** one weight per layer, softmax-normalised: gamma * sum_j softmax(w)_j * h_j */
  weights: number[];
  gamma?: number;
}

export type LayerCombination = "mean" | "sum" | "concat" | ScalarMix;

export type LayerSpec = number | { layers: number[]; combine?: LayerCombination };

/** A validated selection: absolute layer numbers and how to combine them. */
export interface LayerPlan {
  layers: number[];
  combine: "mean" | "sum" | "concat" | { weights: Float64Array; gamma: number };
}

const combinations = ["mean", "sum", "concat"] as const;

function absoluteLayer(layer: unknown, layerCount: number, what: string): number {
  if (typeof layer !== "number" || !Number.isInteger(layer))
    throw new TypeError(`${what} must be an integer layer number, got ${describe(layer)}`);
  const absolute = layer < 0 ? layerCount + 1 + layer : layer;
  if (absolute < 0 || absolute > layerCount) {
    throw new RangeError(
      `${what} is ${layer}, but the model has layers 0 (embeddings) to ${layerCount}, or -1 to -${layerCount + 1} from the top`,
    );
  }
  return absolute;
}

function softmax(weights: readonly number[]): Float64Array {
  const top = Math.max(...weights);
  const exps = weights.map((w) => Math.exp(w - top));
  const total = exps.reduce((a, b) => a + b, 0);
  return Float64Array.from(exps, (e) => e / total);
}

export function planLayers(spec: unknown, layerCount: number): LayerPlan {
  if (typeof spec === "number") return { layers: [absoluteLayer(spec, layerCount, "layers")], combine: "mean" };
  if (spec === null || typeof spec !== "object" || !Array.isArray((spec as { layers?: unknown }).layers)) {
    throw new TypeError(`layers must be a layer number or {layers: number[], combine}, got ${describe(spec)}`);
  }
  const { layers: requested, combine = "mean" } = spec as { layers: unknown[]; combine?: unknown };
  if (requested.length === 0) throw new RangeError("layers.layers is empty: name at least one layer");
  const layers = requested.map((layer, i) => absoluteLayer(layer, layerCount, `layers.layers[${i}]`));
  if (new Set(layers).size !== layers.length)
    throw new RangeError(`layers.layers names a layer twice: ${requested.join(", ")}`);
  if (typeof combine === "object" && combine !== null) {
    const { weights, gamma = 1 } = combine as Partial<ScalarMix>;
    if (!Array.isArray(weights) || weights.length !== layers.length || !weights.every(Number.isFinite)) {
      throw new TypeError(
        `a scalar mix needs one finite weight per layer (${layers.length}), got ${describe(weights)}`,
      );
    }
    if (typeof gamma !== "number" || !Number.isFinite(gamma))
      throw new TypeError(`the scalar mix's gamma must be a number, got ${describe(gamma)}`);
    return { layers, combine: { weights: softmax(weights), gamma } };
  }
  return { layers, combine: requireOneOf(combine, "layers.combine", combinations) };
}

export function combinedWidth(plan: LayerPlan, hiddenSize: number): number {
  return plan.combine === "concat" ? hiddenSize * plan.layers.length : hiddenSize;
}

/** Per-layer weights of a weighted sum; undefined for concatenation. */
function layerCoefficients(plan: LayerPlan): Float64Array | undefined {
  const count = plan.layers.length;
  switch (plan.combine) {
    case "concat":
      return undefined;
    case "sum":
      return new Float64Array(count).fill(1);
    case "mean":
      return new Float64Array(count).fill(1 / count);
    default: {
      const { weights, gamma } = plan.combine;
      return weights.map((weight) => weight * gamma);
    }
  }
}

/**
 * Combines captured states laid out [layer][token][hidden] (the addon's order) into one row per
 * token, for the tokens [first, first + count) of the batch.
 */
export function combineLayers(
  states: Float32Array,
  batchTokens: number,
  hiddenSize: number,
  plan: LayerPlan,
  first: number,
  count: number,
): Float32Array {
  const layerCount = plan.layers.length;
  const width = combinedWidth(plan, hiddenSize);
  const rows = new Float32Array(count * width);
  const coefficients = layerCoefficients(plan);
  for (let t = 0; t < count; t++) {
    for (let l = 0; l < layerCount; l++) {
      const source = (l * batchTokens + first + t) * hiddenSize;
      if (coefficients === undefined) {
        rows.set(states.subarray(source, source + hiddenSize), t * width + l * hiddenSize);
        continue;
      }
      const weight = coefficients[l]!;
      const target = t * width;
      for (let d = 0; d < hiddenSize; d++) rows[target + d]! += weight * states[source + d]!;
    }
  }
  return rows;
}
