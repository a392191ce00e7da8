// `ctxembed merge DIR`: the parts of a finished job streamed into one file in input order, each
// part checked against the sha256 the manifest recorded. JSON lines are concatenated; .npy and
// raw parts are read row by row behind their headers into one writer of the same kind (int8
// scales go to the scales file beside the output, as `embed` writes them).
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { Transform, type Writable } from "node:stream";
import { NpyWriter } from "../output/npy.js";
import { RawWriter } from "../output/raw.js";
import { rowBytes, rowTypes, type Row, type RowLayout, type StoredRows } from "../output/rows.js";
import { readManifest, type Manifest } from "./manifest.js";
import { scalesPartName, type CommittedFile } from "./wire.js";

/** A stream that hashes what passes through it and fails at the end when it is not `expected`. */
export function checked(file: CommittedFile, path: string): Transform {
  const hash = createHash("sha256");
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      const found = hash.digest("hex");
      done(
        found === file.sha256
          ? null
          : new Error(
              `${path} does not match the manifest (sha256 ${found}, recorded ${file.sha256}): the part changed after it was committed`,
            ),
      );
    },
  });
}

/** Where `merge` writes: a file (int8 scales in a second file beside it), or a stream (JSON lines only). */
export type MergeOutput = { file: string; scales: string } | { stream: Writable };

async function mergeJsonLines(directory: string, manifest: Manifest, output: MergeOutput): Promise<void> {
  const out = "stream" in output ? output.stream : createWriteStream(output.file);
  for (const part of manifest.parts) {
    const path = join(directory, part.name);
    await pipeline(createReadStream(path), checked(part, path), out, { end: false });
  }
  if (!("stream" in output))
    await new Promise<void>((resolve, reject) =>
      out.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
}

interface RowWriter {
  append(row: Row): Promise<void>;
  close(complete: boolean): Promise<unknown>;
}

/** How the parts' row files are read and the merged one written. */
interface RowFileFormat {
  open(path: string, layout: RowLayout): Promise<RowWriter>;
  stored(path: string): Promise<StoredRows | undefined>;
}

/** Appends a row file's rows (after its header) to `append`, checking the whole file's sha256. */
async function copyRows(
  path: string,
  file: CommittedFile,
  format: RowFileFormat,
  append: (row: Row, layout: RowLayout) => Promise<void>,
): Promise<void> {
  const stored = await format.stored(path);
  if (!stored) throw new Error(`${path} is missing or has no header`);
  const width = rowBytes(stored);
  const dataOffset = (await stat(path)).size - stored.rows * width;
  const hash = createHash("sha256");
  let offset = 0;
  let pending: Buffer = Buffer.alloc(0);
  for await (const block of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(block);
    const data = block.subarray(Math.max(0, dataOffset - offset));
    offset += block.length;
    if (offset <= dataOffset) continue;
    pending = pending.length > 0 ? Buffer.concat([pending, data]) : data;
    let at = 0;
    for (; at + width <= pending.length; at += width) {
      // A copy: a typed-array view needs its element alignment, which a read block does not promise.
      const row = new rowTypes[stored.dtype](stored.width);
      new Uint8Array(row.buffer).set(pending.subarray(at, at + width));
      await append(row, stored);
    }
    pending = pending.subarray(at);
  }
  if (hash.digest("hex") !== file.sha256)
    throw new Error(`${path} does not match the manifest's sha256: the part changed after it was committed`);
}

async function mergeRows(
  directory: string,
  manifest: Manifest,
  output: { file: string; scales: string },
): Promise<void> {
  const metadata = { model: manifest.model.name, options: manifest.options };
  const format: RowFileFormat =
    manifest.output.format === "npy"
      ? { open: (path, layout) => NpyWriter.open(path, layout), stored: (path) => NpyWriter.stored(path) }
      : {
          open: (path, layout) => RawWriter.open(path, { ...layout, metadata }),
          stored: (path) => RawWriter.stored(path),
        };
  const writers = new Map<string, Awaited<ReturnType<RowFileFormat["open"]>>>();
  let complete = false;
  try {
    for (const part of manifest.parts) {
      if (part.name === "") continue;
      const pieces = [{ file: part as CommittedFile, target: output.file }];
      const scales = part.beside?.find((file) => file.name === scalesPartName(part.name));
      if (scales) pieces.push({ file: scales, target: output.scales });
      for (const { file, target } of pieces) {
        await copyRows(join(directory, file.name), file, format, async (row, layout) => {
          let writer = writers.get(target);
          if (!writer) writers.set(target, (writer = await format.open(target, layout)));
          await writer.append(row);
        });
      }
    }
    complete = true;
  } finally {
    for (const writer of writers.values()) await writer.close(complete);
  }
}

/** The manifest of a job whose every shard was committed; `doing` names what needs them all. */
export async function readCompleteManifest(directory: string, doing: string): Promise<Manifest> {
  const manifest = await readManifest(directory);
  if (!manifest.complete) {
    const failed = manifest.failed
      .map(({ index, lines }) => `shard ${index} (lines ${lines[0] + 1}-${lines[1]})`)
      .join(", ");
    throw new Error(
      `${directory} is incomplete: ${failed || "shards are missing"} failed; fix the input and run the submit again before ${doing}`,
    );
  }
  return manifest;
}

/** Merges a finished, complete job's parts. */
export async function mergeParts(directory: string, output: MergeOutput): Promise<Manifest> {
  const manifest = await readCompleteManifest(directory, "merging");
  if (manifest.output.format === "jsonl") await mergeJsonLines(directory, manifest, output);
  else if ("stream" in output) throw new Error(`the parts are ${manifest.output.format} rows: give --output FILE`);
  else await mergeRows(directory, manifest, output);
  return manifest;
}
