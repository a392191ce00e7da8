// ctxembed's repacked kernels, Q8_0 on AVX512-VNNI (scripts/build/llama-patches/0007-q8_0-vnni-repack.patch),
// f32 on AVX-512 (0008-repack-f32-avx512.patch) and bf16 on AVX512_BF16 (0012-bf16-repack-avx512bf16.patch):
// that a native build on such a CPU carries them,
// that a file of those types takes them by default and not otherwise, and that their vectors are
// llama.cpp's own (the same weights unrepacked: tinyBLAS for Q8_0 and bf16, OpenBLAS or tinyBLAS for f32)
// and sentence-transformers' within the bounds each precision is held to. The kernels' products
// alone: test/model/native/repack-kernels.test.ts.
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, type EmbeddingModel } from "../../../lib/embedding/embedding-model.js";
import { bf16Avx512Feature, f32Avx512Feature, q8VnniFeature } from "../../../lib/embedding/weight-repacking.js";
import { nativeAddon } from "../../../lib/native/addon.js";
import { cosineSimilarity } from "../../../lib/vectors/similarity.js";
import { x64CpuInfo } from "../../../native/cpu-baseline.mjs";
import { minilmPath, repositoryRoot, sentenceFixture } from "../models.js";
import { whereApplicable } from "../../skips.js";

const systemInfo = nativeAddon().systemInfo();
const cpuHas = (flags: string[]) => flags.every((flag) => x64CpuInfo()?.flags.has(flag));

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

// Q8_0: both compute every block's integer dot product exactly; the float sums of blocks differ
// in their last bits, which can flip the 8-bit rounding of an activation in a later layer: the
// bound q8_0 is held to alone against in a batch (batch-invariance.test.ts). f32: the kernel and
// OpenBLAS add the same products in different orders; bf16: the kernel and tinyBLAS multiply the same
// bf16 values and add the products in different orders.
describe.each([
  {
    variant: "q8_0",
    kernel: "Q8_0 AVX512-VNNI",
    feature: q8VnniFeature,
    cpuFlags: ["avx512f", "avx512bw", "avx512_vnni"],
    buildFlag: "AVX512_VNNI = 1",
    toUnrepacked: 0.9995,
    toReference: 0.999,
  },
  {
    variant: "f32",
    kernel: "f32 AVX-512",
    feature: f32Avx512Feature,
    cpuFlags: ["avx512f"],
    buildFlag: "AVX512 = 1",
    toUnrepacked: 0.99999,
    toReference: 0.9999,
  },
  {
    variant: "bf16",
    kernel: "bf16 AVX512_BF16",
    feature: bf16Avx512Feature,
    cpuFlags: ["avx512f", "avx512_bf16"],
    buildFlag: "AVX512_BF16 = 1",
    toUnrepacked: 0.99999,
    toReference: 0.9999,
  },
] as const)(
  "$variant weights on the $kernel kernel",
  ({ variant, feature, cpuFlags, buildFlag, toUnrepacked, toReference }) => {
    const hasKernel = systemInfo.includes(feature);
    const noKernel = hasKernel ? undefined : `this build has no ${feature} kernel`;
    // A build from source uses every instruction of its machine; a prebuilt variant may be narrower.
    whereApplicable(
      !cpuHas([...cpuFlags])
        ? `this CPU lacks one of ${cpuFlags.join(", ")}`
        : systemInfo.includes(buildFlag)
          ? undefined
          : `the addon is built for a narrower CPU (no ${buildFlag})`,
    ).it("a build for such a CPU carries the kernel and says so", () => {
      expect(systemInfo).toContain(feature);
    });

    whereApplicable(noKernel).it(
      `a ${variant} file is repacked by default, and not when repackWeights is false`,
      async () => {
        const path = await minilmPath(variant);
        expect(weightBuffers(path)).toContain("CPU_REPACK");
        expect(weightBuffers(path, false)).not.toContain("CPU_REPACK");
      },
    );

    whereApplicable(noKernel).describe("its vectors", () => {
      let repacked: EmbeddingModel;
      let unrepacked: EmbeddingModel;
      beforeAll(async () => {
        const path = await minilmPath(variant);
        repacked = await loadModel(path, { threads: 2 });
        unrepacked = await loadModel(path, { threads: 2, repackWeights: false });
      });
      afterAll(async () => {
        await repacked.dispose();
        await unrepacked.dispose();
      });

      it(`match llama.cpp's own products over 256 STS-B sentences: cosine >= ${toUnrepacked}, and sentence-transformers' >= ${toReference}`, async () => {
        const fixture = sentenceFixture();
        const ours = await repacked.embed(fixture.sentences);
        const theirs = await unrepacked.embed(fixture.sentences);
        let worstToUnrepacked = 1;
        let worstToReference = 1;
        ours.forEach((result, i) => {
          worstToUnrepacked = Math.min(worstToUnrepacked, cosineSimilarity(result.embedding, theirs[i]!.embedding));
          worstToReference = Math.min(worstToReference, cosineSimilarity(result.embedding, fixture.embeddings[i]!));
        });
        process.stderr.write(
          `[repacked-weights] ${variant}: worst cosine to the unrepacked weights ${worstToUnrepacked.toFixed(7)}, to sentence-transformers ${worstToReference.toFixed(7)}\n`,
        );
        expect(worstToUnrepacked).toBeGreaterThanOrEqual(toUnrepacked);
        expect(worstToReference).toBeGreaterThanOrEqual(toReference);
      });
    });
  },
);

describe("files without a batch-invariant kernel", () => {
  it("an f16 file is not repacked by default", async () => {
    expect(weightBuffers(await minilmPath("f16"))).not.toContain("CPU_REPACK");
  });
});
