import { describe, expect, it } from "vitest";
import { packBatches, packPrefixBatches, type PrefixBatch } from "../../lib/batching.js";
import { SerialQueue } from "../../lib/serial-queue.js";
import { specialFrame } from "../../lib/tokens/special-frame.js";
import { truncateTokens } from "../../lib/tokens/truncate.js";
import { planWindows } from "../../lib/tokens/windows.js";
import { seededRandom } from "../seeded-random.js";

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

describe("packPrefixBatches", () => {
  const random = seededRandom(7);
  const tokens = (length: number, from = 1000) => Array.from({ length }, () => from + Math.floor(random() * 50));
  // Three prompts (long distinct prefixes, like demonstration sets), texts of 3-12 tokens after them.
  const prompts = [tokens(40), tokens(25), tokens(60)];
  const prompted = Array.from({ length: 90 }, (_, i) => Int32Array.from([1, ...prompts[i % 3]!, ...tokens(3 + (i % 10), 2000)]));
  const limits = { batchTokens: 256, maxSequences: 16 };

  function checkInvariants(sequences: Int32Array[], batches: PrefixBatch[]): void {
    expect(batches.flatMap((batch) => batch.indices).sort((a, b) => a - b)).toEqual(sequences.map((_, i) => i));
    for (const { indices, prefixLength } of batches) {
      const first = sequences[indices[0]!]!;
      const cost = prefixLength + indices.reduce((sum, index) => sum + sequences[index]!.length - prefixLength, 0);
      expect(cost).toBeLessThanOrEqual(limits.batchTokens);
      expect(indices.length).toBeLessThanOrEqual(limits.maxSequences);
      for (const index of indices) {
        const sequence = sequences[index]!;
        expect(sequence.length).toBeGreaterThan(prefixLength);
        expect([...sequence.subarray(0, prefixLength)]).toEqual([...first.subarray(0, prefixLength)]);
      }
    }
  }

  it("batches sequences by prompt and shares each prompt's whole prefix", () => {
    const batches = packPrefixBatches(prompted, limits, 8);
    checkInvariants(prompted, batches);
    for (const { indices, prefixLength } of batches) {
      const prompt = indices[0]! % 3;
      expect(indices.every((index) => index % 3 === prompt)).toBe(true);
      expect(prefixLength).toBeGreaterThanOrEqual(1 + prompts[prompt]!.length);
    }
    // 30 sequences of at most 73 tokens per prompt: a few batches each, not one per sequence.
    expect(batches.length).toBeLessThanOrEqual(9);
  });

  it("packs sequences that share too little together, without a prefix", () => {
    const unrelated = Array.from({ length: 40 }, () => Int32Array.from([1, ...tokens(5 + Math.floor(random() * 20))]));
    const batches = packPrefixBatches([...unrelated, ...prompted], limits, 8);
    checkInvariants([...unrelated, ...prompted], batches);
    const unprefixed = batches.filter((batch) => batch.prefixLength === 0).flatMap((batch) => batch.indices);
    expect(unprefixed.sort((a, b) => a - b)).toEqual(unrelated.map((_, i) => i));
  });

  it("leaves every sequence its last token, even one that is another's prefix", () => {
    const base = Int32Array.from([1, ...tokens(20)]);
    const sequences = [base, Int32Array.from([...base, 7]), Int32Array.from([...base, 8, 9])];
    const batches = packPrefixBatches(sequences, limits, 8);
    checkInvariants(sequences, batches);
    expect(batches).toEqual([{ indices: [0, 1, 2], prefixLength: 20 }]);
  });
});

describe("truncateTokens", () => {
  const ids = Int32Array.from([101, 1, 2, 3, 4, 5, 102]);

  it("keeps inputs that fit untouched", () => {
    expect(truncateTokens(ids, 7, { leading: 1, trailing: 1 })).toEqual({ ids, truncated: false, originalLength: 7 });
  });

  it("cuts the text tokens and keeps the trailing special token, as Hugging Face tokenizers do", () => {
    const cut = truncateTokens(ids, 4, { leading: 1, trailing: 1 });
    expect(Array.from(cut.ids)).toEqual([101, 1, 2, 102]);
    expect(cut).toMatchObject({ truncated: true, originalLength: 7 });
  });

  it("just cuts when the tokenizer appended nothing", () => {
    expect(Array.from(truncateTokens(Int32Array.from([2, 10, 11, 12]), 2, { leading: 1, trailing: 0 }).ids)).toEqual([2, 10]);
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

describe("specialFrame", () => {
  const bert = { bos: 101, eos: 102, eot: -1, sep: 102, pad: 0, mask: 103, addBos: true, addEos: true, addSep: false };
  const gemma = { bos: 2, eos: 1, eot: 106, sep: -1, pad: 0, mask: -1, addBos: true, addEos: false, addSep: false };

  it("counts the special tokens the tokenizer added around the text", () => {
    expect(specialFrame(Int32Array.from([101, 7, 8, 102]), bert)).toEqual({ leading: 1, trailing: 1 });
    expect(specialFrame(Int32Array.from([2, 7, 8]), gemma)).toEqual({ leading: 1, trailing: 0 });
    expect(specialFrame(Int32Array.from([7, 8]), bert)).toEqual({ leading: 0, trailing: 0 });
  });
});

describe("planWindows", () => {
  // [CLS] t0..t9 [SEP]
  const ids = Int32Array.from([101, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 102]);
  const frame = { leading: 1, trailing: 1 };

  it("frames every window with the special tokens and covers the whole text", () => {
    const plan = planWindows(ids, frame, { size: 6, stride: 2 }, false);
    expect(plan.windows.map((window) => Array.from(window))).toEqual([
      [101, 0, 1, 2, 3, 102],
      [101, 2, 3, 4, 5, 102],
      [101, 4, 5, 6, 7, 102],
      [101, 6, 7, 8, 9, 102],
    ]);
  });

  it("reads each token from the window where it has most context on both sides", () => {
    const plan = planWindows(ids, frame, { size: 6, stride: 2 }, false);
    // t3 (document index 4) sits at rows 4 and 2 of windows 0 and 1: context 0 vs 1, so window 1.
    expect(plan.source.window[4]).toBe(1);
    expect(plan.source.row[4]).toBe(2);
    expect(plan.source.window[0]).toBe(0);
    expect(plan.source.window[11]).toBe(3);
    expect(plan.source.row[11]).toBe(5);
  });

  it("prefers left context for a causal model", () => {
    const plan = planWindows(Int32Array.from([2, 0, 1, 2, 3, 4, 5]), { leading: 1, trailing: 0 }, { size: 4, stride: 1 }, true);
    // t2 is in windows starting at t0, t1, t2: the earliest start gives it most left context.
    expect(plan.source.window[3]).toBe(0);
  });

  it("refuses windows with no room for text and bad strides", () => {
    expect(() => planWindows(ids, frame, { size: 2, stride: 1 }, false)).toThrow(/no room/);
    expect(() => planWindows(ids, frame, { size: 6, stride: 5 }, false)).toThrow(/stride must be between 1 and 4/);
  });
});
