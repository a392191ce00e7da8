// ctxembed's repacked kernels (Q8_0 on AVX512-VNNI, f32 on AVX-512, bf16 on AVX512_BF16) against a double-precision
// reference and llama.cpp's own product, bit for bit against themselves at every width, and fused
// with the ADD of a bias row:
// repack-kernels.cpp, compiled against the static ggml libraries of the build in build/ (a
// clone's; an installed package has none).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { bf16Avx512Feature, f32Avx512Feature, q8VnniFeature } from "../../../lib/embedding/weight-repacking.js";
import { nativeAddon } from "../../../lib/native/addon.js";
import { repositoryRoot } from "../models.js";
import { whereApplicable, whereProvided } from "../../skips.js";

const build = join(repositoryRoot, "build");
const ggml = join(build, "llama.cpp", "ggml", "src");
const libraries = ["libggml.a", "libggml-cpu.a", "libggml-base.a"].map((name) => join(ggml, name));
const systemInfo = nativeAddon().systemInfo();
const kernels = [
  { type: "q8_0", name: "Q8_0 AVX512-VNNI", compiledIn: systemInfo.includes(q8VnniFeature) },
  { type: "f32", name: "f32 AVX-512", compiledIn: systemInfo.includes(f32Avx512Feature) },
  { type: "bf16", name: "bf16 AVX512_BF16", compiledIn: systemInfo.includes(bf16Avx512Feature) },
];

/** The static OpenBLAS the build linked, if any (the CPU backend calls it for f32 products). */
function openblasLibrary(): string[] {
  const cache = readFileSync(join(build, "CMakeCache.txt"), "utf8");
  const path = /^CTXEMBED_OPENBLAS_LIBRARY:FILEPATH=(.+)$/m.exec(cache)?.[1];
  return path && existsSync(path) ? [path] : [];
}

whereApplicable(
  kernels.some((kernel) => kernel.compiledIn) ? undefined : "this build has no repacked kernel (no AVX-512)",
).describe("ctxembed's repacked kernels", () =>
  whereProvided(
    libraries.every(existsSync)
      ? undefined
      : `build/ has no static ggml libraries (${libraries.filter((path) => !existsSync(path)).join(", ")}): a build from source has them`,
  ).describe("against a double-precision product and llama.cpp's own", () => {
    const directory = mkdtempSync(join(tmpdir(), "ctxembed-repack-kernels-"));
    const program = join(directory, "repack-kernels");
    beforeAll(() => {
      execFileSync("c++", [
        "-std=c++17",
        "-O2",
        "-I",
        join(repositoryRoot, "native", "llama.cpp", "ggml", "include"),
        join(repositoryRoot, "test", "model", "native", "repack-kernels.cpp"),
        ...libraries,
        ...openblasLibrary(),
        "-lpthread",
        "-lm",
        "-o",
        program,
      ]);
    });
    afterAll(() => rmSync(directory, { recursive: true, force: true }));

    it.each(kernels.filter((kernel) => kernel.compiledIn))(
      "$name: each column the same bits at every width, within 1e-5 of a double-precision product and of the unrepacked one; a bias ADD fused, the same bits as product + bias",
      ({ type }) => {
        const run = spawnSync(program, [type], { encoding: "utf8" });
        process.stderr.write(`[repack-kernels] ${run.stdout}`);
        expect(run.status, `${run.stdout}${run.stderr.split("\n").slice(-8).join("\n")}`).toBe(0);
        expect(run.stdout).toMatch(new RegExp(`^${type} repacked product: 0 values differing from the column alone`));
        expect(run.stdout).toMatch(
          /with a bias ADD: 0 values differing from product \+ bias, the product's own tensor written in 0 of/,
        );
      },
    );
  }),
);
