// Rows as bare little-endian bytes, described by a JSON sidecar `<file>.json` that any language
// reads: {"shape": [rows, width], "dtype": "<f4", "complete": true, ...metadata}. `dtype` is
// NumPy's name, so `np.fromfile(f, dtype=m["dtype"]).reshape(m["shape"])` loads it. The
// sidecar is written when the file is opened (complete: false, 0 rows) and rewritten with the
// true count on close, "complete" staying false when the run failed or was interrupted; a file a
// crash left behind is measured by its size when resumed. A file it created and closed complete
// is reported with its sidecar's size and sha256 and its own, taken as they were written.
import { readFile, writeFile } from "node:fs/promises";
import { writeFileAtomic } from "../util/atomic-file.js";
import { isDeepStrictEqual } from "node:util";
import {
  RowAppender,
  WrittenHash,
  type WrittenFile,
  requireRowLayout,
  rowTypes,
  wholeRows,
  type Row,
  type RowDtype,
  type RowLayout,
  type StoredRows,
} from "./rows.js";

/** What the caller wants recorded about the rows (model, options...); must be JSON. */
export type RawMetadata = Record<string, unknown>;

export interface RawWriterOptions extends RowLayout {
  metadata?: RawMetadata;
}

export interface StoredRawRows extends StoredRows {
  metadata: RawMetadata;
}

interface Sidecar extends RawMetadata {
  shape: [number, number];
  dtype: RowDtype;
  complete: boolean;
}

export function sidecarPath(path: string): string {
  return `${path}.json`;
}

export class RawWriter {
  private constructor(
    private readonly rows: RowAppender,
    private readonly metadata: RawMetadata,
  ) {}

  get path(): string {
    return this.rows.path;
  }

  get width(): number {
    return this.rows.layout.width;
  }

  /** Creates (or truncates) `path` and writes its sidecar. */
  static async open(path: string, { dtype, width, metadata = {} }: RawWriterOptions): Promise<RawWriter> {
    requireRowLayout({ dtype, width }, "raw");
    await writeSidecar(path, { dtype, width }, 0, false, metadata);
    return new RawWriter(await RowAppender.create(path, { dtype, width }), metadata);
  }

  /** Layout, whole rows and metadata of a raw file with its sidecar; undefined when the sidecar is missing. */
  static async stored(path: string): Promise<StoredRawRows | undefined> {
    const sidecar = await readSidecar(path);
    if (!sidecar) return undefined;
    const { shape, dtype, complete, ...metadata } = sidecar;
    const layout = { dtype, width: shape[1] };
    const rows = await wholeRows(path, 0, layout).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return 0;
      throw error;
    });
    return { ...layout, rows, metadata };
  }

  /**
   * Continues a raw file after its first `rows` rows (at most what `stored` found). `metadata`
   * must equal what the file was started with: rows made with other settings must not be mixed.
   */
  static async resume(path: string, rows: number, metadata: RawMetadata = {}): Promise<RawWriter> {
    const stored = await RawWriter.stored(path);
    if (!stored) throw new Error(`cannot resume ${path}: its sidecar ${sidecarPath(path)} is missing`);
    if (!isDeepStrictEqual(JSON.parse(JSON.stringify(metadata)), stored.metadata)) {
      throw new Error(
        `cannot resume ${path}: it was written with ${JSON.stringify(stored.metadata)}, not ${JSON.stringify(metadata)}`,
      );
    }
    const layout = { dtype: stored.dtype, width: stored.width };
    await writeFile(path, new Uint8Array(), { flag: "a" });
    return new RawWriter(await RowAppender.resume(path, layout, 0, rows), metadata);
  }

  append(row: Row): Promise<void> {
    return this.rows.append(row);
  }

  /**
   * Finishes the data and records the row count in the sidecar, with `complete` false when its
   * run did not finish. `written`: the file and its sidecar, hashed as they were written, when
   * this writer created the file and it is complete.
   */
  async close(complete = true): Promise<{ rows: number; written?: WrittenFile[] }> {
    const rows = await this.rows.end();
    const sidecar = await writeSidecar(this.path, this.rows.layout, rows, complete, this.metadata);
    const data = this.rows.writtenFile();
    return complete && data ? { rows, written: [data, sidecar] } : { rows };
  }
}

/** Whole or not at all (lib/util/atomic-file.ts), so a crash never leaves half a sidecar; hashed from its text. */
async function writeSidecar(
  path: string,
  { dtype, width }: RowLayout,
  rows: number,
  complete: boolean,
  metadata: RawMetadata,
): Promise<WrittenFile> {
  const sidecar: Sidecar = { shape: [rows, width], dtype, complete, ...metadata };
  const target = sidecarPath(path);
  const text = `${JSON.stringify(sidecar, null, 2)}\n`;
  await writeFileAtomic(target, text);
  const hash = new WrittenHash();
  hash.update(text);
  return hash.digest(target);
}

async function readSidecar(path: string): Promise<Sidecar | undefined> {
  const target = sidecarPath(path);
  const text = await readFile(target, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (text === undefined) return undefined;
  const sidecar = JSON.parse(text) as Partial<Sidecar>;
  const width = sidecar.shape?.[1];
  if (
    typeof sidecar.dtype !== "string" ||
    !Object.hasOwn(rowTypes, sidecar.dtype) ||
    !Number.isInteger(width) ||
    width! < 1
  ) {
    throw new Error(`${target} does not describe raw rows (it needs "dtype" and "shape": [rows, width])`);
  }
  return sidecar as Sidecar;
}
