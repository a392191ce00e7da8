// One shard's output on the shared filesystem. BullMQ runs a job at least once, so a shard may be
// embedded twice (a worker that died after writing, a lock that expired): the part is written in
// a temporary folder and renamed into place, extra files first and the part last, so that the
// part's name appearing means everything of it is there, and a second run leaves the same files.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { EmbedOptions } from "../embedding/embed-options.js";
import type { EmbeddingModel } from "../embedding/embedding-model.js";
import { NpyWriter } from "../output/npy.js";
import { RawWriter } from "../output/raw.js";
import type { DemonstrationSelector } from "../prompts/demonstrations.js";
import type { Shard } from "./shards.js";
import {
  lineRange,
  partName,
  type CommittedFile,
  type CommittedPart,
  type EmbedJobSpec,
  type JobEmbedOptions,
  type OutputFormat,
  type ShardJobData,
} from "./wire.js";

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const block of createReadStream(path) as AsyncIterable<Buffer>) hash.update(block);
  return hash.digest("hex");
}

async function describeFiles(directory: string, names: string[]): Promise<CommittedFile[]> {
  return Promise.all(
    names.map(async (name) => ({
      name,
      bytes: (await stat(join(directory, name))).size,
      sha256: await sha256OfFile(join(directory, name)),
    })),
  );
}

/** part-00042.npy and what its writer put beside it (part-00042.scales.npy, part-00042.raw.json), the part first. */
function partFiles(names: string[], part: string): string[] {
  const stem = part.slice(0, part.lastIndexOf("."));
  const beside = names.filter((name) => name !== part && name.startsWith(`${stem}.`) && !name.startsWith(".tmp"));
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
}

/**
 * Reads a shard's lines and writes their vectors as a part file, resolving to the rows written:
 * the host of the worker (the CLI) supplies it with its own input readers and output writers.
 */
export type PartWriter = (request: PartRequest) => Promise<number>;

export interface ShardOutcome {
  part: CommittedPart;
  /** the part was already committed by an earlier run of this shard */
  reused: boolean;
}

export async function embedShard(
  { spec, shard }: ShardJobData,
  { model, sha256 }: LoadedModel,
  writePart: PartWriter,
): Promise<ShardOutcome> {
  const directory = spec.output.directory;
  const part = partName(spec, shard.index);
  const described = async (files: string[], rows: number): Promise<CommittedPart> => ({
    index: shard.index,
    files: await describeFiles(directory, files),
    lines: lineRange(shard),
    rows,
    model: { name: model.info.name, sha256 },
  });

  const existing = partFiles(await readdir(directory), part);
  if (existing[0] === part)
    return {
      part: await described(existing, await committedRows(spec.output.format, join(directory, part))),
      reused: true,
    };

  const temporary = await mkdtemp(join(directory, `.tmp-${part}-`));
  try {
    const options = libraryEmbedOptions(spec.options, model);
    const rows = await writePart({ spec, shard, model, options, path: join(temporary, part) });
    const files = partFiles(await readdir(temporary), part);
    // The part's own name last: once it is there, so is everything beside it.
    for (const name of [...files.slice(1), ...files.slice(0, 1)])
      await rename(join(temporary, name), join(directory, name));
    return { part: await described(files, rows), reused: false };
  } finally {
    await rm(temporary, { recursive: true, force: true });
  }
}

/** Rows of a committed part: its lines (JSON lines) or the rows its header or sidecar describes. */
async function committedRows(format: OutputFormat, path: string): Promise<number> {
  if (format !== "jsonl") return (await (format === "npy" ? NpyWriter : RawWriter).stored(path))?.rows ?? 0;
  let lines = 0;
  for await (const block of createReadStream(path) as AsyncIterable<Buffer>)
    for (let at = block.indexOf(10); at >= 0; at = block.indexOf(10, at + 1)) lines++;
  return lines;
}
