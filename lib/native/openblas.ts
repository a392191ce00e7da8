// OpenBLAS (the f32 matrix products, docs/building.md) picks its kernels by CPU model number when
// it loads, and a model newer than the library gets its generic SSE3 kernels: Debian 12's 0.3.21
// does that on Intel Emerald Rapids, where it multiplied 5x slower than with its AVX-512 kernels.
// Naming the kernel family from the CPU's instruction sets instead gets the widest kernels the CPU
// runs, whatever the library's age.

export type OpenblasCoreType = "SkylakeX" | "Zen" | "Haswell";

export interface CpuInstructionSets {
  /** /proc/cpuinfo's vendor_id, e.g. GenuineIntel or AuthenticAMD */
  vendor: string;
  /** /proc/cpuinfo's flags */
  flags: ReadonlySet<string>;
}

/** The OPENBLAS_CORETYPE whose kernels this CPU runs fastest, or undefined to let OpenBLAS choose (no AVX2). */
export function openblasCoreType(cpu: CpuInstructionSets): OpenblasCoreType | undefined {
  const has = (...flags: string[]) => flags.every((flag) => cpu.flags.has(flag));
  if (has("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl")) return "SkylakeX";
  if (!has("avx2", "fma")) return undefined;
  // What OpenBLAS itself picks on the AVX2 models it knows.
  return cpu.vendor === "AuthenticAMD" || cpu.vendor === "HygonGenuine" ? "Zen" : "Haswell";
}

/**
 * The variables OpenBLAS reads when the addon loads: one thread of its own (ggml's threads each
 * call it on their own slice, so its pool would only sit idle) and the kernels for this CPU.
 *
 * The addon's OpenBLAS is linked in and private, so OPENBLAS_CORETYPE and OPENBLAS_NUM_THREADS as
 * set for the system's shared OpenBLAS (numpy's, say) do not apply to it: a machine-wide
 * OPENBLAS_CORETYPE=Haswell ran it 1.3x slower on an AVX-512 EPYC, and a thread count above one
 * would start a pool that competes with ggml's. CTXEMBED_OPENBLAS_CORETYPE names its kernel set
 * where the probe's choice is wrong.
 */
export function openblasLoadVariables(
  cpu: CpuInstructionSets | null,
  environment: Readonly<Record<string, string | undefined>> = process.env,
): Record<string, string> {
  const coreType = environment.CTXEMBED_OPENBLAS_CORETYPE || (cpu === null ? undefined : openblasCoreType(cpu));
  return { OPENBLAS_NUM_THREADS: "1", ...(coreType === undefined ? {} : { OPENBLAS_CORETYPE: coreType }) };
}
