// Decoder sentence embeddings: prompts, last-token output, shared prefixes, batch invariance.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, type EmbeddingModel } from "../../../lib/embedding/embedding-model.js";
import { cosineSimilarity } from "../../../lib/vectors/similarity.js";
import { promptEolDemonstrations } from "../../../lib/prompts/prompteol-demonstrations.js";
import { buildQuery, buildQueryAt, findPreset } from "../../../lib/prompts/templates.js";
import { sentenceFixture } from "../models.js";

let gemma: EmbeddingModel;
beforeAll(async () => {
  gemma = await loadModel("gemma-3-270m", { onProgress: (message) => process.stderr.write(`[models] ${message}\n`) });
});
afterAll(() => gemma.dispose());

const sentences = sentenceFixture().sentences.slice(0, 8);
const promptEol = findPreset("prompteol");

// Per-token contexts of a decoder give each sequence a KV stream of its own, laid out as if it
// were alone, so last-token and token-level vectors should not move at all with their batch
// mates; the in-graph mean pooling shares one cache and may move in the last digits. (Hidden
// states of chosen layers are captured from one unified cache, and can move by ~1e-3.)
const batchInvariance = 0.9999;

describe("gemma-3-270m: vectors do not depend on batch mates", () => {
  it.each([{ pooling: "mean" }, { pooling: "last" }, { pooling: "weighted-mean" }] as const)(
    "%o: alone and in a batch of 8, cosine >= 0.9999",
    async (options) => {
      const batched = await gemma.embed(sentences, options);
      for (const [i, sentence] of sentences.entries()) {
        const alone = await gemma.embed(sentence, options);
        expect(cosineSimilarity(alone.embedding, batched[i]!.embedding), sentence).toBeGreaterThanOrEqual(
          batchInvariance,
        );
      }
    },
  );
});

describe("PromptEOL with a shared prefix of demonstrations", () => {
  const examples = promptEolDemonstrations.slice(0, 3);

  it("evaluates the shared prefix once and gives each prompt's vector alone (cosine >= 0.9999)", async () => {
    const prompts = sentences.map((query) => buildQuery(promptEol, { query, examples }));
    const batched = await gemma.embed(sentences, { prompt: { template: "prompteol", examples } });
    for (const [i, prompt] of prompts.entries()) {
      const alone = await gemma.embed(prompt, { pooling: "last" });
      expect(cosineSimilarity(alone.embedding, batched[i]!.embedding), sentences[i]).toBeGreaterThanOrEqual(
        batchInvariance,
      );
    }
  });

  it("retrieves the demonstrations closest to each input and uses them as if given", async () => {
    const selector = gemma.demonstrationSelector(promptEolDemonstrations);
    const chosen = await selector.selectMany(sentences.slice(0, 2), 2);
    const retrieved = await gemma.embed(sentences.slice(0, 2), {
      prompt: { template: "prompteol", examples: { selector, k: 2 } },
    });
    for (const i of [0, 1]) {
      const fixed = await gemma.embed(sentences[i]!, { prompt: { template: "prompteol", examples: chosen[i]! } });
      expect(cosineSimilarity(fixed.embedding, retrieved[i]!.embedding)).toBeGreaterThanOrEqual(batchInvariance);
    }
  });
});

describe("presets and outputs", () => {
  it("closes the input with the end-of-text token when the preset asks for it", async () => {
    const result = await gemma.embed("what is a llama?", {
      prompt: { template: "qwen3-embedding", task: "Given a question, retrieve passages that answer it" },
      tokens: true,
    });
    const ids = result.tokens!.map((token) => token.id);
    expect(ids.at(-1)).toBe(gemma.info.specialTokens.eos);
    expect(ids.filter((id) => id === gemma.info.specialTokens.eos)).toHaveLength(1);
  });

  it("returns Matryoshka-cut and quantized forms of the same vector", async () => {
    const full = await gemma.embed("A man is playing a guitar.", { pooling: "last" });
    const cut = await gemma.embed("A man is playing a guitar.", {
      pooling: "last",
      dimensions: 128,
      precision: "int8",
    });
    expect(cut.embedding).toHaveLength(128);
    expect(Math.hypot(...cut.embedding)).toBeCloseTo(1, 5);
    expect(cosineSimilarity(cut.embedding, full.embedding.subarray(0, 128))).toBeGreaterThan(0.99999);
    expect(cut.quantized).toMatchObject({ precision: "int8" });
    await expect(gemma.embed("x", { dimensions: 641 })).rejects.toThrow(/dimensions must be between 1 and 640/);
  });

  it("finds spans in the input, not in the demonstrations before it, and returns the prompted text's span vectors", async () => {
    const examples = [{ query: "The bank raised its rates.", response: "Finance" }];
    const text = "She sat on the river bank.";
    const [result] = await gemma.embed([{ text, spans: [{ find: "bank" }] }], {
      prompt: { template: "prompteol", examples },
    });
    const prompted = buildQueryAt(promptEol, { query: text, examples });
    expect(result!.promptedText).toBe(prompted.text);
    expect(result!.spans![0]).toMatchObject({ start: 21, end: 25, text: "bank" });
    const [plain] = await gemma.embed([
      { text: prompted.text, spans: [{ start: prompted.inputStart + 21, end: prompted.inputStart + 25 }] },
    ]);
    expect(result!.spans![0]!.tokenStart).toBe(plain!.spans![0]!.tokenStart);
    expect(cosineSimilarity(result!.spans![0]!.embedding, plain!.spans![0]!.embedding)).toBeGreaterThanOrEqual(
      batchInvariance,
    );
  });
});
