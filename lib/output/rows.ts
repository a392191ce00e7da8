// Fixed-width rows of one dtype streamed onto the end of a file, the part the .npy and raw
// writers share: dtype checks, copying, backpressure, appending to a file a crashed run left, and
// the sha256 of a file it created, taken from the bytes as they go out (a distributed part is
// committed with it, never read back).
import { createHash, type Hash } from "node:crypto";
import { once } from "node:events";
import { createWriteStream, type WriteStream } from "node:fs";
import { stat, truncate } from "node:fs/promises";
import { endianness } from "node:os";
import { finished } from "node:stream/promises";

/** What each dtype's rows must be given as (NumPy's names); "<f2" takes float16 bit patterns. */
export const rowTypes = {
  "<f4": Float32Array,
  "<f2": Uint16Array,
  "|i1": Int8Array,
  "|u1": Uint8Array,
} as const;

export type RowDtype = keyof typeof rowTypes;
export type Row = Float32Array | Uint16Array | Int8Array | Uint8Array;

export interface RowLayout {
  dtype: RowDtype;
  /** values in every row; a width of 1 makes an (N, 1) column, such as int8's per-row scales */
  width: number;
}

/** Rows already in a file, as found when resuming. */
export interface StoredRows extends RowLayout {
  /** whole rows in the data, whatever a header or sidecar says */
  rows: number;
}

/** Checks a layout before any file is touched; `kind` names the file type in the message. */
export function requireRowLayout({ dtype, width }: RowLayout, kind: string): void {
  if (!Object.hasOwn(rowTypes, dtype)) {
    throw new TypeError(
      `unsupported ${kind} dtype ${JSON.stringify(dtype)} (expected one of ${Object.keys(rowTypes).join(", ")})`,
    );
  }
  if (!Number.isInteger(width) || width < 1)
    throw new RangeError(`a ${kind} row width must be a positive integer, not ${width}`);
  // Rows are copied byte for byte, so the host's order must be the little-endian one files promise.
  if (endianness() !== "LE")
    throw new Error(`${kind} files are written little-endian, which needs a little-endian host`);
}

export function rowBytes({ dtype, width }: RowLayout): number {
  return rowTypes[dtype].BYTES_PER_ELEMENT * width;
}

/** Whole rows after a file's first `dataOffset` bytes; a row cut short by a crash does not count. */
export async function wholeRows(path: string, dataOffset: number, layout: RowLayout): Promise<number> {
  const { size } = await stat(path);
  return Math.max(0, Math.floor((size - dataOffset) / rowBytes(layout)));
}

/** A file's size and sha256, taken from its bytes as they were written: never read back. */
export interface WrittenFile {
  path: string;
  bytes: number;
  sha256: string;
}

/** Hashes bytes on their way to a file, so that the file need not be read again to hash it. */
export class WrittenHash {
  private readonly hash: Hash = createHash("sha256");
  private bytes = 0;

  update(data: Uint8Array | string): void {
    this.hash.update(data);
    this.bytes += typeof data === "string" ? Buffer.byteLength(data) : data.byteLength;
  }

  digest(path: string): WrittenFile {
    return { path, bytes: this.bytes, sha256: this.hash.digest("hex") };
  }
}

export class RowAppender {
  private closed = false;
  private failure: Error | undefined;

  private constructor(
    readonly path: string,
    readonly layout: RowLayout,
    private readonly stream: WriteStream,
    private count: number,
    /** every byte of a file this appender created; none for a file it continues (its start was written before) */
    private readonly written?: WrittenHash,
  ) {
    // Kept for the next append or close to report, rather than crashing the process.
    stream.on("error", (error) => {
      this.failure ??= new Error(`cannot write ${path}: ${error.message}`);
    });
  }

  /** Creates (or truncates) `path` and writes `prefix` (a header) before the rows. */
  static async create(path: string, layout: RowLayout, prefix?: Uint8Array): Promise<RowAppender> {
    const appender = new RowAppender(path, layout, createWriteStream(path), 0, new WrittenHash());
    await appender.opened();
    if (prefix) appender.put(prefix);
    return appender;
  }

  /** Continues a file after its first `rows` rows, cutting whatever follows them (a partial row). */
  static async resume(path: string, layout: RowLayout, dataOffset: number, rows: number): Promise<RowAppender> {
    await truncate(path, dataOffset + rows * rowBytes(layout));
    const appender = new RowAppender(path, layout, createWriteStream(path, { flags: "a" }), rows);
    await appender.opened();
    return appender;
  }

  /** Waits for the file to open; a failure (no such folder, no permission) names the file. */
  private async opened(): Promise<void> {
    await Promise.race([once(this.stream, "ready"), once(this.stream, "error")]);
    if (this.failure) throw this.failure;
  }

  get rows(): number {
    return this.count;
  }

  /** Appends one row. Await it: it waits while the file falls behind, so rows do not pile up in memory. */
  async append(row: Row): Promise<void> {
    if (this.closed) throw new Error(`cannot append to ${this.path}: it is closed`);
    if (this.failure) throw this.failure;
    const { dtype, width } = this.layout;
    const rowType = rowTypes[dtype];
    if (!(row instanceof rowType)) {
      throw new TypeError(
        `row ${this.count} of ${this.path} is a ${row.constructor.name}; ${dtype} rows are ${rowType.name}s`,
      );
    }
    if (row.length !== width)
      throw new RangeError(`row ${this.count} of ${this.path} has ${row.length} values; its rows have ${width}`);
    this.count++;
    // The stream holds on to what it is given until written, so it gets a copy the caller may reuse.
    if (!this.put(Buffer.copyBytesFrom(row))) await once(this.stream, "drain");
  }

  private put(bytes: Uint8Array): boolean {
    this.written?.update(bytes);
    return this.stream.write(bytes);
  }

  /**
   * The size and sha256 of what a created file holds once ended, from the bytes as they were
   * written; undefined for a continued file. Only true while nothing else writes to the file
   * (an .npy header rewritten in place makes it untrue).
   */
  writtenFile(): WrittenFile | undefined {
    if (!this.closed) throw new Error(`${this.path} is still open: its hash is not final`);
    return this.written?.digest(this.path);
  }

  /** Flushes and closes the file; resolves to the number of rows in it. */
  async end(): Promise<number> {
    if (this.closed) throw new Error(`${this.path} is already closed`);
    this.closed = true;
    this.stream.end();
    await finished(this.stream).catch(() => undefined);
    if (this.failure) throw this.failure;
    return this.count;
  }
}
