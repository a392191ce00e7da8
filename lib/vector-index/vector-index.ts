// An on-disk vector index: one LanceDB table (a directory may hold several), cosine distance,
// rows upserted by id (a BTREE index on id keeps the upserts from scanning the table), an ANN
// index (IVF-PQ) once the table is large enough, filters in SQL. The table's schema metadata
// carries the settings its vectors were made with (settings.ts) and what its rows came from.
import { mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import * as lancedb from "@lancedb/lancedb";
import {
  Bool,
  DataType,
  Field,
  FixedSizeList,
  Float32,
  Float64,
  Schema,
  type Table as ArrowTable,
  Utf8,
} from "apache-arrow";
import { describe, requireInteger, requireText } from "../util/validate.js";
import { columnTypeOf, columnTypes, type ColumnType } from "./columns.js";
import { damagedDataFile } from "./lance-files.js";
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
  /**
   * Writing: the columns besides id and vector, with their types. A new table gets them as they
   * are (a column left undefined stores text unless the first rows added have a value for it); an
   * existing table must have the same types. Columns not named here are typed by their first value.
   */
  columns?: Record<string, ColumnType | undefined>;
  /** Writing: what the rows come from (an input file, say), recorded when the table is made; see `origin`. */
  origin?: string;
  /**
   * Reading: how old, in seconds, the view of the table may get before a search looks for rows
   * other processes have added since (0: every search looks). Default 1; Infinity never looks.
   */
  refreshSeconds?: number;
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

/** The schema metadata key that records what a table's rows came from. */
const originKey = "ctxembed.origin";
/** The field metadata key that records a column's ColumnType ("json" and "string" share Utf8). */
const columnTypeKey = "ctxembed.type";

/** LanceDB's messages end in a chain of Rust source locations; the first clause is what a person needs. */
function lanceMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const clause = message.replace(/^.*?lance error: /s, "").split(/, \/\S+\.rs:\d+/)[0]!;
  return clause.trim();
}

/** A panic inside LanceDB's reader: what a damaged data file causes, whatever the query. */
const lancePanicked = (error: unknown) => /Panic in async function|panicked at/.test(String(error));

/**
 * The filter as one parenthesised predicate. LanceDB parses the first expression of a filter and
 * ignores the rest ("a = 1; DROP TABLE t" runs as "a = 1"): inside parentheses a tail is a syntax
 * error instead. A `;`, a comment or an unbalanced parenthesis outside quotes is refused here, so
 * that nothing can close the parenthesis early.
 */
function wholeFilter(filter: string): string {
  requireText(filter, "filter");
  let quote: string | undefined;
  let depth = 0;
  const refuse = (why: string) => {
    throw new IndexFilterError(`the filter ${JSON.stringify(filter)} is not one SQL predicate: ${why}`);
  };
  for (let i = 0; i < filter.length; i++) {
    const char = filter[i]!;
    if (quote !== undefined) {
      // A doubled quote inside a quoted string or name is the quote itself, and toggles twice.
      if (char === quote) quote = undefined;
      continue;
    }
    if (char === "'" || char === '"' || char === "`") quote = char;
    else if (char === "(") depth++;
    else if (char === ")" && --depth < 0) refuse(`a ")" at character ${i + 1} closes nothing`);
    else if (char === ";") refuse(`a ";" at character ${i + 1} ends it, and LanceDB would ignore what follows`);
    else if ((char === "-" && filter[i + 1] === "-") || (char === "/" && filter[i + 1] === "*"))
      refuse(`a comment at character ${i + 1}`);
  }
  if (quote !== undefined) refuse(`its last ${quote} is not closed`);
  if (depth > 0) refuse(`${depth} "(" not closed`);
  return `(${filter})`;
}

function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function columnField(name: string, type: ColumnType): Field {
  const arrowType = type === "number" ? new Float64() : type === "boolean" ? new Bool() : new Utf8();
  return new Field(name, arrowType, true, new Map([[columnTypeKey, type]]));
}

