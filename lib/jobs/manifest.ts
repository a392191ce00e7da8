// DIR/manifest.json, written by the parent job once every shard has been committed or has
// failed every attempt: the parts in input order with their line ranges, row counts and
// checksums, the failed shards with their errors, and what produced it all. It is written last
// (lib/util/atomic-file.ts), so a manifest that exists describes a finished job.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic-file.js";
import type { CommittedFile, CommittedPart, EmbedJobSpec, FailedShard, JobEmbedOptions, JobResult } from "./wire.js";

export const manifestFile = "manifest.json";

export interface ManifestPart extends CommittedFile {
  index: number;
  /** 0-based lines [first, end) of the input this part holds */
  lines: [number, number];
  rows: number;
  /** files beside the part (int8 scales, a raw sidecar) */
  beside?: CommittedFile[];
}

export interface Manifest {
  format: "ctxembed-embed-parts/1";
  job: string;
  /** every shard committed: `ctxembed merge` accepts only complete manifests */
  complete: boolean;
  input: EmbedJobSpec["input"];
  output: EmbedJobSpec["output"];
  model: { name: string; sha256: string; given: string };
  options: JobEmbedOptions;
  shardSize: number;
  rows: number;
  /** shards whose output has no file (every line of them skipped as empty, in a row format) appear with no name */
  parts: ManifestPart[];
  failed: FailedShard[];
}

/** Builds the manifest from the shards' results and failures; all parts must come from one model file. */
export function buildManifest(
  job: string,
  spec: EmbedJobSpec,
  committed: CommittedPart[],
  failed: FailedShard[],
): Manifest {
  const parts = [...committed].sort((a, b) => a.index - b.index);
  const models = new Map(parts.map((part) => [`${part.model.name} ${part.model.sha256}`, part.model]));
  if (models.size > 1) {
    throw new Error(
      `the shards of job ${job} were embedded with different model files (${[...models.keys()].join("; ")}): give every worker the same model`,
    );
  }
  const model = parts[0]?.model ?? { name: spec.model, sha256: "" };
  return {
    format: "ctxembed-embed-parts/1",
    job,
    complete: failed.length === 0 && parts.length === spec.shardCount,
    input: spec.input,
    output: spec.output,
    model: { ...model, given: spec.model },
    options: spec.options,
    shardSize: spec.shardSize,
    rows: parts.reduce((sum, part) => sum + part.rows, 0),
    parts: parts.map(({ index, lines, rows, files: [file, ...beside] }) => ({
      index,
      ...(file ?? { name: "", bytes: 0, sha256: "" }),
      lines,
      rows,
      ...(beside.length > 0 ? { beside } : {}),
    })),
    failed: [...failed].sort((a, b) => a.index - b.index),
  };
}

export async function writeManifest(directory: string, manifest: Manifest): Promise<JobResult> {
  const path = join(directory, manifestFile);
  await writeFileAtomic(path, `${JSON.stringify(manifest, null, 2)}\n`);
  return { manifest: path, parts: manifest.parts.length, rows: manifest.rows, failed: manifest.failed };
}

export async function readManifest(directory: string): Promise<Manifest> {
  const path = join(directory, manifestFile);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    throw new Error(
      missing
        ? `${directory} has no ${manifestFile}: its job has not finished (see ctxembed jobs status)`
        : `cannot read ${path}: ${(error as Error).message}`,
    );
  }
  const manifest = JSON.parse(text) as Manifest;
  if (manifest.format !== "ctxembed-embed-parts/1")
    throw new Error(`${path} is not a ctxembed parts manifest (format ${JSON.stringify(manifest.format)})`);
  return manifest;
}
