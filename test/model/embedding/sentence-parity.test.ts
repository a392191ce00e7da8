// ctxembed's all-MiniLM-L6-v2 sentence vectors against sentence-transformers' on the same
// weights, for every distinct STS-B dev sentence (fixtures from
// scripts/reference/make_sentence_fixture.py).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, type EmbeddingModel } from "../../../lib/embedding/embedding-model.js";
import { cosineSimilarity } from "../../../lib/vectors/similarity.js";
import { evaluateSts, readStsBenchmark, stsSentences } from "../../../lib/eval/sts.js";
import { join } from "node:path";
import { allDevSentenceVectors, minilmPath, sentenceFixture, sharedData, type MinilmVariant } from "../models.js";

const fixture = sentenceFixture();

const variants: { variant: MinilmVariant; minimumCosine: number }[] = [
  { variant: "f32", minimumCosine: 0.9999 },
  { variant: "f16", minimumCosine: 0.999 },
  { variant: "bf16", minimumCosine: 0.9999 },
  { variant: "q8_0", minimumCosine: 0.999 },
];

describe("the whole-split reference", () => {
  it("holds every distinct STS-B dev sentence in stsSentences() order, the fixture's sentences first", async () => {
    const sentences = stsSentences(await readStsBenchmark(join(sharedData, "stsb", "sts-dev.csv")));
    const reference = allDevSentenceVectors();
    expect(reference.length).toBe(sentences.length);
    expect(sentences.slice(0, fixture.sentences.length)).toEqual(fixture.sentences);
    // f16 rounding of a unit vector moves its cosine by about 1e-7
    const worst = Math.min(...fixture.embeddings.map((vector, i) => cosineSimilarity(vector, reference[i]!)));
    expect(worst).toBeGreaterThan(0.999999);
  });
});

describe.each(variants)("all-MiniLM-L6-v2 $variant against sentence-transformers", ({ variant, minimumCosine }) => {
  let model: EmbeddingModel;
  beforeAll(async () => {
    model = await loadModel(await minilmPath(variant));
  });
  afterAll(() => model.dispose());

  it(`every distinct STS-B dev sentence has cosine >= ${minimumCosine}`, async () => {
    const sentences = stsSentences(await readStsBenchmark(join(sharedData, "stsb", "sts-dev.csv")));
    const reference = allDevSentenceVectors();
    expect(sentences.length).toBeGreaterThanOrEqual(2_000);
    const results = await model.embed(sentences);
    const cosines = results.map((result, i) => cosineSimilarity(result.embedding, reference[i]!));
    const worst = Math.min(...cosines);
    console.log(
      `all-MiniLM-L6-v2 ${variant}: worst cosine to sentence-transformers over ${cosines.length} sentences: ${worst.toFixed(7)}, ${cosines.filter((cosine) => cosine < 0.9995).length} below 0.9995`,
    );
    expect(worst, `worst sentence: ${JSON.stringify(sentences[cosines.indexOf(worst)])}`).toBeGreaterThanOrEqual(
      minimumCosine,
    );
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
