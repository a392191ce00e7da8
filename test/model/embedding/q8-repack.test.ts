// Q8_0 weights on ctxembed's AVX512-VNNI kernel (scripts/build/llama-patches/q8_0-vnni-repack.patch):
// that a native build on such a CPU carries it, that a Q8_0 file takes it by default and not
// otherwise, and that its vectors are llama.cpp's Q8_0 vectors (tinyBLAS, same weights, same
// activation quantization) and sentence-transformers' within the bounds q8_0 is held to. The
// kernel's products alone: test/model/native/q8-repack-kernel.test.ts.
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, type EmbeddingModel } from "../../../lib/embedding/embedding-model.js";
import { q8VnniFeature } from "../../../lib/embedding/weight-repacking.js";
import { nativeAddon } from "../../../lib/native/addon.js";
import { cosineSimilarity } from "../../../lib/vectors/similarity.js";
import { x64CpuInfo } from "../../../native/cpu-baseline.mjs";
import { minilmPath, repositoryRoot, sentenceFixture } from "../models.js";

const systemInfo = nativeAddon().systemInfo();
const hasKernel = systemInfo.includes(q8VnniFeature);
const cpuHasVnni = ["avx512f", "avx512bw", "avx512_vnni"].every((flag) => x64CpuInfo()?.flags.has(flag));
// A build from source uses every instruction of its machine; a prebuilt variant may be narrower.
const nativeBuildWithVnni = cpuHasVnni && systemInfo.includes("AVX512_VNNI = 1");

/** The weight buffers llama.cpp reports while loading `path` with `repackWeights` (undefined: the default). */
function weightBuffers(path: string, repackWeights?: boolean): string[] {
  const options = repackWeights === undefined ? "{ threads: 1 }" : `{ threads: 1, repackWeights: ${repackWeights} }`;
  const script = `const { loadModel } = await import("./lib/embedding/embedding-model.ts");
    const model = await loadModel(${JSON.stringify(path)}, ${options});
    await model.dispose();`;
  const run = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: repositoryRoot,
    encoding: "utf8",
    env: { ...process.env, CTXEMBED_LLAMA_LOG: "1" },
  });
  expect(run.status, run.stderr).toBe(0);
  return [...run.stderr.matchAll(/(\w+) model buffer size/g)].map((match) => match[1]!);
}

describe("Q8_0 weights on the AVX512-VNNI kernel", () => {
  it.skipIf(!nativeBuildWithVnni)("a build with AVX512-VNNI carries the kernel and says so", () => {
    expect(systemInfo).toContain(q8VnniFeature);
  });

  it.skipIf(!hasKernel)("a Q8_0 file is repacked by default, and not when repackWeights is false", async () => {
    const q8 = await minilmPath("q8_0");
    expect(weightBuffers(q8)).toContain("CPU_REPACK");
    expect(weightBuffers(q8, false)).not.toContain("CPU_REPACK");
    expect(weightBuffers(await minilmPath("f32"))).not.toContain("CPU_REPACK");
  });

  describe.skipIf(!hasKernel)("its vectors", () => {
    let repacked: EmbeddingModel;
    let tinyBlas: EmbeddingModel;
    beforeAll(async () => {
      const q8 = await minilmPath("q8_0");
      repacked = await loadModel(q8, { threads: 2 });
      tinyBlas = await loadModel(q8, { threads: 2, repackWeights: false });
    });
    afterAll(async () => {
      await repacked.dispose();
      await tinyBlas.dispose();
    });

    // Both compute every block's integer dot product exactly; the float sums of blocks differ in
    // their last bits, which can flip the 8-bit rounding of an activation in a later layer: the
    // bound q8_0 is held to alone against in a batch (batch-invariance.test.ts).
    it("match llama.cpp's own Q8_0 products (tinyBLAS) over 256 STS-B sentences: cosine >= 0.9995, and sentence-transformers' >= 0.999", async () => {
      const fixture = sentenceFixture();
      const ours = await repacked.embed(fixture.sentences);
      const theirs = await tinyBlas.embed(fixture.sentences);
      let worstToTinyBlas = 1;
      let worstToReference = 1;
      ours.forEach((result, i) => {
        worstToTinyBlas = Math.min(worstToTinyBlas, cosineSimilarity(result.embedding, theirs[i]!.embedding));
        worstToReference = Math.min(worstToReference, cosineSimilarity(result.embedding, fixture.embeddings[i]!));
      });
      process.stderr.write(
        `[q8-repack] worst cosine to tinyBLAS ${worstToTinyBlas.toFixed(7)}, to sentence-transformers ${worstToReference.toFixed(7)}\n`,
      );
      expect(worstToTinyBlas).toBeGreaterThanOrEqual(0.9995);
      expect(worstToReference).toBeGreaterThanOrEqual(0.999);
    });
  });
});
