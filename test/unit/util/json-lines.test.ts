// The one JSON lines reader: what it skips, what it drops, and how it names a bad line.
import { describe, expect, it } from "vitest";
import { parseJsonLines } from "../../../lib/util/json-lines.js";

describe("parseJsonLines", () => {
  it("drops a byte order mark before the first line and a \\r before each \\n, and skips blank lines", () => {
    const text = '\uFEFF{"a":1}\r\n\n   \n{"a":2}\n';
    expect(parseJsonLines(text, "f.jsonl")).toEqual([
      { value: { a: 1 }, line: 1, where: "line 1 of f.jsonl" },
      { value: { a: 2 }, line: 4, where: "line 4 of f.jsonl" },
    ]);
  });

  it("refuses a line that is not JSON by its number; a byte order mark inside the text is no mark", () => {
    expect(() => parseJsonLines('{"a":1}\n{"a":\n', "f.jsonl")).toThrow(/^line 2 of f\.jsonl is not valid JSON: /);
    expect(() => parseJsonLines('{"a":1}\n\uFEFF{"a":2}\n', "f.jsonl")).toThrow(
      /^line 2 of f\.jsonl is not valid JSON/,
    );
  });

  it("with cutLastLine leaves out an unfinished last line, and only the last", () => {
    expect(parseJsonLines('{"a":1}\n{"a":', "f", { cutLastLine: true }).map(({ value }) => value)).toEqual([{ a: 1 }]);
    expect(() => parseJsonLines('{"a":\n{"a":1}', "f", { cutLastLine: true })).toThrow(
      /^line 1 of f is not valid JSON/,
    );
  });
});
