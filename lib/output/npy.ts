// Streams same-width vectors into a NumPy .npy file (format version 1.0) without holding them in
// memory. The row count is known only at the end, so the header is first written with 0 rows,
// padded to the length the largest possible count would need, and rewritten in place on close.
// A file left unclosed (the process died) thus still loads, as an empty array.
import { once } from "node:events";
import { createWriteStream, type WriteStream } from "node:fs";
import { open } from "node:fs/promises";
import { endianness } from "node:os";
import { finished } from "node:stream/promises";

/** What each dtype's rows must be given as; "<f2" takes float16 bit patterns. */
const rowTypes = {
  "<f4": Float32Array,
  "<f2": Uint16Array,
  "|i1": Int8Array,
  "|u1": Uint8Array,
} as const;

export type NpyDtype = keyof typeof rowTypes;
export type NpyRow = Float32Array | Uint16Array | Int8Array | Uint8Array;

export interface NpyWriterOptions {
  dtype: NpyDtype;
  /** values in every row; a width of 1 makes an (N, 1) column, such as int8's per-row scales */
  width: number;
}

const MAGIC = Buffer.from("\x93NUMPY", "latin1");
const FORMAT_VERSION = [1, 0] as const;
/** magic, two version bytes and the little-endian uint16 header length */
const PREAMBLE_BYTES = MAGIC.length + 2 + 2;
/** numpy aligns the data to 64 bytes, padding the header with spaces before its final newline */
const HEADER_ALIGNMENT = 64;

export class NpyWriter {
  private rows = 0;
  private closed = false;
  private failure: Error | undefined;

  private constructor(
    readonly path: string,
    readonly dtype: NpyDtype,
    readonly width: number,
    private readonly stream: WriteStream,
  ) {
    // Kept for the next append or close to report, rather than crashing the process.
    stream.on("error", (error) => {
      this.failure ??= error;
    });
  }

  /** Creates (or truncates) `path` and writes the header. */
  static async open(path: string, { dtype, width }: NpyWriterOptions): Promise<NpyWriter> {
    if (!Object.hasOwn(rowTypes, dtype)) {
      throw new TypeError(`unsupported .npy dtype ${JSON.stringify(dtype)} (expected one of ${Object.keys(rowTypes).join(", ")})`);
    }
    if (!Number.isInteger(width) || width < 1) throw new RangeError(`a .npy row width must be a positive integer, not ${width}`);
    // Rows are copied byte for byte, so the host's order must be the "<" the header promises.
    if (endianness() !== "LE") throw new Error("NpyWriter writes little-endian files and needs a little-endian host");
    const writer = new NpyWriter(path, dtype, width, createWriteStream(path));
    await once(writer.stream, "ready");
    writer.stream.write(encodeHeader(dtype, width, 0));
    return writer;
  }

  /** Appends one row. Await it: it waits while the file falls behind, so rows do not pile up in memory. */
  async append(row: NpyRow): Promise<void> {
    if (this.closed) throw new Error(`cannot append to ${this.path}: it is closed`);
    if (this.failure) throw this.failure;
    const rowType = rowTypes[this.dtype];
    if (!(row instanceof rowType)) {
      throw new TypeError(`row ${this.rows} of ${this.path} is a ${row.constructor.name}; ${this.dtype} rows are ${rowType.name}s`);
    }
    if (row.length !== this.width) {
      throw new RangeError(`row ${this.rows} of ${this.path} has ${row.length} values; its rows have ${this.width}`);
    }
    this.rows++;
    // The stream holds on to what it is given until written, so it gets a copy the caller may reuse.
    if (!this.stream.write(Buffer.copyBytesFrom(row))) await once(this.stream, "drain");
  }

  /** Finishes the data and writes the final row count into the header. */
  async close(): Promise<{ rows: number }> {
    if (this.closed) throw new Error(`${this.path} is already closed`);
    this.closed = true;
    this.stream.end();
    await finished(this.stream);
    const file = await open(this.path, "r+");
    try {
      const header = encodeHeader(this.dtype, this.width, this.rows);
      await file.write(header, 0, header.length, 0);
    } finally {
      await file.close();
    }
    return { rows: this.rows };
  }
}

/** The whole header, the same length for any row count so that rewriting it never moves the data. */
function encodeHeader(dtype: NpyDtype, width: number, rows: number): Buffer {
  const length = alignedHeaderLength(headerDictionary(dtype, width, Number.MAX_SAFE_INTEGER));
  const dictionary = headerDictionary(dtype, width, rows);
  const text = `${dictionary.padEnd(length - PREAMBLE_BYTES - 1)}\n`;
  const header = Buffer.alloc(length);
  MAGIC.copy(header);
  header.set(FORMAT_VERSION, MAGIC.length);
  header.writeUInt16LE(text.length, MAGIC.length + 2);
  header.write(text, PREAMBLE_BYTES, "latin1");
  return header;
}

function headerDictionary(dtype: NpyDtype, width: number, rows: number): string {
  return `{'descr': '${dtype}', 'fortran_order': False, 'shape': (${rows}, ${width}), }`;
}

function alignedHeaderLength(dictionary: string): number {
  const unaligned = PREAMBLE_BYTES + dictionary.length + 1;
  return Math.ceil(unaligned / HEADER_ALIGNMENT) * HEADER_ALIGNMENT;
}
