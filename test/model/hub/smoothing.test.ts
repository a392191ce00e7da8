// Activation smoothing on the real all-MiniLM-L6-v2: the smoothed f32 file must compute what the
// original computes (the patched graph's division and the scaled weight columns cancel, up to
// float rounding), and the factors must actually move channels; then the q8_0 made from it.
import { mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel } from "../../../lib/embedding/embedding-model.js";
import { cosineSimilarity } from "../../../lib/vectors/similarity.js";
import { readGgufHeader } from "../../../lib/gguf/reader.js";
import { smoothingObstacle, smoothingTensorNames, writeSmoothedModel } from "../../../lib/hub/smoothing.js";
import { minilmPath, sentenceFixture } from "../models.js";

let scratch: string;
let f32Path: string;
let smoothedPath: string;
beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "ctxembed-smoothing-"));
  f32Path = await minilmPath("f32");
  smoothedPath = join(scratch, "minilm-smoothed-f32.gguf");
  await writeSmoothedModel(f32Path, smoothedPath, { threads: 2 });
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("writeSmoothedModel on all-MiniLM-L6-v2 f32", () => {
  it("adds one factor tensor per block for Q/K/V and one for FFN-up, and moves some channels by them", async () => {
    const header = await readGgufHeader(smoothedPath);
    const bytes = await readFile(smoothedPath);
    for (let layer = 0; layer < 6; layer++) {
      for (const name of Object.values(smoothingTensorNames(layer))) {
        const tensor = header.tensors.find((candidate) => candidate.name === name);
        expect(tensor?.shape, name).toEqual([384]);
        const start = header.dataOffset + tensor!.offset;
        const factors = new Float32Array(
          bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + start + 384 * 4),
        );
        const [low, high] = [Math.min(...factors), Math.max(...factors)];
        console.log(`${name}: factors ${low.toFixed(3)} to ${high.toFixed(3)}`);
        expect(
          factors.every((factor) => Number.isFinite(factor) && factor > 0),
          name,
        ).toBe(true);
        expect(high / low, name).toBeGreaterThan(2);
      }
    }
    expect(smoothingObstacle(header)).toBe("it is smoothed already");
  });

  it("gives the vectors of the file it was made from, up to float rounding", async () => {
    const sentences = sentenceFixture().sentences;
    const [original, smoothed] = [await loadModel(f32Path), await loadModel(smoothedPath)];
    try {
      const [a, b] = [await original.embed(sentences), await smoothed.embed(sentences)];
      const worst = Math.min(...a.map((result, i) => cosineSimilarity(result.embedding, b[i]!.embedding)));
      console.log(`smoothed f32 against f32 over ${sentences.length} sentences: worst cosine ${worst.toFixed(9)}`);
      // float32 rounding of x / s and w * s; a factor left out of the graph costs far more (the
      // weight columns are scaled by up to several times)
      expect(worst).toBeGreaterThan(0.9999999);
    } finally {
      await Promise.all([original.dispose(), smoothed.dispose()]);
    }
  });
});
