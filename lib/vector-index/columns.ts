// The types of the columns stored beside the vectors. A type is declared, or inferred from every
// value of the input (not from the first rows: a field null in the first commit would otherwise
// be text forever); a table's columns are fixed when it is made.
import { describe } from "../util/validate.js";

/** How a column other than id and vector stores its values: JSON text for "json" (and anything a "string" column is given that is not a string). */
export const columnTypes = ["string", "number", "boolean", "json"] as const;
export type ColumnType = (typeof columnTypes)[number];

/** The type a column gets from a value when none was declared. */
export function columnTypeOf(value: unknown): ColumnType {
  if (typeof value === "number") return "number";
  if (typeof value === "boolean") return "boolean";
  return typeof value === "string" ? "string" : "json";
}

/** Infers column types from every value of an input, and refuses a field whose values disagree. */
export class ColumnTypeInference {
  private readonly found = new Map<string, { type: ColumnType; where: string }>();

  constructor(private readonly describeField: (name: string) => string = (name) => `the field "${name}"`) {}

  /** Takes one record's values; `where` names the record for the error ("line 3 of a.jsonl"). */
  add(values: Record<string, unknown>, where: string): void {
    for (const [name, value] of Object.entries(values)) {
      if (value === null || value === undefined) continue;
      const type = columnTypeOf(value);
      const first = this.found.get(name);
      if (!first) this.found.set(name, { type, where });
      // Objects and arrays of any shape are all JSON text.
      else if (first.type !== type)
        throw new TypeError(
          `${this.describeField(name)} holds ${first.type === "json" ? "objects or arrays" : `${first.type}s`} (${first.where}) and ${type === "json" ? "objects or arrays" : `${type}s`} (${where}): declare its type (string, number, boolean or json)`,
        );
    }
  }

  /** The type of each field that had a value; a field that never had one is not there. */
  types(): Record<string, ColumnType> {
    return Object.fromEntries([...this.found].map(([name, { type }]) => [name, type]));
  }
}

/**
 * A value of a declared type from text (a CSV or TSV cell, or a JSON string): "" is null for
 * numbers and booleans; a number must be one in full, a boolean "true" or "false".
 */
export function typedValue(type: ColumnType, value: unknown, column: string, where: string): unknown {
  if (typeof value !== "string" || type === "string" || type === "json") return value;
  const text = value.trim();
  if (text === "") return null;
  if (type === "number") {
    const number = Number(text);
    if (!Number.isFinite(number) || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text))
      throw new TypeError(`${where}: the column "${column}" holds numbers; ${describe(value)} is not a number`);
    return number;
  }
  if (text === "true" || text === "false") return text === "true";
  throw new TypeError(`${where}: the column "${column}" holds booleans (true or false), got ${describe(value)}`);
}
