// The CPU variants a release ships for x86-64, baseline first. The baseline is x86-64-v3 (AVX2,
// FMA, F16C, BMI2), i.e. Intel Haswell (2013) and AMD Excavator/Zen onwards: ggml's f32/f16 dot
// products and matrix kernels have AVX2+FMA paths that are 2-4x faster than their SSE fallbacks,
// and practically every x86 CPU still in service has them. The "avx512" variant adds AVX-512 with
// VBMI, VNNI and BF16 (Intel Sapphire Rapids, AMD Zen 4 onwards), whose bf16 and int8 kernels are
// the reduced-precision modes' fast paths; AVX-512 CPUs without them (Skylake-X, Ice Lake) run the
// baseline. Each variant lists the /proc/cpuinfo flags it needs and the ggml options it turns on;
// every other option of x64InstructionOptions is off.
//
// Kept here, beside the native sources, because both sides need it: the build scripts set the
// ggml options, and the install step and the library check the CPU before they trust a prebuilt
// binary (a missing instruction only shows up as SIGILL at the first embed) and pick the variant
// to load. The library must not import the build scripts, and the build scripts must not import
// the library (not built yet when they run).
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

const baseline = {
  name: "x86-64-v3",
  cpuFlags: ["sse4_2", "avx", "avx2", "fma", "f16c", "bmi2"],
  ggmlOptions: ["GGML_SSE42", "GGML_AVX", "GGML_AVX2", "GGML_FMA", "GGML_F16C", "GGML_BMI2"],
};

export const x64CpuVariants = [
  baseline,
  {
    name: "avx512",
    cpuFlags: [
      ...baseline.cpuFlags,
      // GGML_AVX512 compiles with -mavx512f -mavx512cd -mavx512vl -mavx512dq -mavx512bw.
      "avx512f",
      "avx512cd",
      "avx512vl",
      "avx512dq",
      "avx512bw",
      "avx512vbmi",
      "avx512_vnni",
      "avx512_bf16",
    ],
    ggmlOptions: [...baseline.ggmlOptions, "GGML_AVX512", "GGML_AVX512_VBMI", "GGML_AVX512_VNNI", "GGML_AVX512_BF16"],
  },
];

// Every instruction option a portable build sets: the variants' own, and the ones none turns on
// (AVX-VNNI, which Zen 4 lacks; AMX, compiled out, CMakeLists.txt).
export const x64InstructionOptions = [
  ...new Set([
    ...x64CpuVariants.flatMap((variant) => variant.ggmlOptions),
    "GGML_AVX_VNNI",
    "GGML_AMX_TILE",
    "GGML_AMX_INT8",
    "GGML_AMX_BF16",
  ]),
];

/** The ggml -D options of one x86-64 variant's build, every instruction option on or off. */
export function x64VariantOptions(variant) {
  return Object.fromEntries(x64InstructionOptions.map((name) => [name, variant.ggmlOptions.includes(name)]));
}

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

/** The instruction sets of a variant (the baseline when not given) that this CPU lacks (x86-64 Linux only; [] elsewhere). */
export function missingInstructions(variant = baseline, cpu = x64CpuInfo()) {
  if (cpu === null) return [];
  return variant.cpuFlags.filter((flag) => !cpu.flags.has(flag));
}

/** Instruction sets the portable x86-64 prebuild assumes that this CPU lacks (Linux only; [] elsewhere). */
export function missingPortableInstructions() {
  return missingInstructions(baseline);
}

/** Where a variant's prebuilt binary lies beside the baseline's: in a folder named after it. */
export function variantFile(baselineFile, variant) {
  return variant === undefined || variant === baseline
    ? baselineFile
    : join(dirname(baselineFile), variant.name, basename(baselineFile));
}

/**
 * The prebuilt binary to load for this CPU, given node-gyp-build's choice in
 * prebuilds/<platform>-<arch>/ (the baseline): the widest variant this CPU runs, from
 * prebuilds/<platform>-<arch>/<variant>/ when the package ships it, or the one CTXEMBED_CPU_VARIANT
 * names. Throws when that variable names a variant that is unknown, not shipped, or beyond this CPU.
 * Off x86-64 Linux there are no variants: the baseline file, variant undefined.
 * @returns {{ file: string, variant: string | undefined }}
 */
export function prebuildVariant(baselineFile, environment = process.env, cpu = x64CpuInfo()) {
  const shipped = (variant) => variantFile(baselineFile, variant);
  const requested = environment.CTXEMBED_CPU_VARIANT;
  if (requested) {
    const variant = x64CpuVariants.find(({ name }) => name === requested);
    const names = x64CpuVariants.map(({ name }) => name).join(", ");
    if (variant === undefined) throw new Error(`CTXEMBED_CPU_VARIANT=${requested} is not one of ${names}`);
    const missing = missingInstructions(variant, cpu);
    if (missing.length > 0)
      throw new Error(`CTXEMBED_CPU_VARIANT=${requested} needs ${missing.join(", ")}, which this CPU lacks`);
    if (!existsSync(shipped(variant)))
      throw new Error(`CTXEMBED_CPU_VARIANT=${requested}: the package ships no ${shipped(variant)}`);
    return { file: shipped(variant), variant: variant.name };
  }
  if (cpu === null) return { file: baselineFile, variant: undefined };
  const widest = [...x64CpuVariants]
    .reverse()
    .find((variant) => missingInstructions(variant, cpu).length === 0 && existsSync(shipped(variant)));
  return { file: widest ? shipped(widest) : baselineFile, variant: (widest ?? baseline).name };
}
