import { describe, expect, it } from "vitest";
import { senseOverlap, wicOccurrences, wicPos } from "../../lib/tasks/wic-features.js";

describe("WiC features", () => {
  it("locates the target by whitespace word index, as WiC counts", () => {
    const pair = { word: "board", partOfSpeech: "N", sentence1: "Room and board .", sentence2: "He nailed boards across the windows .", index1: 2, index2: 2 };
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
});
