// Shards by byte range: every line in exactly one shard, in order, whatever the line endings, and
// reading each shard's range gives the records (with their file-wide line numbers) that reading
// the whole file gives.
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openInput, type InputOptions, type InputRecord } from "../../../lib/cli/inputs.js";
import { encodeShardTable, readRangeIdentity, scanShards, shardFromTable } from "../../../lib/jobs/shards.js";

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
      for (const shard of scanned.shards) {
        const bytes = Buffer.from(text).subarray(shard.start, shard.end);
        expect(shard.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
        expect(await readRangeIdentity(path, shard.start, shard.end)).toMatchObject({
          sha256: shard.sha256,
          bytes: bytes.length,
        });
      }
      const pieces = [];
      for (const shard of scanned.shards) pieces.push(...(await records({ ...options, range: shard })));
      expect(pieces).toEqual(whole);
    }
  });

  it("each shard's hash is that of its bytes, even where a shard ends inside a read block", async () => {
    const path = join(directory, "blocks.txt");
    // 200,000 lines of 6 bytes: shard boundaries fall inside the stream's 64 KiB blocks.
    writeFileSync(path, Array.from({ length: 200_000 }, (_, k) => `${String(k % 99999).padStart(5, "0")}\n`).join(""));
    const whole = readFileSync(path);
    const scanned = await scanShards(path, 7777);
    for (const shard of scanned.shards)
      expect(shard.sha256).toBe(createHash("sha256").update(whole.subarray(shard.start, shard.end)).digest("hex"));
  });

  it("refuses a line over the limit, naming it; the worker's range read measures the longest line", async () => {
    const path = join(directory, "long.txt");
    writeFileSync(path, `short\n${"x".repeat(100)}\nshort\n`);
    await expect(scanShards(path, 10, { maxLineBytes: 50 })).rejects.toThrow(
      /line 2 is 101 bytes, over the limit of 50 \(--max-line-bytes\)/,
    );
    expect((await readRangeIdentity(path, 0, 114)).longestLine).toBe(101);
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

describe("the shard table", () => {
  it("gives back every shard the scan found, 38 bytes a shard", async () => {
    const path = join(directory, "table.txt");
    writeFileSync(path, Array.from({ length: 1003 }, (_, k) => `line ${k}`).join("\n"));
    const scanned = await scanShards(path, 10);
    const table = encodeShardTable(scanned.shards);
    expect(table.length).toBe(scanned.shards.length * 38);
    const job = {
      input: { bytes: scanned.bytes, lines: scanned.lines },
      shardSize: 10,
      shardCount: scanned.shards.length,
    };
    expect(scanned.shards.map((shard) => shardFromTable(table, job, shard.index))).toEqual(scanned.shards);
  });

  it.each([
    ["a table of another length", (table: Buffer) => table.subarray(38), /holds 76 bytes, not the 114 of 3 shards/],
    [
      "a range that runs backwards",
      (table: Buffer) => {
        table.writeUIntBE(5, 38, 6);
        return table;
      },
      /shard 1 of the shard table \(bytes 40-5, lines from 11\) does not lie inside/,
    ],
    [
      "a range past the input",
      (table: Buffer) => {
        table.writeUIntBE(9999, 38, 6);
        return table;
      },
      /bytes 40-9999.* does not lie inside the input's 120 bytes/,
    ],
  ])("refuses %s", (_, tamper, message) => {
    const shards = [40, 80, 120].map((end) => ({ end, sha256: "ab".repeat(32) }));
    const job = { input: { bytes: 120, lines: 30 }, shardSize: 10, shardCount: 3 };
    expect(() => shardFromTable(tamper(encodeShardTable(shards)), job, 1)).toThrow(message);
  });
});
