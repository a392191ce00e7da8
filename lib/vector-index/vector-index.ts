// An on-disk vector index: one LanceDB table (a directory may hold several), cosine distance,
// rows upserted by id, an ANN index (IVF-PQ) once the table is large enough, filters in SQL.
// The table's schema metadata carries the settings its vectors were made with (settings.ts).
import { mkdir, stat } from "node:fs/promises";
import * as lancedb from "@lancedb/lancedb";
import { Bool, DataType, Field, FixedSizeList, Float32, Float64, Schema, Utf8 } from "apache-arrow";
import { describe, requireInteger, requireText } from "../util/validate.js";
import { defaultAnnThreshold, maxK, requireSameSettings, settingsKey, type IndexSettings } from "./settings.js";
import { takeWriterLock, type WriterLock } from "./writer-lock.js";

/** One row: an id, its vector, and any other columns (text, metadata fields, a span's place). */
export interface IndexRow {
  id: string;
  vector: Float32Array | readonly number[];
  [column: string]: unknown;
}

export interface IndexSearchOptions {
  /** how many hits; default 10, at most maxK */
  k?: number;
  /** an SQL predicate over the stored columns: "genre = 'news' AND year > 2000" */
  filter?: string;
  /** compare with every row (flat search) even when the table has an ANN index */
  exact?: boolean;
  /** with an ANN index: IVF partitions searched; default 20 */
  nprobes?: number;
  /** with an ANN index: candidates re-ranked by their exact distance, as a multiple of k; default 10 */
  refineFactor?: number;
}

export interface IndexHit {
  id: string;
  /** cosine similarity to the query */
  score: number;
  [column: string]: unknown;
}

export interface OpenIndexOptions {
  /** the table; default: the kind of `settings`, else "sentences" */
  table?: string;
  /** open for writing: the table is made on the first add when it does not exist yet, or must have these settings when it does */
  settings?: IndexSettings;
}

/** A missing, unreadable or foreign index directory or table. */
export class IndexOpenError extends Error {
  override name = "IndexOpenError";
}

/** A filter LanceDB cannot run: the caller's mistake (a RangeError, so that servers answer it 422). */
export class IndexFilterError extends RangeError {
  override name = "IndexFilterError";
}

const reservedColumns = new Set(["id", "vector", "score", "_distance", "_rowid"]);

/** LanceDB's messages end in a chain of Rust source locations; the first clause is what a person needs. */
function lanceMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const clause = message.replace(/^.*?lance error: /s, "").split(/, \/\S+\.rs:\d+/)[0]!;
  return clause.trim();
}

function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function columnTypeOf(value: unknown): DataType {
  if (typeof value === "number") return new Float64();
  if (typeof value === "boolean") return new Bool();
  return new Utf8();
}

/** A value as its column stores it: strings and JSON in Utf8, numbers in Float64, booleans in Bool. */
function columnValue(type: DataType, value: unknown, column: string, id: string): unknown {
  if (value === undefined || value === null) return null;
  // A schema read back from LanceDB has its own arrow classes: compare type ids, not classes.
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type))
    return typeof value === "string" ? value : JSON.stringify(value);
  const expected = DataType.isFloat(type) || DataType.isInt(type) ? "number" : "boolean";
  if (typeof value !== expected)
    throw new TypeError(`row ${JSON.stringify(id)}: the column "${column}" holds ${expected}s, got ${describe(value)}`);
  return value;
}

export class VectorIndex {
  private table: lancedb.Table | undefined;
  private schema: Schema | undefined;
  private hasAnnIndex = false;

  private constructor(
    readonly directory: string,
    readonly tableName: string,
    private readonly db: lancedb.Connection,
    table: lancedb.Table | undefined,
    schema: Schema | undefined,
    private settingsGiven: IndexSettings | undefined,
    private readonly writerLock: WriterLock | undefined,
  ) {
    this.table = table;
    this.schema = schema;
  }

