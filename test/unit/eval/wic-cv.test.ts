import { describe, expect, it } from "vitest";
import { crossValidate, lemmaFolds, subsetOf } from "../../../lib/eval/wic-cv.js";
import { accuracy, fitWicMethod, type WicSplit } from "../../../lib/eval/wic-methods.js";
import { seededRandom } from "../../../lib/util/random.js";

// Lemmas with uneven pair counts, as WiC train has (1 to dozens of pairs per lemma).
const random = seededRandom(5);
const words = Array.from({ length: 60 }, (_, i) => `lemma${i}`).flatMap((word, i) =>
  Array.from({ length: 1 + (i % 9) }, () => word),
);

describe("lemma-grouped folds", () => {
  it("never put one lemma on both sides of a fold", () => {
    const folds = lemmaFolds(words, 7, 3);
    for (let fold = 0; fold < 7; fold++) {
      const scored = new Set(words.filter((_, i) => folds[i] === fold));
      const fitted = new Set(words.filter((_, i) => folds[i] !== fold));
      expect(scored.size).toBeGreaterThan(0);
      expect([...scored].filter((word) => fitted.has(word))).toEqual([]);
    }
  });

  it("keep the folds' sizes close, repeat with the seed and change with another", () => {
    const folds = lemmaFolds(words, 5, 1);
    const sizes = Array.from({ length: 5 }, (_, fold) => folds.filter((f) => f === fold).length);
    // Greedy largest-first: no fold exceeds another by more than the largest lemma (9 pairs).
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(9);
    expect(lemmaFolds(words, 5, 1)).toEqual(folds);
    expect(lemmaFolds(words, 5, 2)).not.toEqual(folds);
    expect(() => lemmaFolds(words, 1)).toThrow(RangeError);
    expect(() => lemmaFolds(words, 61)).toThrow(RangeError);
  });

  it("score each pair with the method fitted on the other folds", () => {
    const features = words.map((word, i) => ({ word, verb: i % 2 === 0, layerCosines: [random(), random()] }));
    const split: WicSplit = { features, labels: features.map((f, i) => f.layerCosines[1]! > 0.5 !== (i % 5 === 0)) };
    const folds = lemmaFolds(words, 4, 9);
    const cv = crossValidate({ method: "cosine" }, split, folds);
    // The reference: fold 2 by hand.
    const inFold = folds.flatMap((f, i) => (f === 2 ? [i] : []));
    const outOfFold = folds.flatMap((f, i) => (f === 2 ? [] : [i]));
    const scored = subsetOf(split, inFold);
    const byHand = fitWicMethod({ method: "cosine" }, subsetOf(split, outOfFold)).predict(scored.features);
    expect(inFold.map((i) => cv.predictions[i])).toEqual(byHand);
    expect(cv.folds[2]).toBeCloseTo(accuracy(byHand, scored.labels), 12);
    const mean = cv.folds.reduce((a, b) => a + b, 0) / 4;
    expect(cv.mean).toBeCloseTo(mean, 12);
    expect(cv.sd).toBeCloseTo(Math.sqrt(cv.folds.reduce((sum, a) => sum + (a - mean) ** 2, 0) / 3), 12);
    // 20% of the labels are flipped against the rule the threshold can find.
    expect(cv.mean).toBeGreaterThan(65);
  });
});
