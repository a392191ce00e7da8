// The smoothing factors' arithmetic (SmoothQuant with alpha 0.5, lib/hub/smoothing.ts) on
// hand-made ranges whose answers follow from the definition s = sqrt(activation range / weight range).
import { describe, expect, it } from "vitest";
import { smoothingScales } from "../../../lib/hub/smoothing.js";

// A 3-row weight matrix over `width` input columns with `range` as the largest |w| of column j.
function weightsWithColumnRanges(ranges: number[]): Float32Array {
  const width = ranges.length;
  const matrix = new Float32Array(3 * width);
  ranges.forEach((range, j) => {
    matrix[j] = range / 2;
    matrix[width + j] = -range;
    matrix[2 * width + j] = range / 4;
  });
  return matrix;
}

const expectClose = (actual: Float32Array, expected: number[]) => {
  expect(actual.length).toBe(expected.length);
  expected.forEach((value, j) => expect(actual[j], `channel ${j}`).toBeCloseTo(value, 6));
};

describe("smoothingScales", () => {
  it("gives a channel with 64x the median activation range and the same weight range a factor of 8", () => {
    const activations = Float32Array.from([1, 1, 1, 64, 1]);
    expectClose(smoothingScales(activations, [weightsWithColumnRanges([0.1, 0.1, 0.1, 0.1, 0.1])]), [1, 1, 1, 8, 1]);
  });

  it("divides by the median channel's factor", () => {
    // square roots 1..5 over equal weights; the median is 3
    const activations = Float32Array.from([1, 4, 9, 16, 25]);
    expectClose(smoothingScales(activations, [weightsWithColumnRanges([2, 2, 2, 2, 2])]), [
      1 / 3,
      2 / 3,
      1,
      4 / 3,
      5 / 3,
    ]);
  });

  it("takes each column's weight range over every product that shares the input", () => {
    // column 1's weights reach 16x the others' in the second product: its factor is 1/4
    const activations = Float32Array.from([2, 2, 2]);
    const scales = smoothingScales(activations, [
      weightsWithColumnRanges([0.5, 0.5, 0.5]),
      weightsWithColumnRanges([0.5, 8, 0.5]),
    ]);
    expectClose(scales, [1, 0.25, 1]);
  });

  it("leaves a channel that never fires, or whose weights are all zero, at 1", () => {
    const activations = Float32Array.from([1, 0, 1, 1, 1]);
    expectClose(smoothingScales(activations, [weightsWithColumnRanges([0.1, 0.1, 0, 0.1, 0.1])]), [1, 1, 1, 1, 1]);
  });
});
