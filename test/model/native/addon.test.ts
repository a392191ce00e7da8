// The built addon, loaded as the library loads it: the OpenBLAS kernels it runs, and the
// environment it leaves behind.
import { describe, expect, it } from "vitest";
import { x64CpuInfo } from "../../../native/cpu-baseline.mjs";
import { nativeAddon } from "../../../lib/native/addon.js";
import { openblasCoreType } from "../../../lib/native/openblas.js";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { whereApplicable, whereProvided } from "../../skips.js";

const cpu = x64CpuInfo();
const expectedCore = process.env.CTXEMBED_OPENBLAS_CORETYPE || (cpu === null ? undefined : openblasCoreType(cpu));
// Where the build looks for it (CMakeLists.txt).
const openblasInstalled = readdirSync("/usr/lib", { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => join("/usr/lib", entry.name, "openblas-pthread", "libopenblas.a"))
  .find((path) => existsSync(path));
const environmentBefore = { threads: process.env.OPENBLAS_NUM_THREADS, kernels: process.env.OPENBLAS_CORETYPE };

describe("nativeAddon", () => {
  const systemInfo = nativeAddon().systemInfo();
  const openblasCore = /OPENBLAS = (\w+)/.exec(systemInfo)?.[1];

  whereProvided(
    openblasInstalled ? undefined : "no static OpenBLAS installed (apt-get install libopenblas-pthread-dev)",
  ).it(
    "links the static OpenBLAS where one is installed (a build without it runs f32 products on tinyBLAS, several times slower)",
    () => {
      expect(
        openblasCore,
        `${systemInfo}: rebuild the addon (npm run build:native) to link ${openblasInstalled}`,
      ).toBeDefined();
    },
  );

  whereApplicable(
    openblasCore === undefined
      ? "this build has no OpenBLAS"
      : expectedCore === undefined
        ? "this CPU has no AVX2 (OpenBLAS chooses its own kernels)"
        : undefined,
  ).it(
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
