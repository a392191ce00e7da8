// The commit of a part without Redis or a model: a part's sha256 is the one its writer took from
// the bytes as it wrote them (one pass: the committed file is never read back to hash it), files
// its writer did not hash are hashed from the disk, and a run folder another run left is removed
// by the run that takes the shard while its own stays until its commit.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { embedShard, partRunsFolder, type PartWriter } from "../../../lib/jobs/commit.js";
import type { EmbeddingModel } from "../../../lib/embedding/embedding-model.js";
import { type EmbedJobSpec, protocolVersion, softwareVersions } from "../../../lib/jobs/wire.js";

const root = mkdtempSync(join(tmpdir(), "ctxembed-commit-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const hex = (text: string): string => createHash("sha256").update(text).digest("hex");

function job(name: string): EmbedJobSpec {
  const directory = join(root, name);
  mkdirSync(directory);
  return {
    protocol: protocolVersion,
    versions: softwareVersions,
    input: {
      path: "/data/in.txt",
      sha256: hex("in"),
      bytes: 12,
      lines: 2,
      format: "text",
      field: "text",
      skipEmpty: false,
    },
    output: { directory, format: "jsonl", precision: "float32" },
    model: "all-minilm-l6-v2",
    modelSha256: hex("model"),
    options: {},
    shardSize: 2,
    shardCount: 1,
    chunk: 8,
    maxLineBytes: 100,
    shardTableSha256: hex("table"),
  };
}

const shard = { index: 0, start: 0, end: 12, firstLine: 0, lines: 2, sha256: hex("in") };
const model = { model: { info: { name: "all-minilm-l6-v2" } } as EmbeddingModel, sha256: hex("model") };
const rows = '{"index":0,"embedding":[1]}\n{"index":1,"embedding":[2]}\n';

describe("committing a part", () => {
  it("records the sha256 its writer took while writing, without reading the part back", async () => {
    const spec = job("hashed");
    // The writer reports the hash of what it wrote; the file on disk is changed behind its back,
    // so a hash read back from the disk would differ from the one recorded.
    const writer: PartWriter = async ({ path }) => {
      await writeFile(path, rows);
      writeFileSync(path, rows.toUpperCase());
      return { rows: 2, hashed: { "part-00000.jsonl": { bytes: Buffer.byteLength(rows), sha256: hex(rows) } } };
    };
    const { part } = await embedShard(spec, "e1", shard, model, writer);
    expect(part.files).toEqual([{ name: "part-00000.jsonl", bytes: Buffer.byteLength(rows), sha256: hex(rows) }]);
  });

  it("hashes from the disk a part whose writer did not hash it, and refuses a hashed size that is not the file's", async () => {
    const unhashed = job("unhashed");
    const { part } = await embedShard(unhashed, "e1", shard, model, async ({ path }) => {
      await writeFile(path, rows);
      return { rows: 2 };
    });
    expect(part.files[0]!.sha256).toBe(hex(rows));
    const short = job("short");
    await expect(
      embedShard(short, "e1", shard, model, async ({ path }) => {
        await writeFile(path, rows);
        return { rows: 2, hashed: { "part-00000.jsonl": { bytes: 5, sha256: hex("short") } } };
      }),
    ).rejects.toThrow(/part-00000\.jsonl holds \d+ bytes, but its writer hashed 5/);
    expect(existsSync(join(short.output.directory, "part-00000.jsonl"))).toBe(false);
  });

  it("removes the run folders an earlier run of the shard left, keeps its own until it commits", async () => {
    const spec = job("runs");
    const runs = partRunsFolder(spec.output.directory, "part-00000.jsonl");
    mkdirSync(join(runs, "4242-0123456789ab"), { recursive: true });
    writeFileSync(join(runs, "4242-0123456789ab", "part-00000.jsonl"), "half");
    let during: string[] = [];
    const outcome = await embedShard(spec, "e1", shard, model, async ({ path }) => {
      during = readdirSync(runs);
      await writeFile(path, rows);
      return { rows: 2 };
    });
    expect(outcome.removedRuns).toBe(1);
    expect(during).toEqual([expect.stringMatching(new RegExp(`^${process.pid}-[0-9a-f]{12}$`))]);
    expect(existsSync(runs)).toBe(false);
    expect(readFileSync(join(spec.output.directory, "part-00000.jsonl"), "utf8")).toBe(rows);
  });
});