  /** Opens `directory`'s table for searching, or for writing when `options.settings` is given. */
  static async open(directory: string, options: OpenIndexOptions = {}): Promise<VectorIndex> {
    requireText(directory, "the index directory");
    const tableName = options.table ?? options.settings?.kind ?? "sentences";
    requireText(tableName, "the table name");
    const writing = options.settings !== undefined;
    if (writing) await mkdir(directory, { recursive: true });
    else {
      const found = await stat(directory).catch(() => undefined);
      if (!found)
        throw new IndexOpenError(
          `there is no index at ${directory}: build one with \`ctxembed index build --index ${directory}\``,
        );
      if (!found.isDirectory()) throw new IndexOpenError(`${directory} is not an index directory (it is a file)`);
    }
    const writerLock = writing ? await takeWriterLock(directory) : undefined;
    try {
      const db = await lancedb.connect(directory);
      const names = await db.tableNames();
      let table: lancedb.Table | undefined;
      let schema: Schema | undefined;
      if (names.includes(tableName)) {
        try {
          table = await db.openTable(tableName);
          schema = await table.schema();
        } catch (error) {
          throw new IndexOpenError(
            `the table "${tableName}" of ${directory} cannot be read (is the directory damaged?): ${lanceMessage(error)}`,
          );
        }
      } else if (!writing) {
        const known =
          names.length === 0
            ? "it holds no tables: is it an index directory?"
            : `its tables are ${names.map((name) => JSON.stringify(name)).join(", ")}`;
        throw new IndexOpenError(`${directory} has no table "${tableName}"; ${known}`);
      }
      const index = new VectorIndex(directory, tableName, db, table, schema, options.settings, writerLock);
      if (schema) {
        const stored = index.settings;
        if (options.settings) requireSameSettings(stored, options.settings, `${directory} (table "${tableName}")`);
        index.hasAnnIndex = (await table!.listIndices()).some((config) => config.columns.includes("vector"));
      }
      return index;
    } catch (error) {
      await writerLock?.release();
      throw error;
    }
  }

  /** The settings the table's vectors were made with. */
  get settings(): IndexSettings {
    if (!this.schema) return this.settingsGiven!;
    const json = this.schema.metadata.get(settingsKey);
    if (json === undefined)
      throw new IndexOpenError(
        `the table "${this.tableName}" of ${this.directory} was not written by ctxembed (its schema has no ${settingsKey} metadata)`,
      );
    try {
      return JSON.parse(json) as IndexSettings;
    } catch {
      throw new IndexOpenError(
        `the table "${this.tableName}" of ${this.directory} has damaged ${settingsKey} metadata`,
      );
    }
  }

  get annIndexed(): boolean {
    return this.hasAnnIndex;
  }

  async count(filter?: string): Promise<number> {
    return this.table ? this.table.countRows(filter) : 0;
  }

  /** The distinct values of a column (by default the ids), for resuming a build. */
  async values(column = "id"): Promise<Set<string>> {
    if (!this.table) return new Set();
    const rows = await this.table.query().select([column]).toArray();
    return new Set(rows.map((row) => String(row[column])));
  }

  /**
   * Upserts rows by id: a row whose id is stored replaces it. Within one call the last row of an
   * id wins. With `replacing`, the stored rows whose `column` has one of `values` and whose id is
   * not among `rows` are deleted in the same commit (the spans a re-read passage no longer has).
   */
  async add(rows: readonly IndexRow[], replacing?: { column: string; values: readonly string[] }): Promise<void> {
    if (!this.writerLock)
      throw new Error(`${this.directory} was opened for searching; open it with settings to add rows`);
    if (!Array.isArray(rows)) throw new TypeError(`rows must be an array, got ${describe(rows)}`);
    const stale =
      replacing && replacing.values.length > 0
        ? `${replacing.column} IN (${replacing.values.map(sqlString).join(", ")})`
        : undefined;
    if (rows.length === 0) {
      if (stale !== undefined && this.table) await this.table.delete(stale);
      return;
    }
    const byId = new Map<string, IndexRow>();
    rows.forEach((row, i) => {
      if (row === null || typeof row !== "object" || typeof row.id !== "string" || row.id.length === 0)
        throw new TypeError(`rows[${i}] needs a non-empty string id`);
      if (row.vector?.length !== this.settings.dimensions)
        throw new RangeError(
          `rows[${i}] (id ${JSON.stringify(row.id)}) has a vector of ${row.vector?.length} values; the index holds ${this.settings.dimensions}`,
        );
      byId.set(row.id, row);
    });
    const unique = [...byId.values()];
    const schema = this.schema ?? this.schemaFor(unique);
    const data = lancedb.makeArrowTable(
      unique.map((row) =>
        Object.fromEntries(
          schema.fields.map((field) => [
            field.name,
            field.name === "vector"
              ? Array.from(row.vector)
              : field.name === "id"
                ? row.id
                : columnValue(field.type, row[field.name], field.name, row.id),
          ]),
        ),
      ),
      { schema },
    );
    if (!this.table) {
      this.table = await this.db.createTable(this.tableName, data);
      this.schema = await this.table.schema();
      return;
    }
    const extra = unique
      .flatMap((row) => Object.keys(row))
      .find((column) => !reservedColumns.has(column) && !schema.fields.some((field) => field.name === column));
    if (extra !== undefined)
      throw new TypeError(
        `the table "${this.tableName}" has no column "${extra}"; its columns are fixed when it is made`,
      );
    const merge = this.table.mergeInsert("id").whenMatchedUpdateAll().whenNotMatchedInsertAll();
    await (stale === undefined ? merge : merge.whenNotMatchedBySourceDelete({ where: stale })).execute(data);
  }

