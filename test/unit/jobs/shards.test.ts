// Shards by byte range: every line in exactly one shard, in order, whatever the line endings, and
// reading each shard's range gives the records (with their file-wide line numbers) that reading
// the whole file gives.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openInput, type InputOptions, type InputRecord } from "../../../lib/cli/inputs.js";
import { scanShards } from "../../../lib/jobs/shards.js";

const directory = mkdtempSync(join(tmpdir(), "ctxembed-shards-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

async function records(options: InputOptions): Promise<InputRecord[]> {
  const found: InputRecord[] = [];
  for await (const record of (await openInput(options)).records(new AbortController().signal)) found.push(record);
  return found;
}

const cases: [string, string][] = [
  ["a trailing newline", "one\ntwo\nthree\nfour\nfive\n"],
  ["no trailing newline", "one\ntwo\nthree\nfour\nfive"],
  ["CRLF endings and empty lines", "one\r\n\r\nthree\r\nfour\r\n\r\nsix\r\nseven\r\n"],
  ["multi-byte characters", "café\n東京\nnaïve 😀\nplain\n"],
  ["one line", "only"],
];

describe("scanShards", () => {
  it.each(cases)("with %s: shards cover every line once and read back as the whole file does", async (name, text) => {
    const path = join(directory, `${name.replace(/\W+/g, "-")}.txt`);
    writeFileSync(path, text);
    const options: InputOptions = { input: path, field: "text", header: false, skipEmpty: true };
    const whole = await records(options);
    for (const size of [1, 2, 3, 100]) {
      const scanned = await scanShards(path, size);
      expect(scanned.bytes).toBe(Buffer.byteLength(text));
      expect(scanned.lines).toBe(text.split("\n").length - (text.endsWith("\n") ? 1 : 0));
      expect(
        scanned.shards.every(
          (shard, k) => shard.index === k && shard.lines <= size && shard.start === (scanned.shards[k - 1]?.end ?? 0),
        ),
      ).toBe(true);
      expect(scanned.shards.at(-1)!.end).toBe(scanned.bytes);
      const pieces = [];
      for (const shard of scanned.shards) pieces.push(...(await records({ ...options, range: shard })));
      expect(pieces).toEqual(whole);
    }
  });

  it("refuses byte ranges of CSV input", async () => {
    const path = join(directory, "rows.csv");
    writeFileSync(path, "text\na\n");
    await expect(
      openInput({
        input: path,
        field: "text",
        header: true,
        skipEmpty: false,
        range: { start: 0, end: 3, firstLine: 0 },
      }),
    ).rejects.toThrow(/only a text or JSON lines file/);
  });
});
