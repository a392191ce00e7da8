// Where a corpus comes from: plain text (one item per line), JSON lines (a field of each object),
// CSV or TSV (a column), from a file or standard input, read as a stream so that a file of any
// length is never in memory whole. Each record keeps its position for output and for messages.
import { constants as bufferConstants } from "node:buffer";
import { createReadStream, type ReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { extname } from "node:path";
import { addAbortSignal, type Readable } from "node:stream";
import { parse } from "csv-parse";
import { parseJsonLine, withoutByteOrderMark } from "../util/json-lines.js";
import { checkOutputPath } from "../util/output-path.js";

export const inputFormats = ["text", "jsonl", "csv", "tsv"] as const;
export type InputFormat = (typeof inputFormats)[number];

/** Invalid UTF-8 in a text or JSON lines input: refused with its line number (as the server answers 400), or read as U+FFFD. */
export const invalidUtf8Policies = ["refuse", "replace"] as const;
export type InvalidUtf8Policy = (typeof invalidUtf8Policies)[number];

export interface InputRecord {
  /** 0-based position: the line for text and JSON lines, the data row for CSV and TSV */
  index: number;
  text: string;
  /** the record's id (any JSON value), when the input has one */
  id?: unknown;
  /** the fields named by InputOptions.fields, by name (CSV/TSV: strings) */
  fields?: Record<string, unknown>;
  /** where the record is, for messages: "line 12 of corpus.jsonl" */
  where: string;
}

export interface InputOptions {
  /** file path, or "-" for standard input */
  input: string;
  /** texts given on the command line instead of a file */
  text?: string[];
  inputFormat?: InputFormat;
  /** JSON lines: the text field, and the id field (default: "id" where a record has one) */
  field: string;
  idField?: string;
  /** CSV/TSV: the text column and id column, by header name or 0-based number */
  column?: string;
  idColumn?: string;
  /** CSV/TSV: whether the first row names the columns */
  header: boolean;
  /** leave out empty and whitespace-only texts instead of failing on them */
  skipEmpty: boolean;
  /** default "refuse" */
  invalidUtf8?: InvalidUtf8Policy;
  /** JSON lines: fields carried beside the text; CSV/TSV: columns, by header name (missing: null) */
  fields?: readonly string[];
  /** only this part of a text or JSON lines file (a shard of a distributed job) */
  range?: LineRange;
}

/** Bytes [start, end) of a line-based file, which begin at 0-based line `firstLine`. */
export interface LineRange {
  start: number;
  end: number;
  firstLine: number;
}

export interface InputReader {
  /** the file name, or "standard input" */
  name: string;
  records(signal: AbortSignal): AsyncGenerator<InputRecord>;
  /** bytes consumed so far and the file's size, for an ETA; undefined when the size is unknown */
  position(): { read: number; total: number } | undefined;
}

const formatsByExtension: Record<string, InputFormat> = {
  ".jsonl": "jsonl",
  ".ndjson": "jsonl",
  ".csv": "csv",
  ".tsv": "tsv",
  ".tab": "tsv",
};

/** The format named by --input-format, else the file's extension, else plain text. */
export function inputFormatOf(options: Pick<InputOptions, "input" | "inputFormat">): InputFormat {
  return options.inputFormat ?? formatsByExtension[extname(options.input).toLowerCase()] ?? "text";
}

/**
 * Refuses, before any work, an output file that cannot be written (a folder, a missing folder)
 * or that is the input itself, by name or by a symbolic or hard link: it would be overwritten.
 */
export async function checkCorpusOutput(output: string | undefined, options: InputOptions): Promise<void> {
  if (output === undefined) return;
  const fromFile = !options.text && options.input !== "-";
  await checkOutputPath(output, { files: fromFile ? [{ path: options.input, role: "the input" }] : [] });
}

export async function openInput(options: InputOptions): Promise<InputReader> {
  if (options.text) return commandLineTexts(options.text);
  const fromStdin = options.input === "-";
  const name = fromStdin ? "standard input" : options.input;
  const { range } = options;
  const format = inputFormatOf(options);
  if (range && (fromStdin || (format !== "text" && format !== "jsonl")))
    throw new Error(
      `only a text or JSON lines file can be read in byte ranges, not ${fromStdin ? name : `${format} input`}`,
    );
  // A regular file's size gives the ETA; a pipe or FIFO has none.
  const total = fromStdin
    ? undefined
    : await stat(options.input).then(
        (stats) => (stats.isFile() ? (range ? range.end - range.start : stats.size) : undefined),
        (error: NodeJS.ErrnoException) => {
          throw new Error(`cannot read ${name}: ${error.code === "ENOENT" ? "there is no such file" : error.message}`);
        },
      );
  let stream: ReadStream | typeof process.stdin | undefined;
  const parseRecords = format === "text" ? textRecords : format === "jsonl" ? jsonRecords : delimitedRecords(format);
  return {
    name,
    async *records(signal) {
      // createReadStream's end is inclusive, so an empty range cannot be opened: it has no records.
      if (range && range.end <= range.start) return;
      stream = fromStdin
        ? process.stdin
        : createReadStream(options.input, range ? { start: range.start, end: range.end - 1 } : {});
      addAbortSignal(signal, stream);
      try {
        yield* parseRecords(stream, name, options);
      } catch (error) {
        // An interrupt ends the input where it is; the job writes what it has and stops.
        if (!signal.aborted) throw error;
      }
    },
    position() {
      return total === undefined || !stream || !("bytesRead" in stream) ? undefined : { read: stream.bytesRead, total };
    },
  };
}

function commandLineTexts(texts: string[]): InputReader {
  return {
    name: "the command line",
    async *records() {
      yield* texts.map((text, index) => ({ index, text, where: `--text ${index + 1}` }));
    },
    position: () => undefined,
  };
}

type RecordParser = (stream: Readable, name: string, options: InputOptions) => AsyncGenerator<InputRecord>;

/** Empty and whitespace-only texts fail, naming where they are, unless --skip-empty leaves them out. */
function keep(text: string, where: string, options: InputOptions): boolean {
  if (text.trim().length > 0) return true;
  if (options.skipEmpty) return false;
  throw new RangeError(
    `${where} is ${text.length === 0 ? "empty" : "only whitespace"}; pass --skip-empty to leave such texts out`,
  );
}

/**
 * The most bytes one line may have. A longer one could not become a JavaScript string (V8's
 * limit, which a UTF-8 line of this many bytes never passes), so it is refused with its line
 * number instead of crashing in the decoder. CTXEMBED_MAX_LINE_BYTES lowers it, for tests.
 */
function maxLineBytes(): number {
  const lowered = Number(process.env.CTXEMBED_MAX_LINE_BYTES);
  return Number.isSafeInteger(lowered) && lowered > 0
    ? Math.min(lowered, bufferConstants.MAX_STRING_LENGTH)
    : bufferConstants.MAX_STRING_LENGTH;
}

/** Lines split at \n (a \r before it is dropped), decoded as UTF-8 by `policy`, each at most maxLineBytes(). */
async function* numberedLines(stream: Readable, name: string, options: InputOptions): AsyncGenerator<[number, string]> {
  const limit = maxLineBytes();
  const decoder = new TextDecoder("utf-8", { fatal: (options.invalidUtf8 ?? "refuse") === "refuse", ignoreBOM: true });
  let index = options.range?.firstLine ?? 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const tooLong = (): Error =>
    new RangeError(`line ${index + 1} of ${name} is longer than ${limit} bytes, the most one input line may have`);
  const decode = (parts: Buffer[]): string => {
    let bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    if (bytes.at(-1) === 13) bytes = bytes.subarray(0, -1);
    try {
      return decoder.decode(bytes);
    } catch {
      throw new TypeError(
        `line ${index + 1} of ${name} is not valid UTF-8; fix the file, or pass --invalid-utf8 replace to read such bytes as U+FFFD`,
      );
    }
  };
  // A byte order mark starts the file, not its first line; one at the start of a later line is text.
  const firstLine = (options.range?.start ?? 0) === 0 ? index : -1;
  const line = (parts: Buffer[]): string => (index === firstLine ? withoutByteOrderMark(decode(parts)) : decode(parts));
  for await (const block of stream as AsyncIterable<Buffer>) {
    let start = 0;
    for (let at = block.indexOf(10); at >= 0; at = block.indexOf(10, start)) {
      if (pendingBytes + at - start > limit) throw tooLong();
      pending.push(block.subarray(start, at));
      yield [index, line(pending)];
      index++;
      pending = [];
      pendingBytes = 0;
      start = at + 1;
    }
    if (start < block.length) {
      pendingBytes += block.length - start;
      if (pendingBytes > limit) throw tooLong();
      pending.push(block.subarray(start));
    }
  }
  if (pendingBytes > 0) yield [index, line(pending)];
}

const textRecords: RecordParser = async function* (stream, name, options) {
  for await (const [index, text] of numberedLines(stream, name, options)) {
    const where = `line ${index + 1} of ${name}`;
    if (keep(text, where, options)) yield { index, text, where };
  }
};

const jsonRecords: RecordParser = async function* (stream, name, options) {
  const idField = options.idField ?? "id";
  for await (const [index, line] of numberedLines(stream, name, options)) {
    const where = `line ${index + 1} of ${name}`;
    if (!keep(line.trim(), where, options)) continue;
    const record = parseJsonLine(line, where);
    if (typeof record !== "object" || record === null || Array.isArray(record))
      throw new TypeError(`${where} is not a JSON object`);
    const text = (record as Record<string, unknown>)[options.field];
    if (typeof text !== "string") {
      throw new TypeError(
        `${where} has no string field "${options.field}"${text === undefined ? "" : ` (it is ${JSON.stringify(text)})`}; choose the field with --field`,
      );
    }
    const id = (record as Record<string, unknown>)[idField];
    if (id === undefined && options.idField !== undefined)
      throw new TypeError(`${where} has no field "${idField}" (--id-field)`);
    const fields =
      options.fields &&
      Object.fromEntries(options.fields.map((field) => [field, (record as Record<string, unknown>)[field] ?? null]));
    if (keep(text, where, options))
      yield { index, text, where, ...(id === undefined ? {} : { id }), ...(fields ? { fields } : {}) };
  }
};

/** A column given as a header name or as a 0-based number. */
function columnIndex(given: string, header: string[] | undefined, what: string, name: string): number {
  const named = header?.indexOf(given) ?? -1;
  if (named >= 0) return named;
  if (/^\d+$/.test(given)) return Number(given);
  const known = header
    ? `its columns are ${header.map((column) => JSON.stringify(column)).join(", ")}`
    : "it has no header row (--no-header): give a 0-based number";
  throw new RangeError(`${name} has no column ${JSON.stringify(given)} for ${what}; ${known}`);
}

function delimitedRecords(format: "csv" | "tsv"): RecordParser {
  return async function* (stream, name, options) {
    // TSV has no quoting (IANA text/tab-separated-values): a quote is an ordinary character.
    const parser = stream.pipe(
      parse({
        delimiter: format === "tsv" ? "\t" : ",",
        quote: format === "tsv" ? false : '"',
        bom: true,
        skip_empty_lines: true,
        info: true,
      }),
    );
    let textAt: number | undefined;
    let idAt: number | undefined;
    let fieldsAt: [string, number][] | undefined;
    let index = 0;
    try {
      for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
        if (textAt === undefined) {
          const header = options.header ? record : undefined;
          textAt = columnIndex(options.column ?? (header ? "text" : "0"), header, "the text (--column)", name);
          const idColumn = options.idColumn ?? (header?.includes("id") ? "id" : undefined);
          idAt = idColumn === undefined ? undefined : columnIndex(idColumn, header, "the id (--id-column)", name);
          fieldsAt = options.fields?.map((field) => [
            field,
            columnIndex(field, header, `the field ${JSON.stringify(field)}`, name),
          ]);
          if (header) continue;
        }
        const where = `row ${index + 1} (line ${info.lines}) of ${name}`;
        const text = record[textAt];
        if (text === undefined) throw new RangeError(`${where} has ${record.length} columns, no column ${textAt}`);
        const fields = fieldsAt && Object.fromEntries(fieldsAt.map(([field, at]) => [field, record[at] ?? null]));
        if (keep(text, where, options))
          yield {
            index,
            text,
            where,
            ...(idAt === undefined ? {} : { id: record[idAt] }),
            ...(fields ? { fields } : {}),
          };
        index++;
      }
    } catch (error) {
      // csv-parse says "on line N"; the file's name completes the message.
      if (error instanceof Error && "code" in error && String(error.code).startsWith("CSV_"))
        throw new Error(`${name}: ${error.message}`);
      throw error;
    }
  };
}

/** The id a record is stored under in an index: its input id, else its 0-based position (as `embed` numbers it). */
export function recordId(record: { id?: unknown; index: number }): string {
  return record.id === undefined || record.id === null
    ? String(record.index)
    : typeof record.id === "string"
      ? record.id
      : JSON.stringify(record.id);
}
