// What produced an output file, kept beside it in `<output>.meta.json`, so that --resume appends
// only to an output of the same input, model and settings, and so that a reader can tell a
// finished output from one a failure or interrupt left ("complete"). A sidecar rather than a
// first JSON line: JSON lines outputs stay plain (one result per line for jq, pandas or a line
// count), and .npy files stay loadable by NumPy, whose header has no room for anything else.
import { createHash, type Hash } from "node:crypto";
import { appendFile, open, readFile, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { isDeepStrictEqual } from "node:util";
import type { EmbedOptions } from "../embedding/embed-options.js";
import type { EmbeddingModel } from "../embedding/embedding-model.js";
import type { PromptRole } from "../prompts/prompting.js";
import { writeFileAtomic } from "../util/atomic-file.js";
import { parseJsonLines } from "../util/json-lines.js";
import { inputFormatOf, type InputOptions, type InputRecord } from "./inputs.js";

// 2: the input is checked record by record against <output>.meta.digests, not by its first 4 KiB.
const recordVersion = "ctxembed run record 2";
/** Enough of the model file to tell it from another one without reading it all. */
const modelHeadBytes = 1 << 20;

/** Everything that decides an output's rows; two runs may share an output only when theirs are equal. */
export interface RunIdentity {
  command: string;
  /** "jsonl", "npy" or "raw" */
  format: string;
  input: Record<string, unknown>;
  model: { name: string; bytes: number; head: string };
  /** what decides which texts are read, and every option that changes their vectors */
  options: Record<string, unknown>;
}

export interface RunRecord {
  version: typeof recordVersion;
  identity: RunIdentity;
  /** true only once every input has been written */
  complete: boolean;
  /** results written when the record was last updated (a killed run may have written more) */
  results: number;
}

/** The prompt options as the command line gave them (a demonstrations file by its checksum). */
export interface PromptRecord {
  prompt: string;
  role: PromptRole;
  task?: string;
  /** the demonstrations file, its record count and the SHA-256 of its bytes */
  examples?: { file: string; count: number; sha256: string };
  retrieveExamples?: number;
}

export interface RunDescription {
  command: string;
  format: string;
  input: InputOptions;
  /** the vector options, with the prompt as the command line gave it */
  embed: Omit<EmbedOptions, "prompt"> & { prompt?: PromptRecord };
}

async function headDigest(path: string, bytes: number): Promise<string> {
  const file = await open(path, "r");
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await file.read(buffer, 0, bytes, 0);
    return createHash("sha256").update(buffer.subarray(0, bytesRead)).digest("hex");
  } finally {
    await file.close();
  }
}

/**
 * The identity of one run, built in this one place: an option that changes vectors or the texts
 * read is added here, and resuming across a change of it is then refused by name.
 */
export async function runIdentity(run: RunDescription, model: EmbeddingModel): Promise<RunIdentity> {
  const { input } = run;
  // The input's content is checked record by record on --resume (InputDigests), not here.
  const source = input.text
    ? { texts: createHash("sha256").update(JSON.stringify(input.text)).digest("hex") }
    : { path: input.input === "-" ? "standard input" : resolve(input.input) };
  const modelPath = model.info.path;
  const reading = {
    inputFormat: inputFormatOf(input),
    field: input.field,
    idField: input.idField,
    column: input.column,
    idColumn: input.idColumn,
    header: input.header,
    skipEmpty: input.skipEmpty,
    invalidUtf8: input.invalidUtf8,
  };
  return {
    command: run.command,
    format: run.format,
    input: source,
    model: {
      name: model.info.name,
      bytes: (await stat(modelPath)).size,
      head: await headDigest(modelPath, modelHeadBytes),
    },
    // Through JSON: undefined options are left out, as they are in the file.
    options: JSON.parse(JSON.stringify({ ...reading, ...run.embed })) as Record<string, unknown>,
  };
}

export function recordPath(output: string): string {
  return `${output}.meta.json`;
}

export async function readRunRecord(output: string): Promise<RunRecord | undefined> {
  const path = recordPath(output);
  const text = await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw new Error(`cannot read ${path}: ${error.message}`);
  });
  if (text === undefined) return undefined;
  let record: Partial<RunRecord>;
  try {
    record = JSON.parse(text) as Partial<RunRecord>;
  } catch {
    throw new Error(`${path} is not JSON: it is not a run record ctxembed wrote`);
  }
  if (record.version !== recordVersion || typeof record.identity !== "object")
    throw new Error(`${path} is not a run record this version of ctxembed reads`);
  return record as RunRecord;
}

