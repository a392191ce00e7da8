// One shard's output on the shared filesystem. BullMQ runs a job at least once, so a shard may be
// embedded twice (a worker that died after writing, a lock that lapsed, a worker stopped and
// resumed): its files are written in a temporary folder, hashed, and linked into place without
// replacing anything (a link fails on an existing name), extra files first, the part next and its
// provenance record last. The provenance record (job, spec hash, model sha256, line range, rows,
// files with their sha256) appearing is the commit: a second run that finds it adopts it once it
// has checked it against its own job and the files on disk, and never writes over what the first
// committed. A part whose record names another job, spec or model is never reused.
//
// Every run of a part writes in a folder of its own inside the part's runs folder
// (.ctxembed-partial-part-00042.jsonl/PID-RANDOM): the run that takes the shard holds its lock,
// so any other run folder there is what a killed or lapsed run left, and goes; finding them reads
// that one small folder, never the output folder with its thousands of parts.
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { link, mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { UnrecoverableError } from "bullmq";
import type { EmbedOptions } from "../embedding/embed-options.js";
import type { EmbeddingModel } from "../embedding/embedding-model.js";
import type { Shard } from "./shards.js";
import { sha256File } from "../hub/wheel.js";
import type { DemonstrationSelector } from "../prompts/demonstrations.js";
import { syncDirectory, temporaryPrefix } from "../util/atomic-file.js";
import {
  canonicalJson,
  lineRange,
  partName,
  provenanceName,
  specHash,
  type CommittedFile,
  type CommittedPart,
  type EmbedJobSpec,
  type JobEmbedOptions,
} from "./wire.js";

/**
 * The files of a part with their sizes and sha256: the hash its writer took from the bytes as it
 * wrote them where it took one (the file is then never read back; only its size is checked
 * against the bytes hashed), else read from the disk. Either is the hash of the whole file.
 */
async function describeFiles(
  directory: string,
  names: string[],
  hashed: WrittenPart["hashed"] = {},
): Promise<CommittedFile[]> {
  return Promise.all(
    names.map(async (name) => {
      const path = join(directory, name);
      const bytes = (await stat(path)).size;
      const written = hashed[name];
      if (!written) return { name, bytes, sha256: await sha256File(path) };
      if (written.bytes !== bytes)
        throw new Error(
          `${name} holds ${bytes} bytes, but its writer hashed ${written.bytes}: it is not what was written`,
        );
      return { name, bytes, sha256: written.sha256 };
    }),
  );
}

/** part-00042.npy and what its writer put beside it (part-00042.scales.npy, part-00042.raw.json), the part first. */
function partFiles(names: string[], part: string): string[] {
  const stem = part.slice(0, part.lastIndexOf("."));
  const beside = names.filter((name) => name !== part && name.startsWith(`${stem}.`));
  return names.includes(part) ? [part, ...beside.sort()] : beside.sort();
}

const selectors = new WeakMap<EmbeddingModel, Map<string, DemonstrationSelector>>();

/**
 * The library's options for a job's: a retrieval pool becomes a selector over this worker's
 * model, made once per model and pool, so the pool is embedded once however many shards use it.
 */
export function libraryEmbedOptions(options: JobEmbedOptions, model: EmbeddingModel): EmbedOptions {
  const { prompt, ...rest } = options;
  if (prompt === undefined) return rest;
  const { examples, ...shape } = prompt;
  if (examples === undefined || Array.isArray(examples))
    return { ...rest, prompt: { ...shape, ...(examples ? { examples } : {}) } };
  const byPool = selectors.get(model) ?? new Map<string, DemonstrationSelector>();
  selectors.set(model, byPool);
  const key = JSON.stringify(examples.pool);
  let selector = byPool.get(key);
  if (!selector) {
    selector = model.demonstrationSelector(examples.pool);
    byPool.set(key, selector);
  }
  return { ...rest, prompt: { ...shape, examples: { selector, k: examples.k } } };
}

export interface LoadedModel {
  model: EmbeddingModel;
  sha256: string;
}

export interface PartRequest {
  spec: EmbedJobSpec;
  shard: Shard;
  model: EmbeddingModel;
  options: EmbedOptions;
  /** where the part goes (in a temporary folder): files of its format beside it go next to it */
  path: string;
  /** aborted when the job is cancelled: stop reading, the part is thrown away */
  signal: AbortSignal;
}

/** What a part writer wrote: its rows, and the files it hashed as it wrote them, by name. */
export interface WrittenPart {
  rows: number;
  hashed?: Record<string, { bytes: number; sha256: string }>;
}

/**
 * Reads a shard's lines and writes their vectors as a part file: the host of the worker (the
 * CLI) supplies it with its own input readers and output writers.
 */
export type PartWriter = (request: PartRequest) => Promise<WrittenPart>;

/** What a part's sha256 is of, said in each record: `merge` and `index build --from` check the same. */
export const partHashCovers = "every byte of each file, header and sidecar included, as sha256sum reads it";

/** A part's provenance record, `part-00042.provenance.json` beside it. */
export interface Provenance extends CommittedPart {
  job: string;
  spec: string;
  sha256Of: typeof partHashCovers;
}

export interface ShardOutcome {
  part: CommittedPart;
  /** the part was already committed by an earlier run of this shard */
  reused: boolean;
  /** run folders of earlier runs of this shard (killed workers, lapsed locks) removed */
  removedRuns: number;
}

/** Where the runs of one part write, each in a folder of its own; merge removes what is left (its name has the temporary prefix). */
export function partRunsFolder(directory: string, part: string): string {
  return join(directory, `${temporaryPrefix}${part}`);
}

/**
 * Removes every run folder of a part: called by the run that holds the shard's lock before it
 * makes its own, so none of them is a live run's (a run stopped past its lock and resumed finds
 * its folder gone and fails; the lock check before the commit would stop it anyway).
 */
async function removeEarlierRuns(runs: string): Promise<number> {
  const names = await readdir(runs).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw error;
  });
  for (const name of names) await rm(join(runs, name), { recursive: true, force: true });
  return names.length;
}

