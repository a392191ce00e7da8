import { describe, expect, it } from "vitest";
import { openblasCoreType, openblasLoadVariables } from "../../../lib/native/openblas.js";

const avx2 = ["sse4_2", "avx", "avx2", "fma", "f16c", "bmi2"];
const avx512 = [...avx2, "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"];
const cpu = (vendor: string, flags: string[]) => ({ vendor, flags: new Set(flags) });

describe("openblasCoreType", () => {
  it("names the AVX-512 kernels wherever the CPU has AVX-512 F, CD, BW, DQ and VL", () => {
    // Intel Emerald Rapids (family 6, model 207), which OpenBLAS 0.3.21 does not know.
    expect(openblasCoreType(cpu("GenuineIntel", [...avx512, "avx512_bf16", "avx512_fp16"]))).toBe("SkylakeX");
    expect(openblasCoreType(cpu("AuthenticAMD", avx512))).toBe("SkylakeX");
  });

  it("names the AVX2 kernels by vendor, as OpenBLAS does on the models it knows", () => {
    expect(openblasCoreType(cpu("GenuineIntel", avx2))).toBe("Haswell");
    expect(openblasCoreType(cpu("AuthenticAMD", avx2))).toBe("Zen");
    expect(openblasCoreType(cpu("HygonGenuine", avx2))).toBe("Zen");
    // AVX-512 F alone (Knights Landing) is not the set the SkylakeX kernels use.
    expect(openblasCoreType(cpu("GenuineIntel", [...avx2, "avx512f", "avx512cd"]))).toBe("Haswell");
  });

  it("leaves the choice to OpenBLAS without AVX2 and FMA", () => {
    expect(openblasCoreType(cpu("GenuineIntel", ["sse4_2", "avx"]))).toBeUndefined();
    expect(openblasCoreType(cpu("GenuineIntel", ["sse4_2", "avx", "avx2"]))).toBeUndefined();
  });
});

describe("openblasLoadVariables", () => {
  it("always asks for one OpenBLAS thread, and for kernels only where it knows the CPU", () => {
    expect(openblasLoadVariables(cpu("GenuineIntel", avx512), {})).toEqual({
      OPENBLAS_NUM_THREADS: "1",
      OPENBLAS_CORETYPE: "SkylakeX",
    });
    expect(openblasLoadVariables(cpu("GenuineIntel", ["sse4_2"]), {})).toEqual({ OPENBLAS_NUM_THREADS: "1" });
    expect(openblasLoadVariables(null, {})).toEqual({ OPENBLAS_NUM_THREADS: "1" });
  });

  it("ignores the variables meant for the system's OpenBLAS, and takes its own", () => {
    const systemWide = { OPENBLAS_CORETYPE: "Haswell", OPENBLAS_NUM_THREADS: "8" };
    expect(openblasLoadVariables(cpu("AuthenticAMD", avx512), systemWide)).toEqual({
      OPENBLAS_NUM_THREADS: "1",
      OPENBLAS_CORETYPE: "SkylakeX",
    });
    expect(
      openblasLoadVariables(cpu("AuthenticAMD", avx512), { ...systemWide, CTXEMBED_OPENBLAS_CORETYPE: "Zen" }),
    ).toEqual({ OPENBLAS_NUM_THREADS: "1", OPENBLAS_CORETYPE: "Zen" });
  });
});
