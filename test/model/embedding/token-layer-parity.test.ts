// Per-token hidden states of every layer against transformers' output_hidden_states on the
// same weights (fixture: scripts/reference/make_hidden_states_fixture.py).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, type EmbeddingModel } from "../../../lib/embedding/embedding-model.js";
import { cosineSimilarity } from "../../../lib/vectors/similarity.js";
import { hiddenStatesFixture, minilmPath } from "../models.js";

const fixture = hiddenStatesFixture();
let model: EmbeddingModel;
beforeAll(async () => {
  model = await loadModel(await minilmPath("f32"));
});
afterAll(() => model.dispose());

describe("all-MiniLM-L6-v2 f32 token vectors of every layer against transformers", () => {
  it(`tokenizes the ${fixture.sentences.length} sentences exactly as the Hugging Face tokenizer`, () => {
    expect(fixture.sentences.length).toBeGreaterThanOrEqual(50);
    for (const sentence of fixture.sentences)
      expect(model.tokenize(sentence.text).map((token) => token.id)).toEqual(sentence.tokenIds);
  });

  it("every token of every layer (0 = embeddings .. 6) has cosine >= 0.9999", async () => {
    const layers = Array.from({ length: fixture.layers }, (_, layer) => layer);
    const results = await model.embed(
      fixture.sentences.map((sentence) => sentence.text),
      { tokens: true, normalize: false, layers: { layers, combine: "concat" } },
    );
    const width = fixture.dimensions;
    let compared = 0;
    let worst = { cosine: 1, where: "" };
    results.forEach((result, s) => {
      const sentence = fixture.sentences[s]!;
      result.tokens!.forEach((token, t) => {
        for (const layer of layers) {
          const ours = token.embedding.subarray(layer * width, (layer + 1) * width);
          const reference = sentence.states[layer]!.subarray(t * width, (t + 1) * width);
          const cosine = cosineSimilarity(ours, reference);
          compared++;
          if (cosine < worst.cosine)
            worst = { cosine, where: `sentence ${s} token ${t} (${token.text}) layer ${layer}` };
        }
      });
    });
    console.log(
      `token-layer parity: ${compared} token-layer vectors, worst cosine ${worst.cosine.toFixed(7)} at ${worst.where}`,
    );
    expect(compared).toBe(
      fixture.sentences.reduce((sum, sentence) => sum + sentence.tokenIds.length, 0) * fixture.layers,
    );
    expect(worst.cosine, worst.where).toBeGreaterThanOrEqual(0.9999);
  });

  it("one layer, a mean of layers and a scalar mix agree with the same arithmetic on the reference", async () => {
    const sentence = fixture.sentences[0]!;
    const width = fixture.dimensions;
    const [single, mean, mix] = await Promise.all([
      model.embed(sentence.text, { tokens: true, normalize: false, layers: -2 }),
      model.embed(sentence.text, { tokens: true, normalize: false, layers: { layers: [3, 4, 5, 6] } }),
      model.embed(sentence.text, {
        tokens: true,
        normalize: false,
        layers: { layers: [1, 6], combine: { weights: [0, Math.log(3)], gamma: 2 } },
      }),
    ]);
    const reference = (layer: number, t: number) => sentence.states[layer]!.subarray(t * width, (t + 1) * width);
    single.tokens!.forEach((token, t) =>
      expect(cosineSimilarity(token.embedding, reference(5, t))).toBeGreaterThanOrEqual(0.9999),
    );
    mean.tokens!.forEach((token, t) => {
      const expected = reference(3, t).map(
        (_, d) => [3, 4, 5, 6].reduce((sum, layer) => sum + reference(layer, t)[d]!, 0) / 4,
      );
      expect(cosineSimilarity(token.embedding, expected)).toBeGreaterThanOrEqual(0.9999);
    });
    // softmax([0, ln 3]) = [0.25, 0.75], times gamma 2
    mix.tokens!.forEach((token, t) => {
      const expected = reference(1, t).map((_, d) => 2 * (0.25 * reference(1, t)[d]! + 0.75 * reference(6, t)[d]!));
      expect(cosineSimilarity(token.embedding, expected)).toBeGreaterThanOrEqual(0.9999);
      expect(Math.hypot(...token.embedding) / Math.hypot(...expected)).toBeCloseTo(1, 3);
    });
  });

  it('pooling "none" returns the last layer\'s token vectors against the reference, and no sentence vector', async () => {
    const sentence = fixture.sentences[1]!;
    const width = fixture.dimensions;
    const result = await model.embed(sentence.text, { pooling: "none", normalize: false });
    expect(result.embedding.length).toBe(0);
    expect(result.tokens!.map((token) => token.id)).toEqual(sentence.tokenIds);
    result.tokens!.forEach((token, t) => {
      const reference = sentence.states[fixture.layers - 1]!.subarray(t * width, (t + 1) * width);
      expect(cosineSimilarity(token.embedding, reference)).toBeGreaterThanOrEqual(0.9999);
    });
    await expect(model.embed(sentence.text, { pooling: "none", precision: "int8" })).rejects.toThrow(
      /pooling "none" makes no sentence vector/,
    );
  });
});
