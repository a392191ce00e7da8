// Where `embed` and `tokens` write their vectors: JSON lines (any precision), or row files for a
// whole corpus (.npy, or raw little-endian rows with a JSON sidecar). Every sink can continue
// the output of an interrupted run: it counts the results already there, cuts a result the
// interruption left half-written, and appends.
import { createReadStream, createWriteStream } from "node:fs";
import { once } from "node:events";
import { truncate } from "node:fs/promises";
import { parseJsonLine } from "../util/json-lines.js";
import type { Writable } from "node:stream";
import { finished } from "node:stream/promises";
import type { Embedding } from "../embedding/embedding-model.js";
import { NpyWriter } from "../output/npy.js";
import { quantizedToJson, type Precision, type QuantizedVector } from "../output/quantize-vectors.js";
import { RawWriter, type RawMetadata } from "../output/raw.js";
import {
  WrittenHash,
  type Row,
  type RowDtype,
  type RowLayout,
  type StoredRows,
  type WrittenFile,
} from "../output/rows.js";
import type { InputRecord } from "./inputs.js";

export interface VectorSink {
  /** the output file, for messages; undefined for standard output */
  readonly output: string | undefined;
  /** Readies the output a run left for appending; resolves to the number of inputs it holds. */
  resume(): Promise<number>;
  /** results of one chunk, in input order, with their records */
  write(results: Embedding[], records: InputRecord[]): Promise<void>;
  /** `complete`: every input has been written; otherwise headers and sidecars say the output is partial */
  close(complete: boolean): Promise<void>;
}

export type RenderRecord = (result: Embedding) => string;

/**
 * An output written whole in one run (a distributed part): the sink hashes each file's bytes as
 * it writes them and tells `hashed` their size and sha256 when it closes complete, so that nothing
 * reads the files back to hash them.
 */
export interface HashedOutput {
  /** rows the output will hold, known before writing: a .npy header is then written once, final */
  rows?: number;
  hashed(file: WrittenFile): void;
}

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, "drain");
}

/**
 * Cuts a JSON lines file after its last newline (a line a crash left unfinished) and returns the
 * number of complete lines; 0 when there is no file. Every complete line must be a result this
 * CLI wrote (a JSON object with an "index"): a file with anything else is refused, not counted.
 */
