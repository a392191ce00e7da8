import { describe, expect, it } from "vitest";
import { fitLogistic, predictProbability } from "../../../lib/eval/logistic-regression.js";
import { seededRandom } from "../../../lib/util/random.js";

describe("fitLogistic", () => {
  it("recovers the weights that generated the labels (large sample, light penalty)", () => {
    const random = seededRandom(4);
    const truth = { weights: [2, -1, 0], intercept: 0.5 };
    const rows = Array.from({ length: 20000 }, () => [random() * 2 - 1, random() * 2 - 1, random() * 2 - 1]);
    const labels = rows.map(
      (row) =>
        random() < 1 / (1 + Math.exp(-(truth.intercept + row.reduce((s, v, j) => s + v * truth.weights[j]!, 0)))),
    );
    const model = fitLogistic(rows, labels, { l2: 1e-6 });
    // Weights are on standardised features: undo the scaling to compare with the generating ones.
    const raw = model.weights.map((w, j) => w / model.scales[j]!);
    raw.forEach((w, j) => expect(Math.abs(w - truth.weights[j]!)).toBeLessThan(0.12));
    const atZero = predictProbability(model, [0, 0, 0]);
    expect(Math.abs(Math.log(atZero / (1 - atZero)) - truth.intercept)).toBeLessThan(0.1);
  });

  it("a row weight of 2 fits as two copies of the row, and 0 as no row at all", () => {
    const random = seededRandom(7);
    const rows = Array.from({ length: 60 }, () => [random() * 2 - 1, random() * 4]);
    const labels = rows.map((row) => random() < 1 / (1 + Math.exp(-(row[0]! - 0.5 * row[1]!))));
    const rowWeights = rows.map((_, i) => i % 3); // 0, 1, 2, 0, 1, 2, ...
    const weighted = fitLogistic(rows, labels, { l2: 0.5, rowWeights });
    const copied = rows.flatMap((row, i) => Array.from({ length: rowWeights[i]! }, () => ({ row, label: labels[i]! })));
    const expanded = fitLogistic(
      copied.map((c) => c.row),
      copied.map((c) => c.label),
      { l2: 0.5 },
    );
    for (const row of rows) expect(predictProbability(weighted, row)).toBeCloseTo(predictProbability(expanded, row), 9);
    expect(() => fitLogistic(rows, labels, { rowWeights: [1] })).toThrow(RangeError);
    expect(() => fitLogistic(rows, labels, { rowWeights: rows.map(() => -1) })).toThrow(RangeError);
  });

  it("shrinks weights as the penalty grows and rejects mismatched inputs", () => {
    const rows = [[0], [1], [2], [3]];
    const labels = [false, false, true, true];
    const light = fitLogistic(rows, labels, { l2: 0.01 });
    const heavy = fitLogistic(rows, labels, { l2: 100 });
    expect(Math.abs(heavy.weights[0]!)).toBeLessThan(Math.abs(light.weights[0]!));
    expect(() => fitLogistic(rows, [true])).toThrow(RangeError);
  });
});
