// Whether a model loads with llama.cpp's CPU weight repacking when the caller does not say.
//
// Repacked kernels are faster, but most of llama.cpp's take one path for a few rows and another
// for many, so a text's vector would depend on its batch mates (cosine ~0.999 on gemma-3-270m
// Q4_K_M). The Q8_0 kernel for AVX512-VNNI that ctxembed's patch adds
// (scripts/build/llama-patches/q8_0-vnni-repack.patch) computes every row alike, and the addon
// names it in its system info where it was compiled in: repacking is on by default for a file
// whose quantized matrices are all Q8_0 on such an addon, and off otherwise.
import { GgmlType } from "../gguf/format.js";
import type { GgufTensorInfo } from "../gguf/reader.js";

const unquantizedTypes: ReadonlySet<number> = new Set([GgmlType.F32, GgmlType.F16, GgmlType.BF16]);

/** The system info's feature that says the addon carries the batch-invariant Q8_0 kernel. */
export const q8VnniFeature = "REPACK_Q8_0_VNNI = 1";

export function repackByDefault(tensors: readonly GgufTensorInfo[], systemInfo: string): boolean {
  if (!systemInfo.includes(q8VnniFeature)) return false;
  const quantized = tensors.filter((tensor) => !unquantizedTypes.has(tensor.type));
  return quantized.length > 0 && quantized.every((tensor) => tensor.type === GgmlType.Q8_0);
}
