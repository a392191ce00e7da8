// A distributed worker's parts in every output format, written by the worker's own part writer
// (lib/cli/commands/worker.ts) on the random-weight tiny model and committed by the job library
// without Redis. Each file a part writer leaves is hashed by it as it writes it, and that hash
// must be the sha256 of the file on disk (sha256sum's answer): the commit records it without
// reading the part back. `merge` checks the same hashes: one tampered byte in an .npy part, an
// int8 scales part or a raw part's sidecar is refused, with no merged file.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writePart } from "../../../lib/cli/commands/worker.js";
import { scalesPath } from "../../../lib/cli/sinks.js";
import { loadModel, type EmbeddingModel } from "../../../lib/embedding/embedding-model.js";
import { sha256File } from "../../../lib/hub/wheel.js";
import { embedShard, libraryEmbedOptions, partHashCovers } from "../../../lib/jobs/commit.js";
import { buildManifest, writeManifest } from "../../../lib/jobs/manifest.js";
import { mergeParts } from "../../../lib/jobs/merge.js";
import { scanShards } from "../../../lib/jobs/shards.js";
import {
  type CommittedPart,
  type EmbedJobSpec,
  partName,
  protocolVersion,
  provenanceName,
  sha256Hex,
  softwareVersions,
} from "../../../lib/jobs/wire.js";
import { tinyModelPath } from "../tiny-model.js";

const root = mkdtempSync(join(tmpdir(), "ctxembed-worker-parts-"));
let model: EmbeddingModel;
let modelFile: string;
let modelSha256: string;
beforeAll(async () => {
  modelFile = await tinyModelPath();
  model = await loadModel(modelFile, { threads: 1 });
  modelSha256 = await sha256File(modelFile);
});
afterAll(async () => {
  await model?.dispose();
  rmSync(root, { recursive: true, force: true });
});

const onDisk = (path: string) => {
  const bytes = readFileSync(path);
  return { bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") };
};

type Output = EmbedJobSpec["output"];

/** 8 lines in shards of 3 (3, 3, 2): with skipEmpty, line 5 is blank, so shard 1 has 2 rows for 3 lines. */
async function runJob(name: string, format: Output["format"], precision: Output["precision"], skipEmpty: boolean) {
  const input = join(root, `${name}.txt`);
  const lines = ["a red fox", "the river bank", "money in the bank", "a quiet night", "", "stars", "cold tea", "x y"];
  writeFileSync(input, `${lines.map((line, i) => (skipEmpty || line !== "" ? line : `line ${i}`)).join("\n")}\n`);
  const scanned = await scanShards(input, 3);
  const directory = join(root, name);
  mkdirSync(directory);
  const spec: EmbedJobSpec = {
    protocol: protocolVersion,
    versions: softwareVersions,
    input: {
      path: input,
      sha256: scanned.sha256,
      bytes: scanned.bytes,
      lines: scanned.lines,
      format: "text",
      field: "text",
      skipEmpty,
    },
    output: { directory, format, precision },
    model: modelFile,
    modelSha256,
    // As a submit gives them: the precision is both the rows' (options) and the files' (output).
    options: { precision },
    shardSize: 3,
    shardCount: scanned.shards.length,
    chunk: 2,
    maxLineBytes: 1000,
    shardTableSha256: sha256Hex("table"),
  };
  const parts: CommittedPart[] = [];
  for (const shard of scanned.shards) {
    // The writer alone, in a folder of its own: every file it leaves must be one it hashed.
    const folder = mkdtempSync(join(root, "writer-"));
    const written = await writePart({
      spec,
      shard,
      model,
      options: libraryEmbedOptions(spec.options, model),
      path: join(folder, partName(spec, shard.index)),
      signal: new AbortController().signal,
    });
    const left = readdirSync(folder).sort();
    expect(Object.keys(written.hashed ?? {}).sort()).toEqual(left);
    for (const file of left) expect(written.hashed![file], file).toEqual(onDisk(join(folder, file)));

    const { part } = await embedShard(spec, "job", shard, { model, sha256: modelSha256 }, writePart);
    for (const file of part.files)
      expect({ bytes: file.bytes, sha256: file.sha256 }).toEqual(onDisk(join(directory, file.name)));
    const record = JSON.parse(readFileSync(join(directory, provenanceName(partName(spec, shard.index))), "utf8"));
    expect(record).toMatchObject({ files: part.files, rows: part.rows, sha256Of: partHashCovers });
    parts.push(part);
  }
  await writeManifest(directory, buildManifest("job", spec, parts, []));
  return { directory, parts };
}

describe("a worker's parts, hashed as they are written", () => {
  it.each([
    ["jsonl", "float32", false],
    ["npy", "float32", false],
    ["npy", "int8", false],
    ["npy", "float16", true],
    ["raw", "float32", false],
    ["raw", "int8", false],
  ] as const)(
    "%s %s (skip-empty %s): every file recorded with the sha256 of its bytes on disk; merge takes them",
    async (format, precision, skipEmpty) => {
      const name = `${format}-${precision}${skipEmpty ? "-skip" : ""}`;
      const { directory, parts } = await runJob(name, format, precision, skipEmpty);
      expect(parts.map((part) => part.rows)).toEqual(skipEmpty ? [3, 2, 2] : [3, 3, 2]);
      const merged = join(root, `${name}-merged.${format}`);
      const manifest = await mergeParts(directory, { file: merged, scales: scalesPath(merged) });
      expect(manifest.rows).toBe(skipEmpty ? 7 : 8);
      if (format === "npy")
        expect(readFileSync(merged).toString("latin1", 10, 120)).toMatch(
          new RegExp(`'shape': \\(${manifest.rows}, 32\\)`),
        );
    },
  );

  it.each([
    ["npy", "float32", "part-00001.npy"],
    ["npy", "int8", "part-00001.scales.npy"],
    ["raw", "float32", "part-00001.raw"],
    ["raw", "float32", "part-00001.raw.json"],
  ] as const)("a tampered %s %s part (%s) is refused by merge, no merged file", async (format, precision, tampered) => {
    const name = `tampered-${tampered}`;
    const { directory } = await runJob(name, format, precision, false);
    const path = join(directory, tampered);
    const before = onDisk(path);
    const bytes = readFileSync(path);
    if (tampered.endsWith(".json"))
      writeFileSync(path, bytes.toString("utf8").replace('"shape": [\n    3,\n    32', '"shape": [\n    6,\n    16'));
    else {
      bytes[bytes.length - 2]! ^= 0x40;
      writeFileSync(path, bytes);
    }
    expect(onDisk(path)).not.toEqual(before);
    const merged = join(root, `${name}-merged.${format}`);
    await expect(mergeParts(directory, { file: merged, scales: scalesPath(merged) })).rejects.toThrow(
      new RegExp(`${tampered.replaceAll(".", "\\.")} does not match the manifest`),
    );
    expect(existsSync(merged)).toBe(false);
  });
});
