// `ctxembed merge DIR`: the parts of a finished job streamed into one file in input order, each
// part checked against the sha256 the manifest recorded. JSON lines are concatenated; .npy and
// raw parts are read row by row behind their headers into one writer of the same kind (int8
// scales go to the scales file beside the output, as `embed` writes them).
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { Transform } from "node:stream";
import { npyFormat, rawFormat, scalesPath, type RowFileFormat } from "../sinks.js";
import { rowBytes, rowTypes, type Row, type RowLayout } from "../../output/rows.js";
import { readManifest, type Manifest } from "./manifest.js";
import type { CommittedFile } from "./spec.js";

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

async function mergeJsonLines(directory: string, manifest: Manifest, output: string | undefined): Promise<void> {
  const out = output ? createWriteStream(output) : process.stdout;
  for (const part of manifest.parts) {
    const path = join(directory, part.name);
    await pipeline(createReadStream(path), checked(part, path), out, { end: false });
  }
  if (out !== process.stdout)
    await new Promise<void>((resolve, reject) =>
      out.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
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

async function mergeRows(directory: string, manifest: Manifest, output: string): Promise<void> {
  const rawMetadata = { model: manifest.model.name, options: manifest.options };
  const format = manifest.output.format === "npy" ? npyFormat : rawFormat(rawMetadata);
  const writers = new Map<string, Awaited<ReturnType<RowFileFormat["open"]>>>();
  let complete = false;
  try {
    for (const part of manifest.parts) {
      if (part.name === "") continue;
      const pieces = [{ file: part as CommittedFile, target: output }];
      const scales = part.beside?.find((file) => file.name === scalesPath(part.name));
      if (scales) pieces.push({ file: scales, target: scalesPath(output) });
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

/** Merges a finished, complete job's parts; `output` undefined writes JSON lines to standard output. */
export async function mergeParts(directory: string, output: string | undefined): Promise<Manifest> {
  const manifest = await readCompleteManifest(directory, "merging");
  if (manifest.output.format === "jsonl") await mergeJsonLines(directory, manifest, output);
  else if (!output) throw new Error(`the parts are ${manifest.output.format} rows: give --output FILE`);
  else await mergeRows(directory, manifest, output);
  return manifest;
}
