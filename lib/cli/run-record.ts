// What produced an output file, kept beside it in `<output>.meta.json`, so that --resume appends
// only to an output of the same input, model and settings, and so that a reader can tell a
// finished output from one a failure or interrupt left ("complete"). A sidecar rather than a
// first JSON line: JSON lines outputs stay plain (one result per line for jq, pandas or a line
// count), and .npy files stay loadable by NumPy, whose header has no room for anything else.
import { createHash } from "node:crypto";
import { open, readFile, rename, stat, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { isDeepStrictEqual } from "node:util";
import type { EmbedOptions } from "../embedding/embed-options.js";
import type { EmbeddingModel } from "../embedding/embedding-model.js";
import type { PromptRole } from "../prompts/prompting.js";
import { inputFormatOf, type InputOptions } from "./inputs.js";

const recordVersion = "ctxembed run record 1";
/** Enough of a file to tell it from another one without reading it all. */
const inputHeadBytes = 4096;
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
  const source = input.text
    ? { texts: createHash("sha256").update(JSON.stringify(input.text)).digest("hex") }
    : input.input === "-"
      ? { path: "standard input" }
      : { path: resolve(input.input), head: await headDigest(input.input, inputHeadBytes) };
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
    await writeFile(`${path}.partial`, `${JSON.stringify(record, null, 2)}\n`);
    await rename(`${path}.partial`, path);
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
      if (key === "input.head") return "the input's first bytes differ (another file, or the file changed)";
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
