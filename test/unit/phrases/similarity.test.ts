// Token matching between two phrase readings, without a model: BERTScore's greedy F1 on
// hand-made unit vectors, the cosine when each side is one pooled vector, and the option checks.
import { describe, expect, it } from "vitest";
import { phraseMatch, scoringForm } from "../../../lib/phrases/similarity.js";

const axis = (i: number, sign = 1) => Float32Array.from({ length: 3 }, (_, d) => (d === i ? sign : 0));
const [x, y, z] = [axis(0), axis(1), axis(2)];

describe("phraseMatch", () => {
  it("is the cosine of two pooled vectors", () => {
    const a = Float32Array.from([0.6, 0.8, 0]);
    expect(phraseMatch([a], [x])).toBeCloseTo(0.6, 6);
    expect(phraseMatch([x], [axis(0, -1)])).toBe(-1);
  });

  it("matches each token to its closest on the other side: recall over the first, precision over the second", () => {
    expect(phraseMatch([x, y], [y, x])).toBeCloseTo(1, 6);
    // [x, y] against [x]: recall (1 + 0) / 2, precision 1, F1 = 2 * 0.5 * 1 / 1.5
    expect(phraseMatch([x, y], [x])).toBeCloseTo(2 / 3, 6);
    // an extra unmatched token costs precision the same way
    expect(phraseMatch([x], [x, z])).toBeCloseTo(2 / 3, 6);
    expect(phraseMatch([x, y], [z])).toBe(0);
  });

  it("falls back to the mean of recall and precision when either is not positive", () => {
    // recall (-1 + 0) / 2, precision max(-1, 0) = 0
    expect(phraseMatch([x, y], [axis(0, -1)])).toBeCloseTo(-0.25, 6);
  });
});

describe("scoring option", () => {
  it("defaults to vectors and names what is wrong", () => {
    expect(scoringForm({})).toBe("vector");
    expect(scoringForm({ scoring: "tokens" })).toBe("tokens");
    expect(() => scoringForm({ scoring: "words" as never })).toThrow(/scoring/);
    expect(() => scoringForm({ scoring: "tokens", spanPooling: "max" })).toThrow(TypeError);
  });
});
