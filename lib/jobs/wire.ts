// What a distributed embedding job is, as stored in Redis: one parent ("manifest") whose data
// says what to embed and where, one child per shard, and a "gate" child that holds the parent
// back until the submitter has added every shard. Ids are derived from the job's content, so
// that submitting the same job again finds the jobs already there instead of adding new ones.
import { createHash } from "node:crypto";
import type { EmbedOptions } from "../embedding/embed-options.js";
import type { Precision } from "../output/quantize.js";
import type { PromptOptions } from "../prompts/prompting.js";
import type { Demonstration } from "../prompts/templates.js";
import type { Shard } from "./shards.js";

/** The one BullMQ queue every job and worker of ctxembed uses (a Redis database can hold others). */
export const queueName = "ctxembed-embed";

export const jobNames = { manifest: "manifest", shard: "shard", gate: "gate" } as const;

/** How the workers read the input's lines (the CLI's input options that apply to line files). */
export interface ShardInputOptions {
  format: "text" | "jsonl";
  field: string;
  idField?: string;
  skipEmpty: boolean;
}

export type OutputFormat = "jsonl" | "npy" | "raw";

/** Retrieved demonstrations as JSON: each worker embeds the pool with its own model, once. */
export interface RetrievedExamples {
  pool: Demonstration[];
  k: number;
}

/** The library's embed options as a job carries them: JSON only, so a retrieval pool rather than a selector. */
export type JobEmbedOptions = Omit<EmbedOptions, "prompt"> & {
  prompt?: Omit<PromptOptions, "examples"> & { examples?: Demonstration[] | RetrievedExamples };
};

export interface EmbedJobSpec {
  input: { path: string; sha256: string; bytes: number; lines: number } & ShardInputOptions;
  output: { directory: string; format: OutputFormat; precision: Precision };
  /** a catalogue name or a GGUF path, as every worker will resolve it */
  model: string;
  options: JobEmbedOptions;
  shardSize: number;
  shardCount: number;
  /** inputs embedded together inside a shard */
  chunk: number;
}

export interface ShardJobData {
  spec: EmbedJobSpec;
  shard: Shard;
}

export interface CommittedFile {
  name: string;
  bytes: number;
  sha256: string;
}

/** What a shard job returns once its part is committed. */
export interface CommittedPart {
  index: number;
  /** the part and any file beside it (int8 scales, a raw sidecar), the part first */
  files: CommittedFile[];
  /** 0-based lines [first, end) of the input */
  lines: [number, number];
  rows: number;
  model: { name: string; sha256: string };
}

export interface FailedShard {
  index: number;
  lines: [number, number];
  error: string;
}

/** What the parent returns: the manifest's path and what is in it. */
export interface JobResult {
  manifest: string;
  parts: number;
  rows: number;
  failed: FailedShard[];
}

/** Content-derived: the same input bytes, options and output folder always give the same id. */
export function embedJobId(spec: Omit<EmbedJobSpec, "shardCount">): string {
  return `embed-${createHash("sha256").update(JSON.stringify(spec)).digest("hex").slice(0, 24)}`;
}

export function shardJobId(jobId: string, index: number): string {
  return `${jobId}-shard-${index}`;
}

export function gateJobId(jobId: string): string {
  return `${jobId}-gate`;
}

/** The shard index in a child's Redis key ("bull:QUEUE:JOBID-shard-42"), or undefined for the gate. */
export function shardIndexOfKey(key: string): number | undefined {
  const match = /-shard-(\d+)$/.exec(key);
  return match ? Number(match[1]) : undefined;
}

const partExtensions: Record<OutputFormat, string> = { jsonl: ".jsonl", npy: ".npy", raw: ".raw" };

/** part-00042.jsonl: five digits at least, more when the job has more shards, so names sort in input order. */
export function partName(spec: Pick<EmbedJobSpec, "output" | "shardCount">, index: number): string {
  const digits = Math.max(5, String(spec.shardCount - 1).length);
  return `part-${String(index).padStart(digits, "0")}${partExtensions[spec.output.format]}`;
}

/** part-00042.npy → part-00042.scales.npy: where an int8 part's scales are (as `embed` names them beside a file). */
export function scalesPartName(part: string): string {
  return part.replace(/(\.[^.]*)$/, ".scales$1");
}

export function lineRange(shard: Shard): [number, number] {
  return [shard.firstLine, shard.firstLine + shard.lines];
}

/** A shard's lines from its index: every shard but the last has exactly shardSize lines. */
export function shardLines(spec: Pick<EmbedJobSpec, "shardSize" | "input">, index: number): [number, number] {
  const first = index * spec.shardSize;
  return [first, Math.min(spec.input.lines, first + spec.shardSize)];
}
