// `ctxembed merge DIR`: the parts of a finished job streamed into one file in input order, each
// part checked against the sha256 the manifest recorded. JSON lines are concatenated; .npy and
// raw parts are read row by row behind their headers into one writer of the same kind (int8
// scales go to the scales file beside the output, as `embed` writes them).
//
// All or nothing: the parts must cover the input's lines exactly once before anything is written,
// the output is written under a temporary name and renamed into place only once every part has
// passed its check, and it may be neither the input nor anything in the job's folder.
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createReadStream } from "node:fs";
import { readdir, rename, rm, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { Transform, type Writable } from "node:stream";
import { NpyWriter } from "../output/npy.js";
import { RawWriter, sidecarPath } from "../output/raw.js";
import { openAtomicFile, temporaryPathFor, temporaryPrefix } from "../util/atomic-file.js";
import { checkOutputPath } from "../util/output-path.js";
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
      done(changedPart(path, file, hash.digest("hex")) ?? null);
    },
  });
}

function changedPart(path: string, file: CommittedFile, found: string): Error | undefined {
  if (found === file.sha256) return undefined;
  return new Error(
    `${path} does not match the manifest (sha256 ${found}, recorded ${file.sha256}): the part changed after it was committed`,
  );
}

/** Where `merge` writes: a file (int8 scales in a second file beside it), or a stream (JSON lines only). */
export type MergeOutput = { file: string; scales: string } | { stream: Writable };

/** Reads a part, checking its sha256 at the end; `use` sees every block before the check. */
async function readChecked(path: string, file: CommittedFile, use: (block: Buffer) => Promise<void>): Promise<void> {
  const hash = createHash("sha256");
  for await (const block of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(block);
    await use(block);
  }
  const changed = changedPart(path, file, hash.digest("hex"));
  if (changed) throw changed;
}

/** Every file of every part, checked against its sha256 in the manifest. */
export async function verifyParts(directory: string, manifest: Manifest): Promise<void> {
  checkCoverage(manifest);
  for (const part of manifest.parts)
    for (const file of part.name === "" ? [] : [part, ...(part.beside ?? [])])
      await readChecked(join(directory, file.name), file, async () => undefined);
}

/** The parts hold the input's lines [0, lines) once each, in order, with a row per line unless empty lines were skipped. */
export function checkCoverage(manifest: Manifest): void {
  let next = 0;
  for (const part of manifest.parts) {
    const [first, end] = part.lines;
    if (first !== next)
      throw new Error(
        `the manifest of job ${manifest.job} does not cover the input: part ${part.index} begins at line ${first + 1}, line ${next + 1} was expected`,
      );
    const rowsExpected = end - first;
    if (manifest.input.skipEmpty ? part.rows > rowsExpected : part.rows !== rowsExpected)
      throw new Error(
        `part ${part.index} of job ${manifest.job} has ${part.rows} rows for lines ${first + 1}-${end} (${rowsExpected} lines)`,
      );
    next = end;
  }
  if (next !== manifest.input.lines)
    throw new Error(
      `the manifest of job ${manifest.job} covers lines 1-${next} of the input's ${manifest.input.lines}: the parts are incomplete`,
    );
}

async function write(out: Writable, block: Buffer): Promise<void> {
  if (!out.write(block)) await once(out, "drain");
}

async function mergeJsonLines(directory: string, manifest: Manifest, output: MergeOutput): Promise<void> {
  if ("stream" in output) {
    // Standard output cannot be taken back: every part passes its check before the first byte goes out.
    await verifyParts(directory, manifest);
    for (const part of manifest.parts) {
      if (part.name === "") continue;
      await readChecked(join(directory, part.name), part, (block) => write(output.stream, block));
    }
    return;
  }
  const file = await openAtomicFile(output.file);
  try {
    // Written through the handle itself: a stream over it would hold the handle open past the commit's close.
    for (const part of manifest.parts) {
      if (part.name === "") continue;
      await readChecked(join(directory, part.name), part, async (block) => {
        await file.handle.write(block);
      });
    }
    await file.commit();
  } catch (error) {
    await file.abort();
    throw error;
  }
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
  let offset = 0;
  let pending: Buffer = Buffer.alloc(0);
  await readChecked(path, file, async (block) => {
    const data = block.subarray(Math.max(0, dataOffset - offset));
    offset += block.length;
    if (offset <= dataOffset) return;
    pending = pending.length > 0 ? Buffer.concat([pending, data]) : data;
    let at = 0;
    for (; at + width <= pending.length; at += width) {
      // A copy: a typed-array view needs its element alignment, which a read block does not promise.
      const row = new rowTypes[stored.dtype](stored.width);
      new Uint8Array(row.buffer).set(pending.subarray(at, at + width));
      await append(row, stored);
    }
    pending = pending.subarray(at);
  });
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
  // Each final path is written under a temporary name, renamed into place only once every part has passed.
  const writers = new Map<string, { temporary: string; writer: RowWriter }>();
  let complete = false;
  try {
    for (const part of manifest.parts) {
      if (part.name === "") continue;
      const pieces = [{ file: part as CommittedFile, target: output.file }];
      const scales = part.beside?.find((file) => file.name === scalesPartName(part.name));
      if (scales) pieces.push({ file: scales, target: output.scales });
      // A raw part's sidecars say how its bytes divide into rows: checked before they are read.
      for (const file of part.beside ?? [])
        if (file !== scales) await readChecked(join(directory, file.name), file, async () => undefined);
      for (const { file, target } of pieces) {
        await copyRows(join(directory, file.name), file, format, async (row, layout) => {
          let opened = writers.get(target);
          if (!opened) {
            const temporary = temporaryPathFor(target);
            opened = { temporary, writer: await format.open(temporary, layout) };
            writers.set(target, opened);
          }
          await opened.writer.append(row);
        });
      }
    }
    complete = true;
  } finally {
    for (const { writer } of writers.values()) await writer.close(complete);
    const sidecars = manifest.output.format === "raw";
    for (const [target, { temporary }] of writers) {
      const moves = sidecars
        ? [
            [temporary, target],
            [sidecarPath(temporary), sidecarPath(target)],
          ]
        : [[temporary, target]];
      for (const [from, to] of moves) await (complete ? rename(from!, to!) : unlink(from!).catch(() => undefined));
    }
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

/** Merges a finished, complete job's parts, refusing an output that is the job's input or lies in its folder. */
export async function mergeParts(directory: string, output: MergeOutput): Promise<Manifest> {
  const manifest = await readCompleteManifest(directory, "merging");
  checkCoverage(manifest);
  if (!("stream" in output)) {
    const rules = {
      files: [{ path: manifest.input.path, role: "the job's input" }],
      folders: [{ path: directory, role: "the job's folder" }],
    };
    await checkOutputPath(output.file, rules);
    if (manifest.output.precision === "int8") await checkOutputPath(output.scales, rules);
  }
  if (manifest.output.format === "jsonl") await mergeJsonLines(directory, manifest, output);
  else if ("stream" in output) throw new Error(`the parts are ${manifest.output.format} rows: give --output FILE`);
  else await mergeRows(directory, manifest, output);
  await removeLeftovers(directory);
  return manifest;
}

/**
 * A finished job's folder has no writer left: any temporary folder in it is what a killed worker
 * left behind, and goes. (While the job runs they are not touched: one may be a live worker's.)
 */
async function removeLeftovers(directory: string): Promise<void> {
  for (const name of await readdir(directory))
    if (name.startsWith(temporaryPrefix)) await rm(join(directory, name), { recursive: true, force: true });
}
