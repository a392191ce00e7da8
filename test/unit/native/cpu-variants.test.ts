// The CPU variants of the prebuilt binary: which one a CPU gets, and what each build turns on.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  missingInstructions,
  prebuildVariant,
  x64CpuVariants,
  x64InstructionOptions,
  x64VariantOptions,
} from "../../../native/cpu-baseline.mjs";

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
