// A text's vector must not depend on what else shares its packed batch.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, type EmbeddingModel } from "../../../lib/embedding/embedding-model.js";
import { cosineSimilarity } from "../../../lib/vectors/similarity.js";
import { minilmPath, sentenceFixture } from "../models.js";

let model: EmbeddingModel;
beforeAll(async () => {
  model = await loadModel(await minilmPath("f32"));
});
afterAll(() => model.dispose());

describe("batch invariance", () => {
  it("a text alone and inside a batch of 64 mixed-length texts: cosine >= 0.99999", async () => {
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
      expect(cosineSimilarity(alone.embedding, batched[i]!.embedding), `text ${i}`).toBeGreaterThanOrEqual(0.99999);
    }
  });
});
