import { describe, expect, it } from "vitest";
import { packBatches, packPrefixBatches, type PrefixBatch } from "../../../lib/embedding/batching.js";
import { seededRandom } from "../../../lib/util/random.js";

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
  const prompted = Array.from({ length: 90 }, (_, i) =>
    Int32Array.from([1, ...prompts[i % 3]!, ...tokens(3 + (i % 10), 2000)]),
  );
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
