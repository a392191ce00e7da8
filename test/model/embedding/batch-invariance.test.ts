// A text's vector must not depend on what else shares its packed batch.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, type EmbeddingModel } from "../../../lib/embedding/embedding-model.js";
import { cosineSimilarity } from "../../../lib/vectors/similarity.js";
import { minilmPath, sentenceFixture } from "../models.js";

// Every weight type the catalogue makes. q8_0 quantizes each token's activations to 8 bits in
// every matrix product (per token, so batch mates never share a scale, unlike ONNX Runtime's
// per-tensor dynamic int8); a last-bit difference in float accumulation between a lone text's
// kernel path and a batch's can flip one such rounding, measured at worst 0.99977 here.
describe.each([
  { variant: "f32", minimumCosine: 0.99999 },
  { variant: "bf16", minimumCosine: 0.99999 },
  { variant: "q8_0", minimumCosine: 0.9995 },
] as const)("batch invariance, all-MiniLM-L6-v2 $variant", ({ variant, minimumCosine }) => {
  let model: EmbeddingModel;
  beforeAll(async () => {
    model = await loadModel(await minilmPath(variant));
  });
  afterAll(() => model.dispose());

  it(`a text alone and inside a batch of 64 mixed-length texts: cosine >= ${minimumCosine}`, async () => {
    const sentences = sentenceFixture().sentences;
    const mixed = Array.from({ length: 64 }, (_, i) => {
      const base = sentences[i]!;
      return i % 4 === 0
        ? base
        : i % 4 === 1
          ? `${base} ${sentences[i + 100]!} ${sentences[i + 150]!}`
          : i % 4 === 2
            ? base.split(" ").slice(0, 2).join(" ")
            : `${base} `.repeat(10);
    });
    const lengths = mixed.map((text) => model.tokenize(text).length);
    expect(Math.min(...lengths)).toBeLessThan(8);
    expect(Math.max(...lengths)).toBeGreaterThan(100);

    const batched = await model.embed(mixed);
    for (const [i, text] of mixed.entries()) {
      const alone = await model.embed(text);
      expect(cosineSimilarity(alone.embedding, batched[i]!.embedding), `text ${i}`).toBeGreaterThanOrEqual(
        minimumCosine,
      );
    }
  });
});
