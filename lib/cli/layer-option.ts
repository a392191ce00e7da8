import { InvalidArgumentError } from "commander";
import type { LayerSpec } from "../embedding/layers.js";

const integer = /^-?\d+$/;

function layerList(text: string): number[] {
  const last = /^last(\d+)$/.exec(text);
  if (last) return Array.from({ length: Number(last[1]) }, (_, i) => i - Number(last[1]));
  const items = text.split(",");
  if (!items.every((item) => integer.test(item)))
    throw new InvalidArgumentError(`"${text}" is not a layer list such as -1, 3,4,5 or last4`);
  return items.map(Number);
}

/**
 * --layers syntax: `-1` (one layer), `3,4,5,6` or `last4` (their mean), followed optionally by
 * `:mean`, `:sum`, `:concat`, or `:mix=w1,w2,…` with an optional `:gamma=g` (ELMo scalar mix).
 */
export function parseLayerOption(text: string): LayerSpec {
  const [list = "", combine, gamma] = text.split(":");
  const layers = layerList(list);
  if (combine === undefined) return layers.length === 1 ? layers[0]! : { layers };
  if (combine === "mean" || combine === "sum" || combine === "concat") {
    if (gamma !== undefined) throw new InvalidArgumentError(`gamma only goes with :mix=…`);
    return { layers, combine };
  }
  const mix = /^mix=(.+)$/.exec(combine);
  const gammaValue = gamma === undefined ? 1 : Number(/^gamma=(.+)$/.exec(gamma)?.[1]);
  const weights = mix?.[1]?.split(",").map(Number);
  if (!weights || !weights.every(Number.isFinite) || !Number.isFinite(gammaValue)) {
    throw new InvalidArgumentError(`"${text}": expected LAYERS[:mean|:sum|:concat|:mix=W1,W2,…[:gamma=G]]`);
  }
  return { layers, combine: { weights, gamma: gammaValue } };
}

/** --window SIZE[:STRIDE] */
export function parseWindowOption(text: string): { size: number; stride?: number } {
  const match = /^(\d+)(?::(\d+))?$/.exec(text);
  if (!match) throw new InvalidArgumentError(`"${text}" is not SIZE or SIZE:STRIDE in tokens`);
  return { size: Number(match[1]), ...(match[2] ? { stride: Number(match[2]) } : {}) };
}
