// The Q8_0 AVX512-VNNI kernel's products against a double-precision reference and llama.cpp's own
// Q8_0 product, and bit for bit against themselves at every width: q8-repack-kernel.cpp, compiled
// against the static ggml libraries of the build in build/ (a clone's; an installed package has none).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { q8VnniFeature } from "../../../lib/embedding/weight-repacking.js";
import { nativeAddon } from "../../../lib/native/addon.js";
import { repositoryRoot } from "../models.js";

const build = join(repositoryRoot, "build");
const ggml = join(build, "llama.cpp", "ggml", "src");
const libraries = ["libggml.a", "libggml-cpu.a", "libggml-base.a"].map((name) => join(ggml, name));
const hasKernel = nativeAddon().systemInfo().includes(q8VnniFeature);

/** The static OpenBLAS the build linked, if any (the CPU backend calls it for f32 products). */
function openblasLibrary(): string[] {
  const cache = readFileSync(join(build, "CMakeCache.txt"), "utf8");
  const path = /^CTXEMBED_OPENBLAS_LIBRARY:FILEPATH=(.+)$/m.exec(cache)?.[1];
  return path && existsSync(path) ? [path] : [];
}

describe.skipIf(!hasKernel || !libraries.every(existsSync))("the Q8_0 AVX512-VNNI kernel", () => {
  const directory = mkdtempSync(join(tmpdir(), "ctxembed-q8-kernel-"));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it("gives each column the same bits at every width, within 1e-5 of a double-precision product and of tinyBLAS's", () => {
    const program = join(directory, "q8-repack-kernel");
    execFileSync("c++", [
      "-std=c++17",
      "-O2",
      "-I",
      join(repositoryRoot, "native", "llama.cpp", "ggml", "include"),
      join(repositoryRoot, "test", "model", "native", "q8-repack-kernel.cpp"),
      ...libraries,
      ...openblasLibrary(),
      "-lpthread",
      "-lm",
      "-o",
      program,
    ]);
    const run = spawnSync(program, { encoding: "utf8" });
    process.stderr.write(`[q8-kernel] ${run.stdout}`);
    expect(run.status, `${run.stdout}${run.stderr.split("\n").slice(-8).join("\n")}`).toBe(0);
    expect(run.stdout).toMatch(/: 0 values differing from the column alone/);
  });
});
