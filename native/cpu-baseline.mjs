// What a portable x86-64 build assumes: x86-64-v3 (AVX2, FMA, F16C, BMI2), i.e. Intel Haswell
// (2013) and AMD Excavator/Zen onwards. ggml's f32/f16 dot products and matrix kernels have
// AVX2+FMA paths that are 2-4x faster than their SSE fallbacks, and practically every x86 CPU
// still in service has them; AVX-512 is left out because many current CPUs (most consumer Intel
// parts, AMD before Zen 4) lack it. Each entry is the /proc/cpuinfo flag and the ggml option that
// turns its code paths on.
//
// Kept here, beside the native sources, because both sides need it: the build scripts set the
// ggml options, and the install step and the library check the CPU before they trust a prebuilt
// binary (a missing instruction only shows up as SIGILL at the first embed). The library must not
// import the build scripts, and the build scripts must not import the library (not built yet
// when they run).
import { readFileSync } from "node:fs";

export const portableX64Instructions = [
  { cpuFlag: "sse4_2", ggmlOption: "GGML_SSE42" },
  { cpuFlag: "avx", ggmlOption: "GGML_AVX" },
  { cpuFlag: "avx2", ggmlOption: "GGML_AVX2" },
  { cpuFlag: "fma", ggmlOption: "GGML_FMA" },
  { cpuFlag: "f16c", ggmlOption: "GGML_F16C" },
  { cpuFlag: "bmi2", ggmlOption: "GGML_BMI2" },
];

export const portableX64Excluded = [
  "GGML_AVX512",
  "GGML_AVX512_VBMI",
  "GGML_AVX512_VNNI",
  "GGML_AVX512_BF16",
  "GGML_AVX_VNNI",
  "GGML_AMX_TILE",
  "GGML_AMX_INT8",
  "GGML_AMX_BF16",
];

/**
 * This CPU's vendor and instruction-set flags as Linux reports them in /proc/cpuinfo (x86-64
 * Linux only; elsewhere null).
 * @returns {{ vendor: string, flags: Set<string> } | null}
 */
export function x64CpuInfo() {
  if (process.arch !== "x64" || process.platform !== "linux") return null;
  const lines = readFileSync("/proc/cpuinfo", "utf8").split("\n");
  const field = (name) =>
    lines
      .find((line) => line.startsWith(name))
      ?.split(":")[1]
      ?.trim() ?? "";
  return { vendor: field("vendor_id"), flags: new Set(field("flags").split(/\s+/)) };
}

/** Instruction sets a portable x86-64 prebuild assumes that this CPU lacks (Linux only; [] elsewhere). */
export function missingPortableInstructions() {
  const cpu = x64CpuInfo();
  if (cpu === null) return [];
  return portableX64Instructions.map(({ cpuFlag }) => cpuFlag).filter((flag) => !cpu.flags.has(flag));
}
