// The CLI's input readers: which text and id each format yields, and where bad records are.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { inputFormatOf, openInput, type InputOptions, type InputRecord } from "../../../lib/cli/inputs.js";

const directory = mkdtempSync(join(tmpdir(), "ctxembed-inputs-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

async function read(
  name: string,
  content: string,
  options: Partial<InputOptions> = {},
): Promise<Omit<InputRecord, "where">[]> {
  const input = join(directory, name);
  writeFileSync(input, content);
  const reader = await openInput({ input, field: "text", header: true, skipEmpty: false, ...options });
  const records: Omit<InputRecord, "where">[] = [];
  for await (const { where: _where, ...record } of reader.records(new AbortController().signal)) records.push(record);
  return records;
}

describe("input formats", () => {
  it("drops a UTF-8 byte order mark before the first line of text and JSON lines, and keeps one later in the file", async () => {
    expect(await read("bom.jsonl", '\uFEFF{"text": "one"}\n{"text": "two"}\n')).toEqual([
      { index: 0, text: "one" },
      { index: 1, text: "two" },
    ]);
    expect(await read("bom.txt", "\uFEFFone\n\uFEFFtwo\n")).toEqual([
      { index: 0, text: "one" },
      { index: 1, text: "\uFEFFtwo" },
    ]);
  });

  it("takes the format from --input-format, else the extension, else plain text", () => {
    expect(
      ["a.jsonl", "a.NDJSON", "a.csv", "a.tsv", "a.tab", "a.txt", "-"].map((input) => inputFormatOf({ input })),
    ).toEqual(["jsonl", "jsonl", "csv", "tsv", "tsv", "text", "text"]);
    expect(inputFormatOf({ input: "a.csv", inputFormat: "text" })).toBe("text");
  });

  it("reads plain text one item per line, numbering lines from 0, and skips empty ones only when told", async () => {
    expect(await read("a.txt", "one\r\ntwo\n\nfour", { skipEmpty: true })).toEqual([
      { index: 0, text: "one" },
      { index: 1, text: "two" },
      { index: 3, text: "four" },
    ]);
    await expect(read("b.txt", "one\n\nthree\n")).rejects.toThrow(/line 2 of .*b\.txt is empty; pass --skip-empty/);
  });

  it("carries the named fields of JSON lines and the named columns of CSV, null where a record lacks one", async () => {
    const jsonl = '{"text":"first","year":2001,"tags":["a"]}\n{"text":"second","source":"blog"}\n';
    expect(await read("fields.jsonl", jsonl, { fields: ["year", "source", "tags"] })).toEqual([
      { index: 0, text: "first", fields: { year: 2001, source: null, tags: ["a"] } },
      { index: 1, text: "second", fields: { year: null, source: "blog", tags: null } },
    ]);
    expect(await read("fields.csv", "text,source\nfirst,news\n", { fields: ["source"] })).toEqual([
      { index: 0, text: "first", fields: { source: "news" } },
    ]);
    await expect(read("nofield.csv", "text,source\nfirst,news\n", { fields: ["year"] })).rejects.toThrow(
      /no column "year" for the field "year"/,
    );
  });

  it("reads JSON lines' --field and carries the id field through", async () => {
    const content = '{"id":"a","body":"first"}\n{"body":"second","id":7}\n{"body":"third"}\n';
    expect(await read("a.jsonl", content, { field: "body" })).toEqual([
      { index: 0, text: "first", id: "a" },
      { index: 1, text: "second", id: 7 },
      { index: 2, text: "third" },
    ]);
    await expect(read("b.jsonl", content, { field: "body", idField: "id" })).rejects.toThrow(
      /line 3 of .*b\.jsonl has no field "id" \(--id-field\)/,
    );
    await expect(read("c.jsonl", '{"text":"ok"}\n{"text":\n')).rejects.toThrow(
      /line 2 of .*c\.jsonl is not valid JSON/,
    );
    await expect(read("d.jsonl", '{"body":"x"}\n')).rejects.toThrow(
      /line 1 of .*d\.jsonl has no string field "text"; choose the field with --field/,
    );
  });

  it("reads a CSV column by header name or number, with quoted commas and newlines, and its id column", async () => {
    const content = 'id,title,text\n1,a,"hello, world"\n2,b,"two\nlines"\n';
    expect(await read("a.csv", content)).toEqual([
      { index: 0, text: "hello, world", id: "1" },
      { index: 1, text: "two\nlines", id: "2" },
    ]);
    expect(await read("b.csv", content, { column: "1", idColumn: "title" })).toEqual([
      { index: 0, text: "a", id: "a" },
      { index: 1, text: "b", id: "b" },
    ]);
    expect(await read("c.csv", "x,first\ny,second\n", { header: false, column: "1" })).toEqual([
      { index: 0, text: "first" },
      { index: 1, text: "second" },
    ]);
    await expect(read("d.csv", content, { column: "body" })).rejects.toThrow(
      /d\.csv has no column "body" for the text \(--column\); its columns are "id", "title", "text"/,
    );
    await expect(read("e.csv", "id,text\n1,a\n2,b,c\n")).rejects.toThrow(
      /e\.csv: Invalid Record Length: expect 2, got 3 on line 3/,
    );
  });

  it("reads TSV without quoting, so quotes are ordinary characters", async () => {
    expect(await read("a.tsv", 'text\tid\nshe said "hi\tq1\n')).toEqual([{ index: 0, text: 'she said "hi', id: "q1" }]);
  });
});