/** What makes a part this shard's: another job, spec, model or range is a part that must not be reused. */
export function provenanceMismatch(
  found: Pick<Provenance, "job" | "spec" | "model" | "lines" | "index">,
  expected: Pick<Provenance, "job" | "spec" | "lines" | "index"> & { modelSha256: string },
): string | undefined {
  if (found.job !== expected.job) return `it was made by job ${found.job}, not by this job (${expected.job})`;
  if (found.spec !== expected.spec) return "it was made with another spec of this job id";
  if (found.index !== expected.index || canonicalJson(found.lines) !== canonicalJson(expected.lines))
    return `it holds shard ${found.index} (lines ${found.lines[0] + 1}-${found.lines[1]}), not shard ${expected.index}`;
  if (found.model.sha256 !== expected.modelSha256)
    return `it was embedded with model file sha256 ${found.model.sha256}, not the job's ${expected.modelSha256}`;
  return undefined;
}

async function readProvenance(path: string): Promise<Provenance | undefined> {
  const text = await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as Provenance;
  } catch {
    throw new UnrecoverableError(`${path} is not a provenance record: remove it and the part beside it`);
  }
}

/** Refuses a committed part whose record is not this shard's, or whose files changed since they were committed. */
async function checkCommitted(
  directory: string,
  part: string,
  record: Provenance,
  expected: Provenance,
): Promise<void> {
  const mismatch = provenanceMismatch(record, { ...expected, modelSha256: expected.model.sha256 });
  if (mismatch)
    throw new UnrecoverableError(
      `${join(directory, part)} cannot be reused: ${mismatch}; empty ${directory} or choose another --output`,
    );
  for (const file of record.files) {
    const path = join(directory, file.name);
    const found = await sha256File(path).catch(() => "missing");
    if (found !== file.sha256)
      throw new UnrecoverableError(
        `${path} does not match its provenance record (sha256 ${found}, recorded ${file.sha256}): it changed after it was committed`,
      );
  }
}

/**
 * Links `from` to `to` unless `to` exists: true when `to` now holds these bytes. An existing `to`
 * of other bytes is replaced only while no provenance record is there (`recorded` false): then it
 * is what a run that died between its links left, which nothing refers to. Never deleted first,
 * so a run stopped and resumed long after another committed cannot take a committed file away.
 */
