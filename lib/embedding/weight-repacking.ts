// Whether a model loads with llama.cpp's CPU weight repacking when the caller does not say.
//
// Repacked kernels are faster, but most of llama.cpp's take one path for a few rows and another
// for many, so a text's vector would depend on its batch mates (cosine ~0.999 on gemma-3-270m
// Q4_K_M). ctxembed's patches add three kernels that compute every row alike: Q8_0 on AVX512-VNNI
// (scripts/build/llama-patches/0007-q8_0-vnni-repack.patch), f32 on AVX-512
// (0008-repack-f32-avx512.patch) and bf16 on AVX512_BF16 (0012-bf16-repack-avx512bf16.patch), each
// named in the addon's system info where it was compiled in. Repacking is on by default when every
// matrix llama.cpp would repack has such a kernel in this addon, and off otherwise.
import { GgmlType } from "../gguf/format.js";
import type { GgufTensorInfo } from "../gguf/reader.js";

/** The system info's features that say the addon carries a batch-invariant repacked kernel. */
export const q8VnniFeature = "REPACK_Q8_0_VNNI = 1";
export const f32Avx512Feature = "REPACK_F32_AVX512 = 1";
export const bf16Avx512Feature = "REPACK_BF16_AVX512BF16 = 1";

const batchInvariantKernels: ReadonlyMap<number, string> = new Map([
  [GgmlType.Q8_0, q8VnniFeature],
  [GgmlType.F32, f32Avx512Feature],
  [GgmlType.BF16, bf16Avx512Feature],
]);
/** Types ggml's CPU backend has no repacked layout for, on any CPU. */
const neverRepacked: ReadonlySet<number> = new Set([GgmlType.F16]);

/** Vectors (norms, biases) are never multiplied as matrices, so never repacked. */
const isMatrix = (tensor: GgufTensorInfo): boolean => tensor.shape.length >= 2 && (tensor.shape[1] ?? 1) > 1;

export function repackByDefault(tensors: readonly GgufTensorInfo[], systemInfo: string): boolean {
  const repackable = tensors.filter((tensor) => isMatrix(tensor) && !neverRepacked.has(tensor.type));
  return (
    repackable.length > 0 &&
    repackable.every((tensor) => {
      const feature = batchInvariantKernels.get(tensor.type);
      return feature !== undefined && systemInfo.includes(feature);
    })
  );
}
