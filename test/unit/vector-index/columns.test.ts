// Column types of the values stored beside the vectors: inferred from every value of an input
// (a field null in the first rows takes its later values' type), and text read as a declared type.
import { describe, expect, it } from "vitest";
import { ColumnTypeInference, typedValue } from "../../../lib/vector-index/columns.js";

describe("column type inference", () => {
  it("types a field by all its values, not its first rows", () => {
    const inference = new ColumnTypeInference();
    for (let line = 1; line <= 600; line++)
      inference.add(
        { year: line <= 550 ? null : 1990 + line, tags: line % 2 ? ["a"] : { b: 1 }, never: null },
        `line ${line}`,
      );
    expect(inference.types()).toEqual({ year: "number", tags: "json" });
  });

  it("refuses a field whose values have two types, naming a line of each", () => {
    const inference = new ColumnTypeInference((name) => `--metadata ${name}`);
    inference.add({ year: 1999 }, "line 1");
    inference.add({ year: null }, "line 2");
    expect(() => inference.add({ year: "soon" }, "line 3")).toThrow(
      /--metadata year holds numbers \(line 1\) and strings \(line 3\): declare its type/,
    );
  });
});

describe("typed values", () => {
  it("reads text as the declared type, empty as null, and refuses what is not one", () => {
    expect(typedValue("number", "1999", "year", "row 1")).toBe(1999);
    expect(typedValue("number", " -2.5e3 ", "year", "row 1")).toBe(-2500);
    expect(typedValue("number", "", "year", "row 1")).toBeNull();
    expect(typedValue("boolean", "false", "ok", "row 1")).toBe(false);
    expect(typedValue("string", "1999", "year", "row 1")).toBe("1999");
    expect(typedValue("number", 7, "year", "row 1")).toBe(7);
    for (const text of ["0x10", "1999a", "Infinity", "soon"])
      expect(() => typedValue("number", text, "year", "row 2"), text).toThrow(/row 2: the column "year" holds numbers/);
    expect(() => typedValue("boolean", "yes", "ok", "row 3")).toThrow(/row 3: the column "ok" holds booleans/);
  });
});
