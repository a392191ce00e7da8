import { describe, expect, it } from "vitest";
import { requireInteger, requireKnownKeys, requireOneOf, requireText } from "../../../lib/util/validate.js";

describe("argument validation", () => {
  it("accepts well-formed text, including astral characters", () => {
    expect(requireText("emoji 😀 and 中文", "text")).toBe("emoji 😀 and 中文");
  });

  it.each([
    [42, TypeError, /must be a string, got number 42/],
    ["", RangeError, /empty string/],
    ["a\ud800b", TypeError, /lone surrogate \(\\ud800\) at index 1/],
    ["\udfff", TypeError, /at index 0/],
  ])("rejects %j", (value, type, message) => {
    expect(() => requireText(value, "text")).toThrow(type);
    expect(() => requireText(value, "text")).toThrow(message);
  });

  it("checks integers, choices and option names", () => {
    expect(() => requireInteger(1.5, "threads", 1)).toThrow(/must be an integer/);
    expect(() => requireInteger(0, "threads", 1, 8)).toThrow(/between 1 and 8, got 0/);
    expect(() => requireOneOf("median", "pooling", ["mean", "cls"])).toThrow(/"mean", "cls"/);
    expect(() => requireKnownKeys({ normalise: true }, "embed options", ["normalize"])).toThrow(
      /no option "normalise"/,
    );
  });
});
