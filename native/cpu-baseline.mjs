// The CPU variants a release ships for each architecture, baseline first.
//
// x86-64: the baseline is x86-64-v3 (AVX2,
// FMA, F16C, BMI2), i.e. Intel Haswell (2013) and AMD Excavator/Zen onwards: ggml's f32/f16 dot
// products and matrix kernels have AVX2+FMA paths that are 2-4x faster than their SSE fallbacks,
// and practically every x86 CPU still in service has them. The "avx512" variant adds AVX-512 with
// VBMI, VNNI and BF16 (Intel Sapphire Rapids, AMD Zen 4 onwards), whose bf16 and int8 kernels are
// the reduced-precision modes' fast paths; AVX-512 CPUs without them (Skylake-X, Ice Lake) run the
// baseline. Each variant lists the /proc/cpuinfo flags it needs and the ggml options it turns on;
// every other option of x64InstructionOptions is off.
//
// arm64: one build, armv8.2-a with the dot-product instructions (Graviton 2 and later, Ampere Altra and AmpereOne, Neoverse N1 onwards, Raspberry Pi 5).
// Every product of the models ctxembed tests goes to llamafile's tinyBLAS, whose ARM kernels use
// NEON (f32, and f16 converted to f32) and SDOT (Q8_0, Q4_0); armv8.6's i8mm only enters
// ggml's own K-quant and Q4 dot products and its bf16 path has no ARM kernel at all, so a wider
// variant would change no kernel those models run (docs/install.md). Older cores (Cortex-A72:
// Graviton 1, Raspberry Pi 4) build from source. A variant lists the Linux hwcap names it needs,
// as /proc/cpuinfo's Features line spells them, and the -march value ggml compiles with.
//
// Kept here, beside the native sources, because both sides need it: the build scripts set the
// ggml options, and the install step and the library check the CPU before they trust a prebuilt
// binary (a missing instruction only shows up as SIGILL at the first embed) and pick the variant
// to load. The library must not import the build scripts, and the build scripts must not import
// the library (not built yet when they run).
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

const baseline = {
  arch: "x64",
  name: "x86-64-v3",
  cpuFlags: ["sse4_2", "avx", "avx2", "fma", "f16c", "bmi2"],
  ggmlOptions: ["GGML_SSE42", "GGML_AVX", "GGML_AVX2", "GGML_FMA", "GGML_F16C", "GGML_BMI2"],
};

