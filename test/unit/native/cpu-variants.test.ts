// The CPU variants of the prebuilt binary: which one a CPU gets, and what each build turns on.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { whereApplicable } from "../../skips.js";
import {
  arm64CpuVariants,
  cpuVariantsOf,
  missingInstructions,
  prebuildVariant,
  variantOptions,
  x64CpuVariants,
  x64InstructionOptions,
  x64VariantOptions,
} from "../../../native/cpu-baseline.mjs";
import {
  hostPlatform,
  prebuild,
  prebuildFile,
  prebuildPlatforms,
  prebuildVariantFile,
} from "../../../scripts/build/prebuild.mjs";

const [baseline, avx512] = x64CpuVariants as [(typeof x64CpuVariants)[0], (typeof x64CpuVariants)[0]];
const cpu = (flags: readonly string[]) => ({ vendor: "AuthenticAMD", flags: new Set(flags) });
const zen4 = cpu([...avx512.cpuFlags, "avx512_bitalg"]);
const skylakeX = cpu(avx512.cpuFlags.filter((flag) => !["avx512vbmi", "avx512_vnni", "avx512_bf16"].includes(flag)));
const haswell = cpu(baseline.cpuFlags);

const packageDirectory = mkdtempSync(join(tmpdir(), "ctxembed-variants-"));
const prebuilds = join(packageDirectory, "prebuilds", "linux-x64");
const baselineFile = join(prebuilds, "ctxembed.napi.glibc.node");
const avx512File = join(prebuilds, "avx512", "ctxembed.napi.glibc.node");
mkdirSync(join(prebuilds, "avx512"), { recursive: true });
writeFileSync(baselineFile, "");
afterAll(() => rmSync(packageDirectory, { recursive: true, force: true }));

describe("x64VariantOptions", () => {
  it("sets every instruction option, on for the variant's and off for the rest", () => {
    for (const variant of x64CpuVariants) {
      const options = x64VariantOptions(variant);
      expect(Object.keys(options).sort()).toEqual([...x64InstructionOptions].sort());
      expect(Object.keys(options).filter((name) => options[name])).toEqual(variant.ggmlOptions);
    }
    expect(x64VariantOptions(baseline).GGML_AVX512).toBe(false);
    expect(x64VariantOptions(avx512).GGML_AVX512_BF16).toBe(true);
    expect(x64VariantOptions(avx512).GGML_AMX_INT8).toBe(false);
  });
});

describe("prebuildVariant", () => {
  it("loads the baseline while the package ships no wider variant", () => {
    expect(prebuildVariant(baselineFile, {}, zen4)).toEqual({ file: baselineFile, variant: "x86-64-v3" });
  });

  it("loads the widest variant the CPU runs", () => {
    writeFileSync(avx512File, "");
    expect(prebuildVariant(baselineFile, {}, zen4)).toEqual({ file: avx512File, variant: "avx512" });
    expect(missingInstructions(avx512, skylakeX)).toEqual(["avx512vbmi", "avx512_vnni", "avx512_bf16"]);
    expect(prebuildVariant(baselineFile, {}, skylakeX).variant).toBe("x86-64-v3");
    expect(prebuildVariant(baselineFile, {}, haswell).variant).toBe("x86-64-v3");
    expect(prebuildVariant(baselineFile, {}, null)).toEqual({ file: baselineFile, variant: undefined });
  });

  it("takes the variant CTXEMBED_CPU_VARIANT names, and refuses one the CPU or the package lacks", () => {
    writeFileSync(avx512File, "");
    expect(prebuildVariant(baselineFile, { CTXEMBED_CPU_VARIANT: "x86-64-v3" }, zen4).file).toBe(baselineFile);
    expect(() => prebuildVariant(baselineFile, { CTXEMBED_CPU_VARIANT: "avx512" }, haswell)).toThrow(
      /needs avx512f, .* which this CPU lacks/,
    );
    expect(() => prebuildVariant(baselineFile, { CTXEMBED_CPU_VARIANT: "avx2" }, zen4)).toThrow(
      /is not one of x86-64-v3, avx512/,
    );
    rmSync(avx512File);
    expect(() => prebuildVariant(baselineFile, { CTXEMBED_CPU_VARIANT: "avx512" }, zen4)).toThrow(/ships no/);
  });
});

describe("arm64", () => {
  const [armBaseline] = arm64CpuVariants as [(typeof arm64CpuVariants)[0]];
  // AT_HWCAP names as the kernel reports them: Neoverse N1 (Graviton 2) and Cortex-A72 (Graviton 1).
  const neoverseN1 = cpu(["fp", "asimd", "atomics", "fphp", "asimdhp", "asimdrdm", "asimddp"]);
  const cortexA72 = cpu(["fp", "asimd"]);
  const armFile = join(packageDirectory, "prebuilds", "linux-arm64", "ctxembed.napi.glibc.node");

  it("is one armv8.2-a build with the dot product, on llama.cpp's kernels", () => {
    expect(cpuVariantsOf("arm64")).toBe(arm64CpuVariants);
    expect(cpuVariantsOf("ia32")).toEqual([]);
    expect(variantOptions(armBaseline)).toEqual({
      GGML_CPU_ARM_ARCH: "armv8.2-a+dotprod",
      CTXEMBED_OPENBLAS: false,
    });
    expect(variantOptions(x64CpuVariants[0]!)).toEqual(x64VariantOptions(x64CpuVariants[0]!));
  });

  it("runs on a Neoverse N1 and not on a Cortex-A72", () => {
    expect(missingInstructions(armBaseline, neoverseN1)).toEqual([]);
    expect(missingInstructions(armBaseline, cortexA72)).toEqual(["atomics", "asimdrdm", "asimddp"]);
    expect(prebuildVariant(armFile, {}, neoverseN1, arm64CpuVariants)).toEqual({
      file: armFile,
      variant: "armv8.2-a+dotprod",
    });
    expect(() =>
      prebuildVariant(armFile, { CTXEMBED_CPU_VARIANT: "armv8.2-a+dotprod" }, cortexA72, arm64CpuVariants),
    ).toThrow(/needs atomics, .*asimddp, which this CPU lacks/);
  });
});

whereApplicable(
  hostPlatform === "linux-x64" ? undefined : `prebuilt binaries are made on linux-x64, not ${hostPlatform}`,
).describe("prebuilt binaries made on linux-x64", () => {
  it("are linux-x64's and linux-arm64's, each in its platform's folder", async () => {
    expect(prebuildPlatforms).toEqual(["linux-x64", "linux-arm64"]);
    expect(prebuildFile("linux-arm64").split(/[\\/]/).slice(-3)).toEqual([
      "prebuilds",
      "linux-arm64",
      "ctxembed.napi.glibc.node",
    ]);
    expect(prebuildVariantFile(arm64CpuVariants[0])).toBe(prebuildFile("linux-arm64"));
    expect(prebuildVariantFile(x64CpuVariants[1])).toBe(
      join(dirname(prebuildFile()), "avx512", "ctxembed.napi.glibc.node"),
    );
    await expect(prebuild(["darwin-arm64"])).rejects.toThrow(
      "this linux-x64 host makes no prebuilt binary for darwin-arm64: it makes linux-x64, linux-arm64",
    );
  });
});
