import { describe, expect, it } from "vitest";
import { planWindows } from "../../../lib/tokens/windows.js";

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
    const plan = planWindows(
      Int32Array.from([2, 0, 1, 2, 3, 4, 5]),
      { leading: 1, trailing: 0 },
      { size: 4, stride: 1 },
      true,
    );
    // t2 is in windows starting at t0, t1, t2: the earliest start gives it most left context.
    expect(plan.source.window[3]).toBe(0);
  });

  it("refuses windows with no room for text and bad strides", () => {
    expect(() => planWindows(ids, frame, { size: 2, stride: 1 }, false)).toThrow(/no room/);
    expect(() => planWindows(ids, frame, { size: 6, stride: 5 }, false)).toThrow(/stride must be between 1 and 4/);
  });
});
