import { describe, expect, it } from "vitest";
import { specialFrame } from "../../../lib/tokens/special-frame.js";

describe("specialFrame", () => {
  const bert = { bos: 101, eos: 102, eot: -1, sep: 102, pad: 0, mask: 103, addBos: true, addEos: true, addSep: false };
  const gemma = { bos: 2, eos: 1, eot: 106, sep: -1, pad: 0, mask: -1, addBos: true, addEos: false, addSep: false };

  it("counts the special tokens the tokenizer added around the text", () => {
    expect(specialFrame(Int32Array.from([101, 7, 8, 102]), bert)).toEqual({ leading: 1, trailing: 1 });
    expect(specialFrame(Int32Array.from([2, 7, 8]), gemma)).toEqual({ leading: 1, trailing: 0 });
    expect(specialFrame(Int32Array.from([7, 8]), bert)).toEqual({ leading: 0, trailing: 0 });
  });
});
