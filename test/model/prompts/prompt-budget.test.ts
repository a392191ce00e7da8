// A prompt's demonstrations and template never squeeze out the input: a prompt over the model's
// token limit loses its demonstrations (farthest first), never the text it is for, and a part
// that cannot fit with any input is refused by name. all-MiniLM-L6-v2 embeds at most 256 tokens.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, type EmbeddingModel } from "../../../lib/embedding/embedding-model.js";
import { buildQuery, findPreset, type Demonstration } from "../../../lib/prompts/templates.js";
import { cosineSimilarity } from "../../../lib/vectors/similarity.js";
import { minilmPath, sentenceFixture } from "../models.js";

// An encoder's vector moves in the 6th digit with its batch mates (docs/cli.md).
const sameVector = 0.99999;
// MiniLM was not trained on prompts: at the last token, inputs after one long demonstration are
// close (cosine up to 0.9993 here), but not the same vector.
const distinct = 0.9999;
const fixture = sentenceFixture().sentences;
const promptEol = findPreset("prompteol");

let minilm: EmbeddingModel;
beforeAll(async () => {
  minilm = await loadModel(await minilmPath("f32"));
});
afterAll(() => minilm.dispose());

/** Sentences of the fixture joined until the text has at least `tokens` tokens. */
function textOf(tokens: number, from: number): string {
  let text = fixture[from % fixture.length]!;
  for (let i = from + 1; minilm.countTokens(text) < tokens; i++) text += ` ${fixture[i % fixture.length]!}`;
  return text;
}

describe("demonstrations over the model's limit", () => {
  it("an input whose prompt is too long with the demonstration loses the demonstration, not its text", async () => {
    const demonstration: Demonstration = { query: textOf(170, 40), response: "long" };
    const short = fixture.slice(0, 10);
    const long = Array.from({ length: 10 }, (_, i) => textOf(110, 100 + 7 * i));
    const inputs = [...short, ...long];
    const results = await minilm.embed(inputs, { prompt: { template: "prompteol", examples: [demonstration] } });

    for (let i = 0; i < results.length; i++)
      for (let j = i + 1; j < results.length; j++)
        expect(cosineSimilarity(results[i]!.embedding, results[j]!.embedding), `${i} and ${j}`).toBeLessThan(distinct);
    const withDemonstration = await minilm.embed(
      short.map((query) => buildQuery(promptEol, { query, examples: [demonstration] })),
      { pooling: "last" },
    );
    const withoutDemonstration = await minilm.embed(long, { prompt: { template: "prompteol" } });
    short.forEach((text, i) => {
      expect(results[i]!.examplesDropped, text).toBe(0);
      expect(cosineSimilarity(results[i]!.embedding, withDemonstration[i]!.embedding)).toBeGreaterThanOrEqual(
        sameVector,
      );
    });
    long.forEach((text, i) => {
      const result = results[10 + i]!;
      expect(result.examplesDropped, text).toBe(1);
      expect(result.truncated).toBe(false);
      expect(result.promptedText).toBe(buildQuery(promptEol, { query: text }));
      expect(cosineSimilarity(result.embedding, withoutDemonstration[i]!.embedding)).toBeGreaterThanOrEqual(sameVector);
    });
  });

  it("the demonstrations farthest from the input go first", async () => {
    const near: Demonstration = { query: fixture[3]!, response: "near" };
    const far: Demonstration = { query: textOf(120, 50), response: "far" };
    const input = textOf(90, 200);
    const [result] = await minilm.embed([input], { prompt: { template: "prompteol", examples: [far, near] } });
    expect(result!.examplesDropped).toBe(1);
    expect(result!.promptedText).toBe(buildQuery(promptEol, { query: input, examples: [near] }));
  });

  it("a demonstration that cannot fit with any input is refused by its place, with truncate on or off", async () => {
    const fits: Demonstration = { query: fixture[0]!, response: "fits" };
    const tooLong: Demonstration = { query: textOf(734, 300), response: "long" };
    for (const truncate of [true, false]) {
      await expect(
        minilm.embed(["A man is playing a guitar on the stage tonight."], {
          truncate,
          prompt: { template: "prompteol", examples: [fits, tooLong] },
        }),
      ).rejects.toThrow(/^prompt\.examples\[1\] makes a prompt of \d{3} tokens with a one-character input: .*256/);
    }
    const selector = minilm.demonstrationSelector([fits, tooLong]);
    await expect(
      minilm.embed(["A short input."], { prompt: { template: "prompteol", examples: { selector, k: 1 } } }),
    ).rejects.toThrow(/^the demonstration pool's \[1\] makes a prompt of \d{3} tokens/);
  });

  it("--no-truncate blames the input only when the input itself is too long, and names the template when it is", async () => {
    const demonstration: Demonstration = { query: textOf(170, 40), response: "long" };
    const nineWords = "A man is playing a guitar on the stage.";
    const [kept] = await minilm.embed([nineWords], {
      truncate: false,
      prompt: { template: "prompteol", examples: [demonstration] },
    });
    expect(kept!.examplesDropped).toBe(0);
    const long = textOf(300, 10);
    await expect(
      minilm.embed([long], { truncate: false, prompt: { template: "prompteol", examples: [demonstration] } }),
    ).rejects.toThrow(
      /^inputs\[0\] has \d{3} tokens, \d+ more in its prompt without demonstrations but .* at most 256/,
    );
    const template = `${textOf(300, 500)} {query}`;
    await expect(minilm.embed([nineWords], { prompt: { template: { query: template } } })).rejects.toThrow(
      /^the prompt's template makes \d{3} tokens with a one-character input/,
    );
  });

  it("an input too long even alone in its prompt is cut inside the prompt, keeping the template's end", async () => {
    const long = textOf(300, 10);
    const [result] = await minilm.embed([long], { prompt: { template: "prompteol" } });
    expect(result!.truncated).toBe(true);
    expect(result!.tokenCount).toBeLessThanOrEqual(256);
    expect(result!.promptedText!.endsWith('" means in one word:"')).toBe(true);
    const cut = result!.promptedText!.slice('This sentence : "'.length, -'" means in one word:"'.length);
    expect(long.startsWith(cut)).toBe(true);
    expect(cut.length).toBeLessThan(long.length);
    const [reference] = await minilm.embed([result!.promptedText!], { pooling: "last", truncate: false });
    expect(cosineSimilarity(result!.embedding, reference!.embedding)).toBeGreaterThanOrEqual(sameVector);
  });
});
