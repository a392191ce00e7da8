import { describe, expect, it } from "vitest";
import { fitThreshold } from "../../../lib/eval/wic.js";
import { senseOverlap, wicOccurrences, wicPos } from "../../../lib/eval/wic-features.js";
import { lemmaWeights } from "../../../lib/eval/wic-methods.js";
import { seededRandom } from "../../../lib/util/random.js";

describe("WiC features", () => {
  it("locates the target by whitespace word index, as WiC counts", () => {
    const pair = {
      word: "board",
      partOfSpeech: "N",
      sentence1: "Room and board .",
      sentence2: "He nailed boards across the windows .",
      index1: 2,
      index2: 2,
    };
    const [first, second] = wicOccurrences(pair);
    expect(first.text.slice(first.start, first.end)).toBe("board");
    expect(second.text.slice(second.start, second.end)).toBe("boards");
    expect(() => wicOccurrences({ ...pair, index1: 9 })).toThrow(RangeError);
    expect(wicPos("V")).toBe("verb");
    expect(() => wicPos("J")).toThrow(RangeError);
  });

  it("sense overlap is symmetric, near 1 when both occurrences clearly pick one sense, near 0 when they pick different ones", () => {
    const a = [0.9, 0.5, 0.4];
    const b = [0.4, 0.95, 0.3];
    expect(senseOverlap(a, b)).toBeCloseTo(senseOverlap(b, a), 12);
    expect(senseOverlap(a, a)).toBeGreaterThan(0.99);
    expect(senseOverlap(a, b)).toBeLessThan(0.01);
    // Indifferent occurrences: uniform distributions over n senses overlap 1/n.
    expect(senseOverlap([0.5, 0.5, 0.5, 0.5], [0.2, 0.2, 0.2, 0.2])).toBeCloseTo(0.25, 12);
  });

  it("a threshold fitted with pair weights equals one fitted on the pairs repeated that many times", () => {
    const random = seededRandom(11);
    const scores = Array.from({ length: 80 }, () => random());
    const labels = scores.map((score) => random() < score);
    const weights = scores.map((_, i) => 1 + (i % 4));
    const repeated = scores.flatMap((score, i) =>
      Array.from({ length: weights[i]! }, () => ({ score, label: labels[i]! })),
    );
    expect(fitThreshold(scores, labels, weights)).toEqual(
      fitThreshold(
        repeated.map((r) => r.score),
        repeated.map((r) => r.label),
      ),
    );
    expect(
      fitThreshold(
        scores,
        labels,
        scores.map(() => 1),
      ),
    ).toEqual(fitThreshold(scores, labels));
  });

  it("lemma weights give every lemma the same total and keep the total at the number of pairs", () => {
    const words = ["run", "run", "run", "bank", "table", "table"];
    const weights = lemmaWeights(words);
    const perLemma = new Map<string, number>();
    words.forEach((word, i) => perLemma.set(word, (perLemma.get(word) ?? 0) + weights[i]!));
    for (const total of perLemma.values()) expect(total).toBeCloseTo(words.length / perLemma.size, 12);
    expect(weights.reduce((a, b) => a + b, 0)).toBeCloseTo(words.length, 12);
  });
});
