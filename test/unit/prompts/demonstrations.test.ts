import { describe, expect, it } from "vitest";
import { DemonstrationSelector, type EmbedTexts } from "../../../lib/prompts/demonstrations.js";
import { promptEolDemonstrations } from "../../../lib/prompts/prompteol-demonstrations.js";
import type { Demonstration } from "../../../lib/prompts/templates.js";

/** Embeds a text as the unit vector at its angle (radians) in `angles`, counting calls. */
function angleEmbedding(angles: Record<string, number>): EmbedTexts & { calls: string[][] } {
  const calls: string[][] = [];
  const embed = async (texts: string[]): Promise<Float32Array[]> => {
    calls.push(texts);
    await new Promise((resolve) => setTimeout(resolve, 1));
    return texts.map((text) => {
      const angle = angles[text];
      if (angle === undefined) throw new Error(`no angle for ${text}`);
      return Float32Array.of(Math.cos(angle), Math.sin(angle));
    });
  };
  return Object.assign(embed, { calls });
}

const pool: Demonstration[] = ["far", "near", "middle", "near twin", "farthest"].map((query) => ({
  query,
  response: query.toUpperCase(),
}));
const angles = { far: 0.9, near: 0.1, middle: 0.5, "near twin": 0.1, farthest: 2, query: 0, other: 1.9 };

describe("DemonstrationSelector", () => {
  it("returns the k nearest demonstrations, the nearest last, ties going to the earlier one in the pool", async () => {
    const selector = new DemonstrationSelector(pool, angleEmbedding(angles));
    expect((await selector.select("query", 3)).map((d) => d.query)).toEqual(["middle", "near twin", "near"]);
    expect((await selector.select("query", 1)).map((d) => d.query)).toEqual(["near"]);
    expect((await selector.select("other", 2)).map((d) => d.query)).toEqual(["far", "farthest"]);
    expect(await selector.select("query", 1)).toEqual([{ query: "near", response: "NEAR" }]);
  });

  it("embeds the pool once, however many calls wait for it, and the queries of selectMany in one call", async () => {
    const embed = angleEmbedding(angles);
    const selector = new DemonstrationSelector(pool, embed);
    const [first, second, many] = await Promise.all([
      selector.select("query", 2),
      selector.select("other", 2),
      selector.selectMany(["query", "other"], 2),
    ]);
    expect(many).toEqual([first, second]);
    await selector.select("query", 1);
    const poolTexts = pool.map((d) => d.query);
    expect(embed.calls.filter((texts) => texts.join() === poolTexts.join())).toHaveLength(1);
    expect(embed.calls).toContainEqual(["query", "other"]);
    expect(embed.calls).toHaveLength(5); // the pool, then the queries of the three selections and of the last one
  });

  it("never returns the query itself when it is in the pool", async () => {
    const selector = new DemonstrationSelector(pool, angleEmbedding(angles));
    expect((await selector.select("near", 2)).map((d) => d.query)).toEqual(["middle", "near twin"]);
    await expect(selector.select("near", 5)).rejects.toThrow(/k is 5, but only 4 demonstrations remain/);
  });

  it.each([0, 6, 1.5, Number.NaN, "2"])("rejects k = %j", async (k) => {
    const selector = new DemonstrationSelector(pool, angleEmbedding(angles));
    await expect(selector.select("query", k as number)).rejects.toThrow(/k must be/);
  });

  it("embeds the pool again after a failed attempt", async () => {
    let failures = 1;
    const embed = angleEmbedding(angles);
    const selector = new DemonstrationSelector(pool, async (texts) => {
      if (texts.length === pool.length && failures-- > 0) throw new Error("backend unavailable");
      return embed(texts);
    });
    await expect(selector.select("query", 1)).rejects.toThrow(/backend unavailable/);
    expect((await selector.select("query", 1)).map((d) => d.query)).toEqual(["near"]);
  });

  it("checks what it is given and what the embedding function returns", async () => {
    expect(() => new DemonstrationSelector([], angleEmbedding(angles))).toThrow(/non-empty array/);
    expect(() => new DemonstrationSelector([{ query: "x" } as Demonstration], angleEmbedding(angles))).toThrow(
      /pool\[0\]\.response/,
    );
    const short = new DemonstrationSelector(pool, async () => [new Float32Array(2)]);
    await expect(short.select("query", 1)).rejects.toThrow(
      /embed returned 1 vectors for 5 texts of the demonstration pool/,
    );
    expect(await new DemonstrationSelector(pool, angleEmbedding(angles)).selectMany([], 1)).toEqual([]);
  });
});

describe("PromptEOL demonstrations", () => {
  it("are 24 distinct sentences, each with one word", () => {
    expect(promptEolDemonstrations).toHaveLength(24);
    expect(new Set(promptEolDemonstrations.map((d) => d.query)).size).toBe(24);
    for (const { query, response } of promptEolDemonstrations) {
      expect(query).toMatch(/^[A-Z].*\.$/);
      expect(response).toMatch(/^[A-Z][a-z]+$/);
    }
  });
});
