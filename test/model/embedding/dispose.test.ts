// dispose() while an embed call is between batches: the call finishes with every result (before,
// its next batch ran on a freed context and the call was rejected), and only then are the weights freed.
import { describe, expect, it } from "vitest";
import { loadModel } from "../../../lib/embedding/embedding-model.js";
import { tinyModelPath } from "../tiny-model.js";

describe("dispose during a multi-batch embed", () => {
  it("lets the running call finish, then refuses new ones", async () => {
    const model = await loadModel(await tinyModelPath(), { threads: 1 });
    const texts = Array.from({ length: 2000 }, (_, i) => `sentence ${i} about the bank of a river`);
    // ~28,000 tokens against a batch budget of model.batchTokens: dozens of batches.
    expect(texts.length * 14).toBeGreaterThan(10 * model.batchTokens);
    const running = model.embed(texts);
    await new Promise((resolve) => setImmediate(resolve));
    const disposed = model.dispose();
    expect(model.disposed).toBe(true);
    await expect(model.embed("later")).rejects.toThrow(/has been disposed/);
    expect(() => model.tokenize("later")).toThrow(/has been disposed/);
    const results = await running;
    expect(results).toHaveLength(texts.length);
    expect(results.every((result) => result.embedding.length === model.info.dimensions)).toBe(true);
    await disposed;
    expect(model.dispose()).toBe(disposed);
  });
});
