// The built addon, loaded as the library loads it: the OpenBLAS kernels it runs, and the
// environment it leaves behind.
import { describe, expect, it } from "vitest";
import { x64CpuInfo } from "../../../native/cpu-baseline.mjs";
import { nativeAddon } from "../../../lib/native/addon.js";
import { openblasCoreType } from "../../../lib/native/openblas.js";

const cpu = x64CpuInfo();
const expectedCore = process.env.CTXEMBED_OPENBLAS_CORETYPE || (cpu === null ? undefined : openblasCoreType(cpu));
const environmentBefore = { threads: process.env.OPENBLAS_NUM_THREADS, kernels: process.env.OPENBLAS_CORETYPE };

describe("nativeAddon", () => {
  const systemInfo = nativeAddon().systemInfo();
  const openblasCore = /OPENBLAS = (\w+)/.exec(systemInfo)?.[1];

  it.skipIf(openblasCore === undefined || expectedCore === undefined)(
    "runs the OpenBLAS kernels for this CPU's instruction sets, not the ones OpenBLAS guessed from its model number or a system-wide OPENBLAS_CORETYPE names",
    () => {
      expect(openblasCore).toBe(expectedCore);
    },
  );

  it("leaves the process environment as it found it", () => {
    expect({ threads: process.env.OPENBLAS_NUM_THREADS, kernels: process.env.OPENBLAS_CORETYPE }).toEqual(
      environmentBefore,
    );
  });
});
