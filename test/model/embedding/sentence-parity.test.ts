// ctxembed's all-MiniLM-L6-v2 sentence vectors against sentence-transformers' on the same
// weights (fixture from scripts/reference/make_sentence_fixture.py).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, type EmbeddingModel } from "../../../lib/embedding/embedding-model.js";
import { cosineSimilarity } from "../../../lib/vectors/similarity.js";
import { evaluateSts, readStsBenchmark } from "../../../lib/eval/sts.js";
import { join } from "node:path";
import { minilmPath, sentenceFixture, sharedData, type MinilmVariant } from "../models.js";

const fixture = sentenceFixture();

const variants: { variant: MinilmVariant; minimumCosine: number }[] = [
  { variant: "f32", minimumCosine: 0.9999 },
  { variant: "f16", minimumCosine: 0.999 },
  { variant: "bf16", minimumCosine: 0.999 },
  { variant: "q8_0", minimumCosine: 0.999 },
];

describe.each(variants)("all-MiniLM-L6-v2 $variant against sentence-transformers", ({ variant, minimumCosine }) => {
  let model: EmbeddingModel;
  beforeAll(async () => {
    model = await loadModel(await minilmPath(variant));
  });
  afterAll(() => model.dispose());

  it(`every one of ${fixture.sentences.length} STS-B dev sentences has cosine >= ${minimumCosine}`, async () => {
    expect(fixture.sentences.length).toBeGreaterThanOrEqual(200);
    const results = await model.embed(fixture.sentences);
    const cosines = results.map((result, i) => cosineSimilarity(result.embedding, fixture.embeddings[i]!));
    const worst = Math.min(...cosines);
    console.log(
      `all-MiniLM-L6-v2 ${variant}: worst cosine to sentence-transformers over ${cosines.length} sentences: ${worst.toFixed(7)}`,
    );
    expect(
      worst,
      `worst sentence: ${JSON.stringify(fixture.sentences[cosines.indexOf(worst)])}`,
    ).toBeGreaterThanOrEqual(minimumCosine);
    expect(results.every((result) => Math.abs(Math.hypot(...result.embedding) - 1) < 1e-5)).toBe(true);
  });
});

describe.each(variants)("STS-B dev through ctxembed, $variant", ({ variant }) => {
  it("Spearman is within 0.3 points of the reference pipeline's", async () => {
    const model = await loadModel(await minilmPath(variant));
    try {
      const pairs = await readStsBenchmark(join(sharedData, "stsb", "sts-dev.csv"));
      const result = await evaluateSts(model, pairs);
      console.log(
        `STS-B dev Spearman through ctxembed, ${variant}: ${result.spearman.toFixed(3)} (reference ${fixture.stsb_dev.spearman.toFixed(3)})`,
      );
      expect(result.pairs).toBe(fixture.stsb_dev.pairs);
      expect(Math.abs(result.spearman - fixture.stsb_dev.spearman)).toBeLessThanOrEqual(0.3);
    } finally {
      await model.dispose();
    }
  });
});
