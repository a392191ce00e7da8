import { describe, expect, it } from "vitest";
import { repackByDefault, q8VnniFeature } from "../../../lib/embedding/weight-repacking.js";
import { GgmlType } from "../../../lib/gguf/format.js";
import type { GgufTensorInfo } from "../../../lib/gguf/reader.js";

const tensor = (name: string, type: number): GgufTensorInfo => ({
  name,
  shape: [384, 384],
  type,
  offset: 0,
  byteLength: 0,
});
const withKernel = `CPU : AVX2 = 1 | AVX512 = 1 | AVX512_VNNI = 1 | ${q8VnniFeature} | `;
const q8File = [
  tensor("token_embd.weight", GgmlType.Q8_0),
  tensor("blk.0.attn_q.weight", GgmlType.Q8_0),
  tensor("blk.0.attn_norm.weight", GgmlType.F32),
  tensor("position_embd.weight", GgmlType.F16),
];

describe("repackByDefault", () => {
  it("repacks a file whose quantized weights are all Q8_0 where the addon has the VNNI kernel", () => {
    expect(repackByDefault(q8File, withKernel)).toBe(true);
  });
  it("does not where the addon lacks it (an AVX2 build, another architecture)", () => {
    expect(repackByDefault(q8File, "CPU : AVX2 = 1 | FMA = 1 | REPACK = 1 | ")).toBe(false);
  });
  it("does not for a file with any other quantized type, whose repacked kernels depend on the batch", () => {
    expect(repackByDefault([...q8File, tensor("blk.0.ffn_down.weight", GgmlType.Q6_K)], withKernel)).toBe(false);
    expect(repackByDefault([tensor("blk.0.attn_q.weight", GgmlType.Q4_K)], withKernel)).toBe(false);
  });
  it("does not for float files, which have nothing to repack", () => {
    expect(repackByDefault([tensor("a", GgmlType.F32), tensor("b", GgmlType.BF16)], withKernel)).toBe(false);
  });
});