export const x64CpuVariants = [
  baseline,
  {
    arch: "x64",
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

export const arm64CpuVariants = [
  {
    arch: "arm64",
    name: "armv8.2-a+dotprod",
    // armv8.1's LSE atomics and rounding multiply-accumulate come with -march=armv8.2-a; the
    // compiler may use them anywhere.
    cpuFlags: ["fp", "asimd", "atomics", "asimdrdm", "asimddp"],
    ggmlOptions: [],
    // Not +fp16: with FP16 vector arithmetic tinyBLAS's f16 kernel and ggml's f16 dot product
    // (flash attention's per-row path, a decoder's attention over its f16 cache) sum in half
    // precision; without it they convert to f32 and sum there, as the x86-64 builds do, which
    // leave AVX512-FP16 out for the same reason (CMakeLists.txt).
    march: "armv8.2-a+dotprod",
  },
];

/** The released CPU variants of an architecture (process.arch's spelling), baseline first; [] where none is released. */
export function cpuVariantsOf(arch = process.arch) {
  if (arch === "x64") return x64CpuVariants;
  if (arch === "arm64") return arm64CpuVariants;
  return [];
}

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
 * The ggml -D options of one variant's portable build. On arm64 also no OpenBLAS: Debian's
 * 0.3.21 picks its kernels by CPU part number, as on x86-64, and nothing here could measure it
 * against tinyBLAS on ARM hardware (docs/install.md).
 */
export function variantOptions(variant) {
  if (variant.arch === "x64") return x64VariantOptions(variant);
  return { GGML_CPU_ARM_ARCH: variant.march, CTXEMBED_OPENBLAS: false };
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

// Bits of the kernel's AT_HWCAP and AT_HWCAP2 (arch/arm64/include/uapi/asm/hwcap.h) under their
// /proc/cpuinfo names, for the features a variant may need.
const arm64Hwcaps = [
  ["fp", 0],
  ["asimd", 1],
  ["atomics", 8],
  ["fphp", 9],
  ["asimdhp", 10],
  ["asimdrdm", 12],
  ["asimddp", 20],
  ["sve", 22],
];
const arm64Hwcaps2 = [
  ["sve2", 1],
  ["i8mm", 13],
  ["bf16", 14],
];

/**
 * This CPU's features as the kernel hands them to the process (the auxiliary vector's AT_HWCAP
 * and AT_HWCAP2, which getauxval reads and ggml checks), named as /proc/cpuinfo names them
 * (arm64 Linux only; elsewhere null). Not /proc/cpuinfo itself: qemu-user passes the host's
 * through, while it emulates the auxiliary vector.
 * @returns {{ vendor: string, flags: Set<string> } | null}
 */
export function arm64CpuInfo() {
  if (process.arch !== "arm64" || process.platform !== "linux") return null;
  const auxv = readFileSync("/proc/self/auxv");
  const entries = new Map();
  for (let offset = 0; offset + 16 <= auxv.length; offset += 16) {
    entries.set(auxv.readBigUInt64LE(offset), auxv.readBigUInt64LE(offset + 8));
  }
  const named = (bits, table) => table.filter(([, bit]) => (bits >> BigInt(bit)) & 1n).map(([name]) => name);
  const atHwcap = 16n;
  const atHwcap2 = 26n;
  return {
    vendor: "",
    flags: new Set([
      ...named(entries.get(atHwcap) ?? 0n, arm64Hwcaps),
      ...named(entries.get(atHwcap2) ?? 0n, arm64Hwcaps2),
    ]),
  };
}

/** This CPU's instruction sets when it is of the given architecture (Linux only; elsewhere null). */
export function cpuInfo(arch = process.arch) {
  if (arch !== process.arch) return null;
  if (arch === "x64") return x64CpuInfo();
  if (arch === "arm64") return arm64CpuInfo();
  return null;
}

/**
 * The instruction sets of a variant (this architecture's baseline when not given) that this CPU
 * lacks (x86-64 and arm64 Linux only; [] elsewhere).
 */
export function missingInstructions(variant = cpuVariantsOf()[0], cpu = cpuInfo(variant?.arch)) {
  if (variant === undefined || cpu === null) return [];
  return variant.cpuFlags.filter((flag) => !cpu.flags.has(flag));
}

/** Instruction sets the portable prebuild of this architecture assumes that this CPU lacks (Linux only; [] elsewhere). */
export function missingPortableInstructions() {
  return missingInstructions();
}

/** Where a variant's prebuilt binary lies beside the baseline's: in a folder named after it. */
export function variantFile(baselineFile, variant) {
  return variant === undefined || cpuVariantsOf(variant.arch)[0] === variant
    ? baselineFile
    : join(dirname(baselineFile), variant.name, basename(baselineFile));
}

/**
 * The prebuilt binary to load for this CPU, given node-gyp-build's choice in
 * prebuilds/<platform>-<arch>/ (the baseline): the widest variant this CPU runs, from
 * prebuilds/<platform>-<arch>/<variant>/ when the package ships it, or the one CTXEMBED_CPU_VARIANT
 * names. Throws when that variable names a variant that is unknown, not shipped, or beyond this CPU.
 * Off x86-64 and arm64 Linux there are no variants: the baseline file, variant undefined.
 * @returns {{ file: string, variant: string | undefined }}
 */
export function prebuildVariant(
  baselineFile,
  environment = process.env,
  cpu = cpuInfo(),
  variants = cpuVariantsOf(process.arch),
) {
  const shipped = (variant) => variantFile(baselineFile, variant);
  const requested = environment.CTXEMBED_CPU_VARIANT;
  if (requested) {
    const variant = variants.find(({ name }) => name === requested);
    const names = variants.map(({ name }) => name).join(", ");
    if (variant === undefined) throw new Error(`CTXEMBED_CPU_VARIANT=${requested} is not one of ${names}`);
    const missing = missingInstructions(variant, cpu);
    if (missing.length > 0)
      throw new Error(`CTXEMBED_CPU_VARIANT=${requested} needs ${missing.join(", ")}, which this CPU lacks`);
    if (!existsSync(shipped(variant)))
      throw new Error(`CTXEMBED_CPU_VARIANT=${requested}: the package ships no ${shipped(variant)}`);
    return { file: shipped(variant), variant: variant.name };
  }
  if (cpu === null || variants.length === 0) return { file: baselineFile, variant: undefined };
  const widest = [...variants]
    .reverse()
    .find((variant) => missingInstructions(variant, cpu).length === 0 && existsSync(shipped(variant)));
  return { file: widest ? shipped(widest) : baselineFile, variant: (widest ?? variants[0]).name };
}