  /** The columns a new table gets: id, vector, then every other column the first rows have, typed by their first value. */
  private schemaFor(rows: readonly IndexRow[]): Schema {
    const types = new Map<string, DataType | undefined>();
    for (const row of rows) {
      for (const [column, value] of Object.entries(row)) {
        if (column === "id" || column === "vector") continue;
        if (reservedColumns.has(column)) throw new TypeError(`"${column}" is a reserved column name`);
        if (types.get(column) === undefined)
          types.set(column, value === null || value === undefined ? undefined : columnTypeOf(value));
      }
    }
    const vectorType = new FixedSizeList(this.settings.dimensions, new Field("item", new Float32(), true));
    return new Schema(
      [
        new Field("id", new Utf8(), false),
        new Field("vector", vectorType, false),
        ...[...types].map(([name, type]) => new Field(name, type ?? new Utf8(), true)),
      ],
      new Map([[settingsKey, JSON.stringify(this.settings)]]),
    );
  }

  /**
   * Builds the ANN index once the table has `threshold` rows, or folds new rows into the one it
   * has. Rows not yet in an ANN index are still searched, exactly.
   */
  async updateAnnIndex(threshold = defaultAnnThreshold): Promise<"built" | "updated" | "none"> {
    if (!this.table) return "none";
    if (this.hasAnnIndex) {
      await this.table.optimize();
      return "updated";
    }
    if ((await this.count()) < threshold) return "none";
    await this.table.createIndex("vector", { config: lancedb.Index.ivfPq({ distanceType: "cosine" }), replace: true });
    this.hasAnnIndex = true;
    return "built";
  }

  /** The k rows closest to `vector` by cosine similarity, best first. */
  async search(vector: Float32Array | readonly number[], options: IndexSearchOptions = {}): Promise<IndexHit[]> {
    const k = options.k === undefined ? 10 : requireInteger(options.k, "k", 1, maxK);
    if (vector?.length !== this.settings.dimensions)
      throw new RangeError(
        `the query vector has ${vector?.length} values; the index holds ${this.settings.dimensions}`,
      );
    if (!this.table) return [];
    const columns = [
      ...this.schema!.fields.map((field) => field.name).filter((name) => name !== "vector"),
      "_distance",
    ];
    let query = this.table.vectorSearch(Array.from(vector)).distanceType("cosine").limit(k).select(columns);
    if (options.filter !== undefined) query = query.where(requireText(options.filter, "filter"));
    if (options.exact) query = query.bypassVectorIndex();
    else if (this.hasAnnIndex) {
      query = query
        .nprobes(options.nprobes === undefined ? 20 : requireInteger(options.nprobes, "nprobes", 1))
        .refineFactor(
          options.refineFactor === undefined ? 10 : requireInteger(options.refineFactor, "refineFactor", 1),
        );
    }
    let rows: Record<string, unknown>[];
    try {
      rows = await query.toArray();
    } catch (error) {
      if (options.filter !== undefined)
        throw new IndexFilterError(
          `the filter ${JSON.stringify(options.filter)} cannot be applied: ${lanceMessage(error)}`,
        );
      throw new IndexOpenError(
        `searching the table "${this.tableName}" of ${this.directory} failed (is the directory damaged?): ${lanceMessage(error)}`,
      );
    }
    return rows.map(({ _distance, id, ...rest }) => ({ id: String(id), score: 1 - Number(_distance), ...rest }));
  }

  async close(): Promise<void> {
    this.table?.close();
    this.db.close();
    await this.writerLock?.release();
  }
}

/** Opens an index directory's table: for searching, or with `settings` for adding rows. */
export function openIndex(directory: string, options: OpenIndexOptions = {}): Promise<VectorIndex> {
  return VectorIndex.open(directory, options);
}

/** Opens every table of an index directory for searching. */
export async function openIndexTables(directory: string): Promise<VectorIndex[]> {
  const first = await VectorIndex.open(directory, {}).catch(async (error) => {
    // The default table may be missing where another one is there: list what there is.
    if (
      !(error instanceof IndexOpenError) ||
      !/has no table/.test(error.message) ||
      /holds no tables/.test(error.message)
    )
      throw error;
    return undefined;
  });
  const db = await lancedb.connect(directory);
  const names = (await db.tableNames()).filter((name) => name !== first?.tableName);
  db.close();
  const others = await Promise.all(names.map((table) => VectorIndex.open(directory, { table })));
  return first ? [first, ...others] : others;
}
