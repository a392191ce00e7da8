// Long documents through overlapping windows, and word/phrase vectors from one forward pass.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, type EmbeddingModel } from "../../../lib/embedding/embedding-model.js";
import { cosineSimilarity } from "../../../lib/vectors/similarity.js";
import { minilmPath } from "../models.js";

let model: EmbeddingModel;
beforeAll(async () => {
  model = await loadModel(await minilmPath("f32"));
});
afterAll(() => model.dispose());

// Common words that WordPiece keeps whole, so any slice of the document at word boundaries
// tokenizes exactly as the same words do inside the document.
const vocabulary =
  "the cat sat on a mat while dogs ran in park and birds sang over green trees near old river under blue sky".split(
    " ",
  );

function document(words: number, seed: number): string {
  let state = seed;
  return Array.from({ length: words }, () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return vocabulary[state % vocabulary.length];
  }).join(" ");
}

describe("windows over a document three times the context", () => {
  const size = 256;
  const stride = 128;
  const text = document(3 * size, 7);

  it("keeps every token, with offsets into the whole document", async () => {
    const result = await model.embed(text, { tokens: true, window: { size, stride } });
    const expected = model.tokenize(text);
    expect(result.truncated).toBe(false);
    expect(result.windows).toBeGreaterThan(4);
    expect(result.tokens!.map((token) => token.id)).toEqual(expected.map((token) => token.id));
    expect(result.tokens!.map((token) => [token.start, token.end])).toEqual(
      expected.map((token) => [token.start, token.end]),
    );
    expect(result.tokens!.every((token) => token.embedding.every(Number.isFinite))).toBe(true);
  });

  it("gives each token the vector it has in the window centred on it, embedded alone", async () => {
    const whole = await model.embed(text, { tokens: true, window: { size, stride }, normalize: false });
    const tokens = whole.tokens!;
    const capacity = size - 2;
    for (const window of [0, 1, 2, 3, 4]) {
      // Text token i (document token i + 1, after [CLS]) is most central in window i / stride.
      const first = window * stride;
      const centre = first + Math.floor(capacity / 2);
      const slice = text.slice(tokens[first + 1]!.start, tokens[first + capacity]!.end);
      const alone = await model.embed(slice, { tokens: true, normalize: false });
      const offset = tokens[first + 1]!.start;
      const match = alone.tokens!.find((token) => !token.special && token.start + offset === tokens[centre + 1]!.start);
      expect(match, `window ${window}`).toBeDefined();
      expect(
        cosineSimilarity(match!.embedding, tokens[centre + 1]!.embedding),
        `window ${window}`,
      ).toBeGreaterThanOrEqual(0.9999);
    }
  });

  it("truncates instead when no window is asked for", async () => {
    const result = await model.embed(text, { tokens: true });
    expect(result.truncated).toBe(true);
    expect(result.tokens).toHaveLength(256);
  });
});

describe("spans", () => {
  const text = "She sat on the river bank while he went to the bank to deposit a cheque.";

  it("finds occurrences, words and character ranges, and pools the covering tokens of one pass", async () => {
    const result = await model.embed(
      { text, spans: [{ find: "bank" }, { find: "bank", occurrence: 1 }, { word: 5 }, { start: 11, end: 25 }] },
      { tokens: true, normalize: false },
    );
    const [first, second, byWord, byRange] = result.spans!;
    expect(first).toMatchObject({ text: "bank", start: 21 });
    expect(second).toMatchObject({ text: "bank", start: text.indexOf("bank", 22) });
    expect(byWord).toMatchObject({ text: "bank", start: 21, end: 25 });
    expect(byRange!.text).toBe("the river bank");
    expect(byRange!.tokenEnd - byRange!.tokenStart).toBe(3);
    const tokens = result.tokens!.slice(byRange!.tokenStart, byRange!.tokenEnd);
    const mean = tokens[0]!.embedding.map(
      (_, d) => tokens.reduce((sum, token) => sum + token.embedding[d]!, 0) / tokens.length,
    );
    expect(cosineSimilarity(mean, byRange!.embedding)).toBeGreaterThan(0.999999);
    // The same word in two senses is further apart than two uses of one sense.
    expect(cosineSimilarity(first!.embedding, second!.embedding)).toBeLessThan(0.95);
  });

  it("explains a span it cannot place", async () => {
    await expect(model.embed({ text, spans: [{ find: "bank", occurrence: 2 }] })).rejects.toThrow(/occurs 2 time\(s\)/);
    await expect(model.embed({ text, spans: [{ word: 40 }] })).rejects.toThrow(/has 16 whitespace-separated words/);
    await expect(model.embed({ text, spans: [{ start: 5, end: 5 }] })).rejects.toThrow(/not a non-empty range/);
  });
});