/** Written beside and renamed over the old one, so that a crash never leaves half a record. */
export async function writeRunRecord(
  output: string,
  identity: RunIdentity,
  complete: boolean,
  results: number,
): Promise<void> {
  const path = recordPath(output);
  const record: RunRecord = { version: recordVersion, identity, complete, results };
  try {
    await writeFileAtomic(path, `${JSON.stringify(record, null, 2)}\n`);
  } catch (error) {
    throw new Error(`cannot write ${path}: ${(error as Error).message}`);
  }
}

function flatten(value: unknown, prefix: string, into: Map<string, unknown>): Map<string, unknown> {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}.${key}` : key, into);
  } else {
    into.set(prefix, value);
  }
  return into;
}

const show = (value: unknown): string => (value === undefined ? "(not set)" : JSON.stringify(value));

/** What differs between the identity an output was made with and this run's, one phrase per setting. */
export function identityDifferences(stored: RunIdentity, current: RunIdentity): string[] {
  const before = flatten(stored, "", new Map());
  const now = flatten(current, "", new Map());
  const keys = [...new Set([...before.keys(), ...now.keys()])];
  const phrases = keys
    .filter((key) => !isDeepStrictEqual(before.get(key), now.get(key)))
    .map((key) => {
      if (key === "model.head" || key === "model.bytes") return `the model file differs (${key})`;
      return `${key} was ${show(before.get(key))}, now ${show(now.get(key))}`;
    });
  return [...new Set(phrases)];
}

/**
 * Checks that `output` may be continued by a run of `identity`, and resolves to whether there is
 * anything to continue. An output without a record, or with another identity, is refused by name.
 */
export async function checkResumable(output: string, identity: RunIdentity): Promise<void> {
  const record = await readRunRecord(output);
  if (!record) {
    const exists = await stat(output).then(
      () => true,
      () => false,
    );
    if (exists)
      throw new Error(
        `cannot resume ${output}: it has no run record ${recordPath(output)}, so nothing says which input and settings made it; remove it or choose another --output`,
      );
    return;
  }
  const differences = identityDifferences(record.identity, identity);
  if (differences.length > 0)
    throw new Error(`cannot resume ${output}: it was made by another run: ${differences.join("; ")}`);
}

// What each result was made from. A run appends one line per chunk to <output>.meta.digests
// before writing the chunk's results: the SHA-256 of its records (index, id and text) and a short
// digest of each record. --resume re-reads the input up to the resume point (it reads it to skip
// those records anyway), checks every record against them, and names the first one that differs:
// a line deleted or edited before the resume point would otherwise shift every later result onto
// its neighbour's vector. The short digests only name the line; each chunk's SHA-256 is the check.

/** Hex characters of each record's own digest (32 bits): enough to name the line, 8 bytes of file per record. */
const recordDigestLength = 8;

interface DigestChunk {
  /** 0-based position of the chunk's first record in the input */
  from: number;
  count: number;
  sha256: string;
  /** each record's digest, recordDigestLength hex characters apiece */
  records: string;
}

export function digestsPath(output: string): string {
  return `${output}.meta.digests`;
}

function recordBytes(record: InputRecord): string {
  return `${JSON.stringify([record.index, record.id ?? null, record.text])}\n`;
}

function recordDigest(bytes: string): string {
  return createHash("sha256").update(bytes).digest("hex").slice(0, recordDigestLength);
}

function digestChunk(from: number, records: readonly InputRecord[]): DigestChunk {
  const chunk = createHash("sha256");
  let digests = "";
  for (const record of records) {
    const bytes = recordBytes(record);
    chunk.update(bytes);
    digests += recordDigest(bytes);
  }
  return { from, count: records.length, sha256: chunk.digest("hex"), records: digests };
}

const digestLine = (chunk: DigestChunk): string => `${JSON.stringify(chunk)}\n`;

async function readDigests(output: string): Promise<DigestChunk[] | undefined> {
  const path = digestsPath(output);
  const text = await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw new Error(`cannot read ${path}: ${error.message}`);
  });
  if (text === undefined) return undefined;
  // A crash while appending leaves a cut last line: the chunk it described was not written either.
  const chunks = parseJsonLines(text, path, { cutLastLine: true }).map(({ value }) => value as DigestChunk);
  return chunks;
}

/** A resumed run as InputDigests.resume checks it. */
export interface ResumedRun {
  output: string;
  /** results the output holds */
  done: number;
  /** the message when the input has fewer records than that */
  tooFew: (seen: number) => string;
  signal: AbortSignal;
}

/** The digests of a run's output: appended to as results are written, checked by a resumed run. */
export class InputDigests {
  private constructor(
    private readonly path: string,
    private next: number,
  ) {}

  /** A fresh run: an empty file. */
  static async start(output: string): Promise<InputDigests> {
    const digests = new InputDigests(digestsPath(output), 0);
    await writeFileAtomic(digests.path, "").catch((error: Error) => {
      throw new Error(`cannot write ${digests.path}: ${error.message}`);
    });
    return digests;
  }

  /** Records the chunk about to be written. */
  async append(records: readonly InputRecord[]): Promise<void> {
    if (records.length === 0) return;
    const chunk = digestChunk(this.next, records);
    this.next += records.length;
    await appendFile(this.path, digestLine(chunk)).catch((error: Error) => {
      throw new Error(`cannot write ${this.path}: ${error.message}`);
    });
  }

  /**
   * A resumed run: checks the first `done` records of `records` against the digests the output
   * was made with, refusing at the first record that differs, then yields the records after them.
   * The digests file is rewritten for exactly those `done` records before the first is yielded.
   */
  static async *resume(
    records: AsyncIterable<InputRecord>,
    run: ResumedRun,
    onDigests: (digests: InputDigests) => void,
  ): AsyncGenerator<InputRecord> {
    const { output, done } = run;
    const path = digestsPath(output);
    const chunks = done === 0 ? [] : await readDigests(output);
    const covered = chunks?.reduce((sum, chunk) => sum + chunk.count, 0) ?? 0;
    if (chunks === undefined || covered < done)
      throw new Error(
        `cannot resume ${output}: ${chunks === undefined ? `it has no ${path}` : `${path} covers ${covered} of its ${done} results`}, so nothing says which lines its results were made from; remove it or choose another --output`,
      );
    const refuse = (record: InputRecord): never => {
      throw new Error(
        `cannot resume ${output}: ${record.where} is not the line its result was made from (the input changed before the resume point, line ${done + 1}); restore the input or start again without --resume`,
      );
    };
    let position = 0;
    let chunkIndex = 0;
    let chunkHash: Hash = createHash("sha256");
    let chunkFirst: InputRecord | undefined;
    const kept: DigestChunk[] = [];
    let partial: InputRecord[] = [];
    let digests: InputDigests | undefined;
    const settle = async (): Promise<void> => {
      // The digests of exactly the records kept: whole chunks as they were, the last cut at `done`.
      const last = partial.length > 0 ? [digestChunk(done - partial.length, partial)] : [];
      const text = [...kept, ...last].map(digestLine).join("");
      await writeFileAtomic(path, text).catch((error: Error) => {
        throw new Error(`cannot write ${path}: ${error.message}`);
      });
      digests = new InputDigests(path, done);
      onDigests(digests);
    };
    if (done === 0) await settle();
    for await (const record of records) {
      if (position >= done) {
        yield record;
        continue;
      }
      const chunk = chunks[chunkIndex]!;
      const offset = position - chunk.from;
      const bytes = recordBytes(record);
      if (recordDigest(bytes) !== chunk.records.slice(offset * recordDigestLength, (offset + 1) * recordDigestLength))
        refuse(record);
      chunkFirst ??= record;
      chunkHash.update(bytes);
      partial.push(record);
      position++;
      if (offset + 1 === chunk.count) {
        // Every record's short digest matched; the chunk's SHA-256 settles what they cannot.
        if (chunkHash.digest("hex") !== chunk.sha256) refuse(chunkFirst);
        kept.push(chunk);
        chunkIndex++;
        chunkHash = createHash("sha256");
        chunkFirst = undefined;
        partial = [];
      }
      if (position === done) await settle();
    }
    if (position < done && !run.signal.aborted) throw new Error(run.tooFew(position));
  }
}