async function completeLines(path: string): Promise<number> {
  let lines = 0;
  let end = 0;
  let offset = 0;
  let pending: Buffer[] = [];
  const check = (line: Buffer): void => {
    let record: unknown;
    try {
      record = parseJsonLine(line.toString("utf8"), `line ${lines + 1}`);
    } catch {
      record = undefined;
    }
    if (typeof record !== "object" || record === null || !Number.isInteger((record as { index?: unknown }).index)) {
      throw new Error(
        `cannot resume ${path}: line ${lines + 1} is not a result ctxembed wrote (a JSON object with an "index"); the file is damaged or is not this command's output`,
      );
    }
  };
  try {
    for await (const block of createReadStream(path) as AsyncIterable<Buffer>) {
      let start = 0;
      for (let at = block.indexOf(10); at >= 0; at = block.indexOf(10, at + 1)) {
        check(Buffer.concat([...pending, block.subarray(start, at)]));
        pending = [];
        start = at + 1;
        lines++;
        end = offset + at + 1;
      }
      if (start < block.length) pending.push(block.subarray(start));
      offset += block.length;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw error;
  }
  if (end < offset) await truncate(path, end);
  return lines;
}

/** One JSON object per input: {"index", "id"?, …render(result), "truncated"?}. */
export function jsonLinesSink(output: string | undefined, render: RenderRecord, hashing?: HashedOutput): VectorSink {
  let out: Writable | undefined;
  let append = false;
  let failure: Error | undefined;
  const written = hashing && output ? new WrittenHash() : undefined;
  const opened = (): Writable => {
    if (!out) {
      out = output ? createWriteStream(output, { flags: append ? "a" : "w" }) : process.stdout;
      // A full disk, a missing folder or a closed pipe (`| head`) fails the job instead of crashing it.
      out.on("error", (error) => (failure ??= output ? new Error(`cannot write ${output}: ${error.message}`) : error));
    }
    if (failure) throw failure;
    return out;
  };
  return {
    output,
    async resume() {
      if (!output) throw new Error("only an output file can be resumed, not standard output");
      append = true;
      return completeLines(output);
    },
    async write(results, records) {
      let text = "";
      results.forEach((result, k) => {
        const { index, id } = records[k]!;
        text += `{"index":${index},${id === undefined ? "" : `"id":${JSON.stringify(id)},`}${render(result)}${result.truncated ? ',"truncated":true' : ""}}\n`;
      });
      const out = opened();
      written?.update(text);
      await write(out, text);
    },
    async close(complete) {
      const stream = opened();
      if (stream === process.stdout) return;
      stream.end();
      await finished(stream);
      // A continued file's first part was written by another run: only a whole file is reported.
      if (complete && written && output && !append) hashing!.hashed(written.digest(output));
    },
  };
}

export function embeddingField(result: Embedding): string {
  return `"embedding":${quantizedToJson(result.quantized ?? { precision: "float32", values: result.embedding })}`;
}

interface RowWriter {
  append(row: Row): Promise<void>;
  close(complete: boolean): Promise<{ rows: number; written?: WrittenFile[] }>;
}

/** How one kind of row file is created, measured and continued. */
export interface RowFileFormat {
  /** `rows`: the count the file will hold, when known before writing */
  open(path: string, layout: RowLayout, rows?: number): Promise<RowWriter>;
  stored(path: string): Promise<StoredRows | undefined>;
  resume(path: string, rows: number): Promise<RowWriter>;
}

export const npyFormat: RowFileFormat = {
  open: (path, layout, rows) => NpyWriter.open(path, layout, rows),
  stored: (path) => NpyWriter.stored(path),
  resume: (path, rows) => NpyWriter.resume(path, rows),
};

/** Raw rows whose sidecars record `metadata`; a file written with other metadata is not continued. */
export function rawFormat(metadata: RawMetadata): RowFileFormat {
  return {
    open: (path, layout) => RawWriter.open(path, { ...layout, metadata }),
    stored: (path) => RawWriter.stored(path),
    resume: (path, rows) => RawWriter.resume(path, rows, metadata),
  };
}

const rowDtypes: Record<Precision, RowDtype> = { float32: "<f4", float16: "<f2", int8: "|i1", binary: "|u1" };

function storedRow(quantized: QuantizedVector): Row {
  return quantized.precision === "float32" || quantized.precision === "int8" ? quantized.values : quantized.bits;
}

/** vectors.npy → vectors.scales.npy, vectors.bin → vectors.scales.bin */
export function scalesPath(output: string): string {
  return output.replace(/(\.[^./\\]*)?$/, ".scales$1");
}

/**
 * One row per input in input order; int8 scales go to a second file of the same format beside
 * it (scalesPath). The files are opened on the first chunk, when the width is known.
 */
export function rowFileSink(
  output: string,
  precision: Precision,
  format: RowFileFormat,
  hashing?: HashedOutput,
): VectorSink {
  let vectors: RowWriter | undefined;
  let scales: RowWriter | undefined;
  const dtype = rowDtypes[precision];
  return {
    output,
    async resume() {
      const stored = await format.stored(output);
      if (!stored) return 0;
      if (stored.dtype !== dtype)
        throw new Error(
          `cannot continue ${output}: it holds ${stored.dtype} rows, and --precision ${precision} writes ${dtype}`,
        );
      const storedScales = precision === "int8" ? await format.stored(scalesPath(output)) : undefined;
      // A crash between a row and its scale leaves one more row than scales: both go back to the shorter.
      const rows = precision === "int8" ? Math.min(stored.rows, storedScales?.rows ?? 0) : stored.rows;
      vectors = await format.resume(output, rows);
      if (storedScales) scales = await format.resume(scalesPath(output), rows);
      return rows;
    },
    async write(results) {
      for (const result of results) {
        const quantized = result.quantized ?? { precision: "float32" as const, values: result.embedding };
        const row = storedRow(quantized);
        vectors ??= await format.open(output, { dtype, width: row.length }, hashing?.rows);
        await vectors.append(row);
        if (quantized.precision === "int8") {
          scales ??= await format.open(scalesPath(output), { dtype: "<f4", width: 1 }, hashing?.rows);
          await scales.append(Float32Array.of(quantized.scale));
        }
      }
    },
    async close(complete) {
      for (const writer of [vectors, scales]) {
        const closed = await writer?.close(complete);
        if (hashing) for (const file of closed?.written ?? []) hashing.hashed(file);
      }
    },
  };
}

export const outputFormats = ["jsonl", "npy", "raw"] as const;
export type OutputFormat = (typeof outputFormats)[number];

/** The sink `embed --format` names; `metadata` goes into a raw file's sidecar. */
export function embeddingSink(
  format: OutputFormat,
  output: string | undefined,
  precision: Precision,
  metadata: RawMetadata,
  hashing?: HashedOutput,
): VectorSink {
  if (format === "jsonl") return jsonLinesSink(output, embeddingField, hashing);
  if (!output) throw new Error(`--format ${format} needs an output file`);
  return rowFileSink(output, precision, format === "npy" ? npyFormat : rawFormat(metadata), hashing);
}