/** A stored column's type: as recorded, else (tables of earlier versions) from its arrow type. */
function storedColumnType(field: Field): ColumnType {
  const recorded = field.metadata.get(columnTypeKey);
  if ((columnTypes as readonly string[]).includes(recorded ?? "")) return recorded as ColumnType;
  // A schema read back from LanceDB has its own arrow classes: compare type ids, not classes.
  if (DataType.isFloat(field.type) || DataType.isInt(field.type)) return "number";
  return DataType.isBool(field.type) ? "boolean" : "string";
}

/** A value as its column stores it: strings and JSON in Utf8, numbers in Float64, booleans in Bool. */
function columnValue(type: ColumnType, value: unknown, column: string, id: string): unknown {
  if (value === undefined || value === null) return null;
  if (type === "json") return JSON.stringify(value);
  if (type === "string") return typeof value === "string" ? value : JSON.stringify(value);
  if (typeof value !== type)
    throw new TypeError(`row ${JSON.stringify(id)}: the column "${column}" holds ${type}s, got ${describe(value)}`);
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
    private readonly given: OpenIndexOptions,
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
    const refreshSeconds = options.refreshSeconds ?? 1;
    if (!(refreshSeconds >= 0))
      throw new RangeError(`refreshSeconds must be 0 or more, got ${describe(refreshSeconds)}`);
    const writerLock = writing ? await takeWriterLock(directory) : undefined;
    try {
      // A writer is the only one changing its table: it need not look for other processes' rows.
      const db = await lancedb.connect(
        directory,
        writing || refreshSeconds === Number.POSITIVE_INFINITY ? {} : { readConsistencyInterval: refreshSeconds },
      );
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
        const damage = await damagedDataFile(join(directory, `${tableName}.lance`), await table.version());
        if (damage) throw new IndexOpenError(`the table "${tableName}" of ${directory} is damaged: ${damage}`);
      } else if (!writing) {
        const known =
          names.length === 0
            ? "it holds no tables: is it an index directory?"
            : `its tables are ${names.map((name) => JSON.stringify(name)).join(", ")}`;
        throw new IndexOpenError(`${directory} has no table "${tableName}"; ${known}`);
      }
      const index = new VectorIndex(directory, tableName, db, table, schema, options, writerLock);
      if (schema) {
        const stored = index.settings;
        const where = `${directory} (table "${tableName}")`;
        if (options.settings) requireSameSettings(stored, options.settings, where);
        if (options.columns) index.requireColumns(options.columns, where);
        const indices = await table!.listIndices();
        index.hasAnnIndex = indices.some((config) => config.columns.includes("vector"));
        // Tables of earlier versions have no index on id: upserts would scan the whole table.
        if (writing && !indices.some((config) => config.columns.includes("id"))) await index.indexIds();
      }
      return index;
    } catch (error) {
      await writerLock?.release();
      throw error;
    }
  }

  /** The settings the table's vectors were made with. */
  get settings(): IndexSettings {
    if (!this.schema) return this.given.settings!;
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

  /** What the rows came from, as recorded when the table was made (undefined: not recorded, or no table yet). */
  get origin(): string | undefined {
    return this.schema?.metadata.get(originKey);
  }

  get annIndexed(): boolean {
    return this.hasAnnIndex;
  }

  /** The columns besides id and vector, with their types (those `columns` declared when there is no table yet). */
  get columns(): Record<string, ColumnType | undefined> {
    if (!this.schema) return { ...this.given.columns };
    return Object.fromEntries(
      this.schema.fields
        .filter((field) => field.name !== "id" && field.name !== "vector")
        .map((field) => [field.name, storedColumnType(field)]),
    );
  }

  private requireColumns(declared: Record<string, ColumnType | undefined>, where: string): void {
    const stored = this.columns;
    for (const [name, type] of Object.entries(declared)) {
      if (!(name in stored))
        throw new TypeError(`${where} has no column "${name}"; its columns are fixed when it is made`);
      if (type !== undefined && stored[name] !== type)
        throw new TypeError(`${where} stores the column "${name}" as ${stored[name]}, not ${type}`);
    }
  }

  async count(filter?: string): Promise<number> {
    const predicate = filter === undefined ? undefined : wholeFilter(filter);
    return this.table ? this.table.countRows(predicate) : 0;
  }

  /** The table's data fragments (files of rows): each commit adds some, compaction merges them. */
  async fragments(): Promise<number> {
    return this.table ? (await this.table.stats()).fragmentStats.numFragments : 0;
  }

  /** The columns that have a (scalar or vector) index. */
  async indexedColumns(): Promise<string[]> {
    return this.table ? (await this.table.listIndices()).flatMap((config) => config.columns) : [];
  }

  /** The distinct values of a column (by default the ids), for resuming a build. */
  async values(column = "id"): Promise<Set<string>> {
    if (!this.table) return new Set();
    const rows = await this.table.query().select([column]).toArray();
    return new Set(rows.map((row) => String(row[column])));
  }

  private requireWriter(): WriterLock {
    if (!this.writerLock)
      throw new Error(`${this.directory} was opened for searching; open it with settings to add rows`);
    return this.writerLock;
  }

  /**
   * Upserts rows by id, in one commit: a row whose id is stored replaces it. Within one call the
   * last row of an id wins. With `replacing`, the stored rows whose `column` has one of `values`
   * and whose id is not among `rows` are deleted in the same commit (the spans a re-read passage
   * no longer has).
   */
  async add(rows: readonly IndexRow[], replacing?: { column: string; values: readonly string[] }): Promise<void> {
    const lock = this.requireWriter();
    if (!Array.isArray(rows)) throw new TypeError(`rows must be an array, got ${describe(rows)}`);
    const stale =
      replacing && replacing.values.length > 0
        ? `${replacing.column} IN (${replacing.values.map(sqlString).join(", ")})`
        : undefined;
    if (rows.length === 0) {
      if (stale !== undefined && this.table) {
        await lock.verify();
        await this.table.delete(stale);
      }
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
    const extra = unique
      .flatMap((row) => Object.keys(row))
      .find((column) => !reservedColumns.has(column) && !schema.fields.some((field) => field.name === column));
    if (extra !== undefined)
      throw new TypeError(
        `the table "${this.tableName}" has no column "${extra}"; its columns are fixed when it is made`,
      );
    const types = new Map(schema.fields.map((field) => [field.name, storedColumnType(field)]));
    const data = lancedb.makeArrowTable(
      unique.map((row) =>
        Object.fromEntries(
          schema.fields.map((field) => [
            field.name,
            field.name === "vector"
              ? Array.from(row.vector)
              : field.name === "id"
                ? row.id
                : columnValue(types.get(field.name)!, row[field.name], field.name, row.id),
          ]),
        ),
      ),
      { schema },
    );
    await lock.verify();
    if (!this.table) {
      await this.createTable(data);
      return;
    }
    const merge = this.table.mergeInsert("id").whenMatchedUpdateAll().whenNotMatchedInsertAll();
    await (stale === undefined ? merge : merge.whenNotMatchedBySourceDelete({ where: stale })).execute(data);
  }

  /** Makes the table with no rows when nothing has been added (an empty input still leaves a table to search). */
  async ensureTable(): Promise<void> {
    const lock = this.requireWriter();
    if (this.table) return;
    await lock.verify();
    await this.createTable(this.schemaFor([]));
  }

  private async createTable(data: ArrowTable | Schema): Promise<void> {
    this.table =
      data instanceof Schema
        ? await this.db.createEmptyTable(this.tableName, data)
        : await this.db.createTable(this.tableName, data);
    this.schema = await this.table.schema();
    await this.indexIds();
  }

  private async indexIds(): Promise<void> {
    await this.table!.createIndex("id", { config: lancedb.Index.btree() });
  }

  /**
   * The columns a new table gets: id, vector, the declared columns, then every other column the
   * first rows have, typed by their first value that is not null (text when none has one).
   */
  private schemaFor(rows: readonly IndexRow[]): Schema {
    const types = new Map<string, ColumnType | undefined>(Object.entries(this.given.columns ?? {}));
    for (const name of types.keys())
      if (reservedColumns.has(name)) throw new TypeError(`"${name}" is a reserved column name`);
    for (const row of rows) {
      for (const [column, value] of Object.entries(row)) {
        if (column === "id" || column === "vector") continue;
        if (reservedColumns.has(column)) throw new TypeError(`"${column}" is a reserved column name`);
        if (types.get(column) === undefined)
          types.set(column, value === null || value === undefined ? undefined : columnTypeOf(value));
      }
    }
    const vectorType = new FixedSizeList(this.settings.dimensions, new Field("item", new Float32(), true));
    const metadata = new Map([[settingsKey, JSON.stringify(this.settings)]]);
    if (this.given.origin !== undefined) metadata.set(originKey, this.given.origin);
    return new Schema(
      [
        new Field("id", new Utf8(), false),
        new Field("vector", vectorType, false),
        ...[...types].map(([name, type]) => columnField(name, type ?? "string")),
      ],
      metadata,
    );
  }

  /**
   * Merges small fragments into large ones and folds new rows into the indexes (on id, and the
   * ANN index): each commit adds fragments, and a table of many is slower to search and upsert.
   */
  async optimize(): Promise<void> {
    const lock = this.requireWriter();
    if (!this.table) return;
    await lock.verify();
    await this.table.optimize();
  }

  /**
   * Builds the ANN index once the table has `threshold` rows, or folds new rows into the one it
   * has. Rows not yet in an ANN index are still searched, exactly.
   */
  async updateAnnIndex(threshold = defaultAnnThreshold): Promise<"built" | "updated" | "none"> {
    if (!this.table) return "none";
    if (this.hasAnnIndex) {
      await this.optimize();
      return "updated";
    }
    if ((await this.count()) < threshold) return "none";
    await this.requireWriter().verify();
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
    const filter = options.filter === undefined ? undefined : wholeFilter(options.filter);
    if (!this.table) return [];
    const columns = [
      ...this.schema!.fields.map((field) => field.name).filter((name) => name !== "vector"),
      "_distance",
    ];
    let query = this.table.vectorSearch(Array.from(vector)).distanceType("cosine").limit(k).select(columns);
    if (filter !== undefined) query = query.where(filter);
    // Probes and re-ranking apply once an ANN index exists (another process may build one while
    // this reader is open); a flat search ignores them.
    query = options.exact
      ? query.bypassVectorIndex()
      : query
          .nprobes(options.nprobes === undefined ? 20 : requireInteger(options.nprobes, "nprobes", 1))
          .refineFactor(
            options.refineFactor === undefined ? 10 : requireInteger(options.refineFactor, "refineFactor", 1),
          );
    let rows: Record<string, unknown>[];
    try {
      rows = await query.toArray();
    } catch (error) {
      if (options.filter !== undefined && !lancePanicked(error))
        throw new IndexFilterError(
          `the filter ${JSON.stringify(options.filter)} cannot be applied: ${lanceMessage(error)}`,
        );
      throw new IndexOpenError(
        `searching the table "${this.tableName}" of ${this.directory} failed (is the directory damaged?): ${lancePanicked(error) ? "LanceDB could not read its data files" : lanceMessage(error)}`,
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
export async function openIndexTables(
  directory: string,
  options: Pick<OpenIndexOptions, "refreshSeconds"> = {},
): Promise<VectorIndex[]> {
  const first = await VectorIndex.open(directory, options).catch(async (error) => {
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
  const others = await Promise.all(names.map((table) => VectorIndex.open(directory, { ...options, table })));
  return first ? [first, ...others] : others;
}