async function linkOnce(from: string, to: string, sha256: string, recorded: () => Promise<boolean>): Promise<boolean> {
  try {
    await link(from, to);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  if ((await sha256File(to).catch(() => "")) === sha256) return true;
  if (await recorded()) return false;
  await rename(from, to);
  return true;
}

export interface CommitHooks {
  /** called once the part is written, before anything is linked into place: a lost lock stops the commit */
  beforeCommit?: () => Promise<void>;
  /** aborted when the job is cancelled */
  signal?: AbortSignal;
}

export async function embedShard(
  spec: EmbedJobSpec,
  jobId: string,
  shard: Shard,
  { model, sha256 }: LoadedModel,
  writePart: PartWriter,
  hooks: CommitHooks = {},
): Promise<ShardOutcome> {
  const directory = spec.output.directory;
  const part = partName(spec, shard.index);
  const recordPath = join(directory, provenanceName(part));
  const expected: Provenance = {
    job: jobId,
    spec: specHash(spec),
    index: shard.index,
    files: [],
    lines: lineRange(shard),
    rows: 0,
    model: { name: model.info.name, sha256 },
    sha256Of: partHashCovers,
  };

  const runs = partRunsFolder(directory, part);
  const removedRuns = await removeEarlierRuns(runs);
  const existing = await readProvenance(recordPath);
  if (existing) {
    await checkCommitted(directory, part, existing, expected);
    await rmdir(runs).catch(() => undefined);
    return { part: committedPart(existing), reused: true, removedRuns };
  }
  const temporary = join(runs, `${process.pid}-${randomBytes(6).toString("hex")}`);
  await mkdir(temporary, { recursive: true });
  try {
    const options = libraryEmbedOptions(spec.options, model);
    const signal = hooks.signal ?? new AbortController().signal;
    const { rows, hashed } = await writePart({ spec, shard, model, options, path: join(temporary, part), signal });
    if (signal.aborted) throw new UnrecoverableError(`job ${jobId} was cancelled: shard ${shard.index} dropped`);
    if (rows !== shard.lines && !spec.input.skipEmpty)
      throw new UnrecoverableError(
        `shard ${shard.index} has ${shard.lines} lines at submit but ${rows} rows were read: the input changed after submit`,
      );
    const files = partFiles(await readdir(temporary), part);
    const record: Provenance = { ...expected, files: await describeFiles(temporary, files, hashed), rows };
    await hooks.beforeCommit?.();
    // The part's own name after the files beside it, the record last: once it is there, so is everything it lists.
    let clean = true;
    for (const file of [...record.files.slice(1), ...record.files.slice(0, 1)])
      clean =
        clean &&
        (await linkOnce(join(temporary, file.name), join(directory, file.name), file.sha256, async () =>
          Boolean(await readProvenance(recordPath)),
        ));
    let recorded = false;
    if (clean) {
      const recordTemporary = join(temporary, provenanceName(part));
      await writeFile(recordTemporary, `${JSON.stringify(record, null, 2)}\n`, { flag: "wx" });
      recorded = await link(recordTemporary, recordPath).then(
        () => true,
        (error: NodeJS.ErrnoException) => {
          if (error.code !== "EEXIST") throw error;
          return false;
        },
      );
      await syncDirectory(directory);
    }
    // This run's record is the commit and lists the hashes of its files: nothing to read again.
    if (recorded) return { part: committedPart(record), reused: false, removedRuns };
    // Another run committed first (or left files of other bytes): its record, when it is there, is the part.
    const committed = await readProvenance(recordPath);
    if (!committed) throw new Error(`${part}: its provenance record is missing after the commit`);
    await checkCommitted(directory, part, committed, expected);
    return { part: committedPart(committed), reused: true, removedRuns };
  } finally {
    await rm(temporary, { recursive: true, force: true });
    // Not empty while another run of the shard is there (one that lost its lock): the next taker removes it.
    await rmdir(runs).catch(() => undefined);
  }
}

function committedPart({ index, files, lines, rows, model }: Provenance): CommittedPart {
  return { index, files, lines, rows, model };
}

/** Lines of a file (JSON lines rows). */
export async function countLines(path: string): Promise<number> {
  let lines = 0;
  for await (const block of createReadStream(path) as AsyncIterable<Buffer>)
    for (let at = block.indexOf(10); at >= 0; at = block.indexOf(10, at + 1)) lines++;
  return lines;
}
