import { describe, expect, it } from "vitest";
import { truncateTokens } from "../../../lib/tokens/truncate.js";

describe("truncateTokens", () => {
  const ids = Int32Array.from([101, 1, 2, 3, 4, 5, 102]);

  it("keeps inputs that fit untouched", () => {
    expect(truncateTokens(ids, 7, { leading: 1, trailing: 1 })).toEqual({ ids, truncated: false, originalLength: 7 });
  });

  it("cuts the text tokens and keeps the trailing special token, as Hugging Face tokenizers do", () => {
    const cut = truncateTokens(ids, 4, { leading: 1, trailing: 1 });
    expect(Array.from(cut.ids)).toEqual([101, 1, 2, 102]);
    expect(cut).toMatchObject({ truncated: true, originalLength: 7 });
  });

  it("just cuts when the tokenizer appended nothing", () => {
    expect(Array.from(truncateTokens(Int32Array.from([2, 10, 11, 12]), 2, { leading: 1, trailing: 0 }).ids)).toEqual([
      2, 10,
    ]);
  });
});
