// Where a corpus comes from: plain text (one item per line), JSON lines (a field of each object),
// CSV or TSV (a column), from a file or standard input, read as a stream so that a file of any
// length is never in memory whole. Each record keeps its position for output and for messages.
import { createReadStream, type ReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { extname } from "node:path";
import { addAbortSignal, type Readable } from "node:stream";
import { createInterface } from "node:readline";
import { parse } from "csv-parse";

export const inputFormats = ["text", "jsonl", "csv", "tsv"] as const;
export type InputFormat = (typeof inputFormats)[number];

export interface InputRecord {
  /** 0-based position: the line for text and JSON lines, the data row for CSV and TSV */
  index: number;
  text: string;
  /** the record's id (any JSON value), when the input has one */
  id?: unknown;
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
  skipEmpty: boolean;
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

const formatsByExtension: Record<string, InputFormat> = { ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv", ".tab": "tsv" };

/** The format named by --input-format, else the file's extension, else plain text. */
export function inputFormatOf(options: Pick<InputOptions, "input" | "inputFormat">): InputFormat {
  return options.inputFormat ?? formatsByExtension[extname(options.input).toLowerCase()] ?? "text";
}

export async function openInput(options: InputOptions): Promise<InputReader> {
  if (options.text) return commandLineTexts(options.text);
  const fromStdin = options.input === "-";
  const name = fromStdin ? "standard input" : options.input;
  const { range } = options;
  const format = inputFormatOf(options);
  if (range && (fromStdin || (format !== "text" && format !== "jsonl"))) throw new Error(`only a text or JSON lines file can be read in byte ranges, not ${fromStdin ? name : `${format} input`}`);
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
      stream = fromStdin ? process.stdin : createReadStream(options.input, range ? { start: range.start, end: range.end - 1 } : {});
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

/** Empty texts fail, naming where they are, unless --skip-empty leaves them out. */
function keep(text: string, where: string, options: InputOptions): boolean {
  if (text.length > 0) return true;
  if (options.skipEmpty) return false;
  throw new RangeError(`${where} is empty; pass --skip-empty to leave empty texts out`);
}

async function* numberedLines(stream: Readable, options: InputOptions): AsyncGenerator<[number, string]> {
  let index = options.range?.firstLine ?? 0;
  for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) yield [index++, line];
}

const textRecords: RecordParser = async function* (stream, name, options) {
  for await (const [index, text] of numberedLines(stream, options)) {
    const where = `line ${index + 1} of ${name}`;
    if (keep(text, where, options)) yield { index, text, where };
  }
};

const jsonRecords: RecordParser = async function* (stream, name, options) {
  const idField = options.idField ?? "id";
  for await (const [index, line] of numberedLines(stream, options)) {
    const where = `line ${index + 1} of ${name}`;
    if (!keep(line.trim(), where, options)) continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (error) {
      throw new SyntaxError(`${where} is not valid JSON: ${(error as Error).message}`);
    }
    if (typeof record !== "object" || record === null || Array.isArray(record)) throw new TypeError(`${where} is not a JSON object`);
    const text = (record as Record<string, unknown>)[options.field];
    if (typeof text !== "string") {
      throw new TypeError(`${where} has no string field "${options.field}"${text === undefined ? "" : ` (it is ${JSON.stringify(text)})`}; choose the field with --field`);
    }
    const id = (record as Record<string, unknown>)[idField];
    if (id === undefined && options.idField !== undefined) throw new TypeError(`${where} has no field "${idField}" (--id-field)`);
    if (keep(text, where, options)) yield { index, text, where, ...(id === undefined ? {} : { id }) };
  }
};

/** A column given as a header name or as a 0-based number. */
function columnIndex(given: string, header: string[] | undefined, what: string, name: string): number {
  const named = header?.indexOf(given) ?? -1;
  if (named >= 0) return named;
  if (/^\d+$/.test(given)) return Number(given);
  const known = header ? `its columns are ${header.map((column) => JSON.stringify(column)).join(", ")}` : "it has no header row (--no-header): give a 0-based number";
  throw new RangeError(`${name} has no column ${JSON.stringify(given)} for ${what}; ${known}`);
}

function delimitedRecords(format: "csv" | "tsv"): RecordParser {
  return async function* (stream, name, options) {
    // TSV has no quoting (IANA text/tab-separated-values): a quote is an ordinary character.
    const parser = stream.pipe(parse({ delimiter: format === "tsv" ? "\t" : ",", quote: format === "tsv" ? false : '"', bom: true, skip_empty_lines: true, info: true }));
    let textAt: number | undefined;
    let idAt: number | undefined;
    let index = 0;
    try {
      for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
        if (textAt === undefined) {
          const header = options.header ? record : undefined;
          textAt = columnIndex(options.column ?? (header ? "text" : "0"), header, "the text (--column)", name);
          const idColumn = options.idColumn ?? (header?.includes("id") ? "id" : undefined);
          idAt = idColumn === undefined ? undefined : columnIndex(idColumn, header, "the id (--id-column)", name);
          if (header) continue;
        }
        const where = `row ${index + 1} (line ${info.lines}) of ${name}`;
        const text = record[textAt];
        if (text === undefined) throw new RangeError(`${where} has ${record.length} columns, no column ${textAt}`);
        if (keep(text, where, options)) yield { index, text, where, ...(idAt === undefined ? {} : { id: record[idAt] }) };
        index++;
      }
    } catch (error) {
      // csv-parse says "on line N"; the file's name completes the message.
      if (error instanceof Error && "code" in error && String(error.code).startsWith("CSV_")) throw new Error(`${name}: ${error.message}`);
      throw error;
    }
  };
}
