// Streams same-width vectors into a NumPy .npy file (format version 1.0) without holding them in
// memory. The row count is known only at the end, so the header is first written with 0 rows,
// padded to the length the largest possible count would need, and rewritten in place on close.
// A file left unclosed (the process died) or closed as incomplete thus still loads, as an empty
// array, and `resume` continues it from the rows its size shows.
//
// A writer told its row count at open (a distributed shard's, pinned at submit) writes the final
// header first and never rewrites it: the file's bytes are then final as they go, so their sha256
// is taken while they are written and the file is never read back to hash it.
import { open } from "node:fs/promises";
import {
  RowAppender,
  type WrittenFile,
  requireRowLayout,
  rowTypes,
  wholeRows,
  type Row,
  type RowDtype,
  type RowLayout,
  type StoredRows,
} from "./rows.js";

export type NpyDtype = RowDtype;
export type NpyRow = Row;
export type NpyWriterOptions = RowLayout;

const MAGIC = Buffer.from("\x93NUMPY", "latin1");
const FORMAT_VERSION = [1, 0] as const;
/** magic, two version bytes and the little-endian uint16 header length */
const PREAMBLE_BYTES = MAGIC.length + 2 + 2;
/** numpy aligns the data to 64 bytes, padding the header with spaces before its final newline */
const HEADER_ALIGNMENT = 64;

export class NpyWriter {
  private constructor(
    private readonly rows: RowAppender,
    /** the row count its header was written with at open, when it was given */
    private readonly declaredRows?: number,
  ) {}

  get path(): string {
    return this.rows.path;
  }

  get dtype(): NpyDtype {
    return this.rows.layout.dtype;
  }

  get width(): number {
    return this.rows.layout.width;
  }

  /**
   * Creates (or truncates) `path` and writes the header: with `rows` when the count is known
   * before writing (the header is then final, and `close` reports the file's sha256), else with 0.
   */
  static async open(path: string, layout: NpyWriterOptions, rows?: number): Promise<NpyWriter> {
    requireRowLayout(layout, ".npy");
    if (rows !== undefined && (!Number.isInteger(rows) || rows < 0))
      throw new RangeError(`a .npy row count must be a non-negative integer, not ${rows}`);
    return new NpyWriter(await RowAppender.create(path, layout, encodeHeader(layout, rows ?? 0)), rows);
  }

  /** The layout and whole rows of a .npy file this class wrote, finished or not; undefined when there is no file. */
  static async stored(path: string): Promise<StoredRows | undefined> {
    const header = await readHeader(path);
    if (!header) return undefined;
    return { ...header.layout, rows: await wholeRows(path, header.dataOffset, header.layout) };
  }

  /** Continues a .npy file after its first `rows` rows (at most what `stored` found), dropping the rest. */
  static async resume(path: string, rows: number): Promise<NpyWriter> {
    const header = await readHeader(path);
    if (!header) throw new Error(`cannot resume ${path}: there is no such file`);
    return new NpyWriter(await RowAppender.resume(path, header.layout, header.dataOffset, rows));
  }

  /** Appends one row. Await it: it waits while the file falls behind, so rows do not pile up in memory. */
  append(row: NpyRow): Promise<void> {
    return this.rows.append(row);
  }

  /**
   * Finishes the data and writes the final row count into the header. A file closed as not
   * `complete` (its run failed or was interrupted) keeps a header of 0 rows, so that no reader
   * takes it for the whole array; its rows stay after the header for `resume` to continue.
   * A file whose header was written with its row count at open is complete with that many rows
   * only, and is not rewritten: `written` is its size and sha256, taken as it was written.
   */
  async close(complete = true): Promise<{ rows: number; written?: WrittenFile[] }> {
    const rows = await this.rows.end();
    if (complete && this.declaredRows !== undefined) {
      if (rows === this.declaredRows) return { rows, written: [this.rows.writtenFile()!] };
      await this.rewriteHeader(0);
      throw new Error(
        `${this.path} holds ${rows} rows, but its header was written for ${this.declaredRows}: it is left as a partial file of 0 rows`,
      );
    }
    await this.rewriteHeader(complete ? rows : 0);
    return { rows };
  }

  private async rewriteHeader(rows: number): Promise<void> {
    const file = await open(this.path, "r+");
    try {
      const header = encodeHeader(this.rows.layout, rows);
      await file.write(header, 0, header.length, 0);
    } finally {
      await file.close();
    }
  }
}

/** The whole header, the same length for any row count so that rewriting it never moves the data. */
function encodeHeader(layout: RowLayout, rows: number): Buffer {
  const length = alignedHeaderLength(headerDictionary(layout, Number.MAX_SAFE_INTEGER));
  const dictionary = headerDictionary(layout, rows);
  const text = `${dictionary.padEnd(length - PREAMBLE_BYTES - 1)}\n`;
  const header = Buffer.alloc(length);
  MAGIC.copy(header);
  header.set(FORMAT_VERSION, MAGIC.length);
  header.writeUInt16LE(text.length, MAGIC.length + 2);
  header.write(text, PREAMBLE_BYTES, "latin1");
  return header;
}

function headerDictionary({ dtype, width }: RowLayout, rows: number): string {
  return `{'descr': '${dtype}', 'fortran_order': False, 'shape': (${rows}, ${width}), }`;
}

function alignedHeaderLength(dictionary: string): number {
  const unaligned = PREAMBLE_BYTES + dictionary.length + 1;
  return Math.ceil(unaligned / HEADER_ALIGNMENT) * HEADER_ALIGNMENT;
}

/** Reads back a header `encodeHeader` wrote; other .npy files (3-D, Fortran order, other dtypes) are refused. */
async function readHeader(path: string): Promise<{ layout: RowLayout; dataOffset: number } | undefined> {
  const file = await open(path, "r").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (!file) return undefined;
  try {
    const preamble = Buffer.alloc(PREAMBLE_BYTES);
    const { bytesRead } = await file.read(preamble, 0, PREAMBLE_BYTES, 0);
    if (
      bytesRead < PREAMBLE_BYTES ||
      !preamble.subarray(0, MAGIC.length).equals(MAGIC) ||
      preamble[6] !== 1 ||
      preamble[7] !== 0
    ) {
      throw new Error(`${path} is not a .npy (version 1.0) file`);
    }
    const text = Buffer.alloc(preamble.readUInt16LE(MAGIC.length + 2));
    await file.read(text, 0, text.length, PREAMBLE_BYTES);
    const fields = /^\{'descr': '([^']+)', 'fortran_order': False, 'shape': \(\d+, (\d+)\), \} *\n$/.exec(
      text.toString("latin1"),
    );
    if (!fields || !Object.hasOwn(rowTypes, fields[1]!))
      throw new Error(`${path} is not a 2-D .npy file of rows this writer appends to`);
    return {
      layout: { dtype: fields[1] as RowDtype, width: Number(fields[2]) },
      dataOffset: PREAMBLE_BYTES + text.length,
    };
  } finally {
    await file.close();
  }
}
