import { describe, expect, it } from "vitest";
import {
  bf16Avx512Feature,
  f32Avx512Feature,
  repackByDefault,
  q8VnniFeature,
} from "../../../lib/embedding/weight-repacking.js";
import { GgmlType } from "../../../lib/gguf/format.js";
import type { GgufTensorInfo } from "../../../lib/gguf/reader.js";

const tensor = (name: string, type: number, shape = [384, 384]): GgufTensorInfo => ({
  name,
  shape,
  type,
  offset: 0,
  byteLength: 0,
});
const withKernel = `CPU : AVX2 = 1 | AVX512 = 1 | AVX512_VNNI = 1 | ${q8VnniFeature} | ${f32Avx512Feature} | `;
const withF32KernelOnly = `CPU : AVX2 = 1 | AVX512 = 1 | ${f32Avx512Feature} | `;
const q8File = [
  tensor("token_embd.weight", GgmlType.Q8_0),
  tensor("blk.0.attn_q.weight", GgmlType.Q8_0),
  tensor("blk.0.attn_norm.weight", GgmlType.F32, [384]),
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
  it("does not repack Q8_0 where the addon has the f32 kernel but not the VNNI one", () => {
    expect(repackByDefault(q8File, withF32KernelOnly)).toBe(false);
  });
  it("repacks a file whose matrices are all f32 where the addon has the AVX-512 f32 kernel", () => {
    const f32File = [
      tensor("blk.0.attn_q.weight", GgmlType.F32),
      tensor("blk.0.attn_norm.weight", GgmlType.F32, [384]),
    ];
    expect(repackByDefault(f32File, withF32KernelOnly)).toBe(true);
    expect(repackByDefault(f32File, "CPU : AVX2 = 1 | FMA = 1 | REPACK = 1 | ")).toBe(false);
  });
  it("repacks a file whose matrices are all bf16 only where the addon has the AVX512_BF16 kernel", () => {
    const bf16File = [
      tensor("blk.0.attn_q.weight", GgmlType.BF16),
      tensor("blk.0.attn_norm.weight", GgmlType.F32, [384]),
    ];
    expect(repackByDefault(bf16File, `${withKernel}${bf16Avx512Feature} | `)).toBe(true);
    expect(repackByDefault(bf16File, withKernel)).toBe(false);
  });
  it("does not for f16 files, which ggml never repacks, or a file of vectors only", () => {
    expect(repackByDefault([tensor("a", GgmlType.F16)], withKernel)).toBe(false);
    expect(repackByDefault([tensor("norm", GgmlType.F32, [384])], withKernel)).toBe(false);
  });
});
