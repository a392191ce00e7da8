import { describe, expect, it } from "vitest";
import { float32ToJson } from "../../../lib/output/json.js";
import { cosineSimilarity, l2Normalize } from "../../../lib/vectors/similarity.js";
import { poolRows } from "../../../lib/vectors/pooling.js";

describe("l2Normalize and cosineSimilarity", () => {
  it("scales to unit length and leaves a zero vector alone", () => {
    expect(Array.from(l2Normalize(Float32Array.from([3, 4])))).toEqual([0.6000000238418579, 0.800000011920929]);
    expect(Array.from(l2Normalize(new Float32Array(3)))).toEqual([0, 0, 0]);
  });

  it("computes cosines and refuses mismatched widths", () => {
    expect(cosineSimilarity(Float32Array.from([1, 0]), Float32Array.from([0, 2]))).toBe(0);
    expect(cosineSimilarity(Float32Array.from([1, 1]), Float32Array.from([2, 2]))).toBeCloseTo(1, 12);
    expect(() => cosineSimilarity(new Float32Array(2), new Float32Array(3))).toThrow(/2 and 3 dimensions/);
  });
});

describe("poolRows", () => {
  // three tokens of width 2
  const rows = Float32Array.from([1, 10, 2, 20, 6, -30]);

  it.each([
    ["mean", [3, 0]],
    ["cls", [1, 10]],
    ["last", [6, -30]],
    ["max", [6, 20]],
    ["weighted-mean", [(1 * 1 + 2 * 2 + 3 * 6) / 6, (1 * 10 + 2 * 20 + 3 * -30) / 6]],
  ] as const)("%s", (mode, expected) => {
    const pooled = Array.from(poolRows(rows, 2, mode));
    pooled.forEach((value, i) => expect(value).toBeCloseTo(expected[i]!, 5));
  });
});

describe("float32ToJson", () => {
  it("prints nine significant digits that read back to the same float32", () => {
    const values = Float32Array.from([0.1, -1 / 3, 1e-8, 123456.789, 0]);
    const parsed = Float32Array.from(JSON.parse(float32ToJson(values)) as number[]);
    expect(Array.from(parsed)).toEqual(Array.from(values));
    expect(float32ToJson(Float32Array.from([0.5, -2]))).toBe("[0.5,-2]");
  });
});
