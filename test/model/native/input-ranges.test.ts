// The addon's input-range measurement (native/input_range_capture.cpp) against a brute-force
// computation on the same run: Q, K and V read a block's input, which is the hidden state the
// layer capture copies out (layer i = input of block i), so their ranges must be its per-channel
// max |value| exactly.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  NativePooling,
  nativeAddon,
  type NativeEmbeddingContext,
  type NativeModel,
} from "../../../lib/native/addon.js";
import { minilmPath, sentenceFixture } from "../models.js";

const width = 384;
const layerCount = 6;
let model: NativeModel;
let context: NativeEmbeddingContext;
let tokens: Int32Array;
let lengths: Uint32Array;

beforeAll(async () => {
  model = await nativeAddon().loadModel(await minilmPath("f32"), { gpuLayers: 0, useMmap: true, repackWeights: false });
  const sequences = sentenceFixture()
    .sentences.slice(0, 24)
    .map((sentence) => model.tokenize(sentence, true, false));
  tokens = Int32Array.from(sequences.flatMap((ids) => [...ids]));
  lengths = Uint32Array.from(sequences, (ids) => ids.length);
  context = await model.createEmbeddingContext({
    contextTokens: tokens.length,
    batchTokens: tokens.length,
    microBatchTokens: tokens.length,
    maxSequences: sequences.length,
    threads: 2,
    pooling: NativePooling.None,
    causal: false,
    flashAttention: true,
    separateSequences: false,
  });
});
afterAll(() => {
  context.dispose();
  model.dispose();
});

describe("inputRanges", () => {
  it("gives Q, K and V of every block the largest |value| of each channel of the block's input", async () => {
    const layers = Int32Array.from({ length: layerCount }, (_, layer) => layer);
    const result = await context.embed(tokens, lengths, { tokenVectors: false, layers, inputRanges: true });
    for (let layer = 0; layer < layerCount; layer++) {
      const states = result.layers!.subarray(layer * tokens.length * width, (layer + 1) * tokens.length * width);
      const expected = new Float32Array(width);
      states.forEach((value, i) => {
        expected[i % width] = Math.max(expected[i % width]!, Math.abs(value));
      });
      for (const part of ["q", "k", "v"]) {
        expect([...result.inputRanges![`blk.${layer}.attn_${part}.weight`]!], `layer ${layer} ${part}`).toEqual([
          ...expected,
        ]);
      }
    }
  });

  it("measures every other weight product at its own input width", async () => {
    const result = await context.embed(tokens, lengths, {
      tokenVectors: false,
      layers: new Int32Array(0),
      inputRanges: true,
    });
    const ranges = result.inputRanges!;
    expect(Object.keys(ranges)).toHaveLength(layerCount * 6);
    for (let layer = 0; layer < layerCount; layer++) {
      expect(ranges[`blk.${layer}.attn_output.weight`]).toHaveLength(width);
      expect(ranges[`blk.${layer}.ffn_up.weight`]).toHaveLength(width);
      expect(ranges[`blk.${layer}.ffn_down.weight`]).toHaveLength(4 * width);
      // GELU's output is bounded below by about -0.17, so a range is positive wherever the FFN fires
      expect(ranges[`blk.${layer}.ffn_down.weight`]!.every((range) => range > 0)).toBe(true);
    }
  });

  it("is measured only when asked for", async () => {
    const result = await context.embed(tokens, lengths, { tokenVectors: false, layers: new Int32Array(0) });
    expect(result.inputRanges).toBeNull();
  });
});
