import { describe, expect, it } from "vitest";
import { packBatches } from "../../lib/batching.js";
import { SerialQueue } from "../../lib/serial-queue.js";
import { truncateTokens } from "../../lib/tokens/truncate.js";

describe("packBatches", () => {
  it("fills batches in input order up to the token budget", () => {
    expect(packBatches([3, 3, 3, 5, 1], { batchTokens: 8, maxSequences: 10 })).toEqual([[0, 1], [2, 3], [4]]);
  });

  it("starts a new batch at the sequence limit", () => {
    expect(packBatches([1, 1, 1, 1, 1], { batchTokens: 100, maxSequences: 2 })).toEqual([[0, 1], [2, 3], [4]]);
  });

  it("puts a sequence of exactly the budget alone, and refuses a larger one", () => {
    expect(packBatches([2, 8, 2], { batchTokens: 8, maxSequences: 4 })).toEqual([[0], [1], [2]]);
    expect(() => packBatches([2, 9], { batchTokens: 8, maxSequences: 4 })).toThrow(/sequence 1 has 9 tokens/);
  });

  it("returns no batches for no sequences", () => {
    expect(packBatches([], { batchTokens: 8, maxSequences: 4 })).toEqual([]);
  });
});

describe("truncateTokens", () => {
  const ids = Int32Array.from([101, 1, 2, 3, 4, 5, 102]);

  it("keeps inputs that fit untouched", () => {
    expect(truncateTokens(ids, 7, [102])).toEqual({ ids, truncated: false, originalLength: 7 });
  });

  it("cuts the text tokens and keeps the trailing special token, as Hugging Face tokenizers do", () => {
    const cut = truncateTokens(ids, 4, [102]);
    expect(Array.from(cut.ids)).toEqual([101, 1, 2, 102]);
    expect(cut).toMatchObject({ truncated: true, originalLength: 7 });
  });

  it("just cuts when the input does not end with the special token", () => {
    expect(Array.from(truncateTokens(Int32Array.from([2, 10, 11, 12]), 2, [1]).ids)).toEqual([2, 10]);
  });
});

describe("SerialQueue", () => {
  it("never runs two tasks at once and survives a failing task", async () => {
    const queue = new SerialQueue();
    let running = 0;
    let maxRunning = 0;
    const task = (fail: boolean) => async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
      if (fail) throw new Error("boom");
      return "ok";
    };
    const results = await Promise.allSettled([queue.run(task(false)), queue.run(task(true)), queue.run(task(false))]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(maxRunning).toBe(1);
  });
});
