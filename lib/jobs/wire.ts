// What a distributed embedding job is, as stored in Redis: one parent ("manifest") whose data is
// the job's spec (what to embed, where, with which model file, and the sha256 of its shard table),
// one child per shard that carries only the protocol and its index, and a "gate" child that holds
// the parent back until the submitter has added every shard. Each shard's byte range and the
// sha256 of its bytes are in the shard table, a file the submitter writes once into the output
// folder (shards.ts): a queued shard then costs Redis only what BullMQ itself stores for a child
// job, under 1 KB with Redis's default settings. Ids are derived from the spec's canonical JSON, so
// that submitting the same job again finds the jobs already there instead of adding new ones.
//
// Redis is where anyone who can reach it can write: every worker parses what it takes with the
// schemas below and refuses, without running it, anything that does not fit them.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { isAbsolute } from "node:path";
import { configure } from "safe-stable-stringify";
import { z } from "zod";
import type { EmbedOptions } from "../embedding/embed-options.js";
import { precisions } from "../output/quantize-vectors.js";
import type { PromptOptions } from "../prompts/prompting.js";
import type { Demonstration } from "../prompts/templates.js";
import type { Shard } from "./shards.js";

/**
 * The one BullMQ queue every job and worker of ctxembed uses (a Redis database can hold others).
 * Short, because every queued shard repeats it four times (its key, its parent's key and queue
 * in its options and parent link): "ctxembed" cost 32 bytes more per queued shard than "ctx".
 */
export const queueName = "ctx";

export const jobNames = { manifest: "manifest", shard: "shard", gate: "gate" } as const;

/**
 * Bumped whenever a job's data changes meaning: a worker refuses a job of another protocol
 * rather than guessing (1 was the unversioned format that carried the whole spec in every shard,
 * 2 carried each shard's range and sha256 in its job; 3 moved them to the shard table, and the
 * queue to another name, so that workers of 2 never see its jobs).
 */
export const protocolVersion = 3;

const packageJson = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
  ctxembed: { llamaCppSource: string };
};

/** What produced a job's vectors besides the model: recorded in the spec, so another build makes another job. */
export const softwareVersions = {
  ctxembed: packageJson.version,
  llamaCpp: packageJson.ctxembed.llamaCppSource,
};

/** JSON with every object's keys sorted (RFC 8785's order for ASCII keys): the same value always gives the same text. */
const stableStringify = configure({ deterministic: true, strict: true, bigint: false, circularValue: Error });

export function canonicalJson(value: unknown): string {
  const text = stableStringify(value);
  if (text === undefined) throw new TypeError("a job's data must be a JSON value");
  return text;
}

export function sha256Hex(text: string | Buffer): string {
  return createHash("sha256").update(text).digest("hex");
}

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, "expected a sha256 in 64 lowercase hex digits");
const count = z.int().nonnegative();
const positive = z.int().positive();
const absolutePath = z
  .string()
  .min(1)
  .refine((path) => isAbsolute(path) && !path.includes("\0"), "expected an absolute path");

const demonstration = z.strictObject({ query: z.string(), response: z.string() });

const jobPromptSchema = z.strictObject({
  template: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
  role: z.enum(["query", "document"]).optional(),
  task: z.string().optional(),
  examples: z
    .union([z.array(demonstration), z.strictObject({ pool: z.array(demonstration).min(1), k: positive })])
    .optional(),
});

/** The embed options a job may carry: the library checks their values again when it embeds. */
const jobEmbedOptionsSchema = z.strictObject({
  pooling: z.enum(["model", "mean", "cls", "last", "max", "weighted-mean", "none"]).optional(),
  normalize: z.boolean().optional(),
  truncate: z.boolean().optional(),
  layers: z.union([z.int(), z.string(), z.array(z.union([z.int(), z.string()]))]).optional(),
  window: z
    .union([z.boolean(), z.strictObject({ size: positive.optional(), stride: positive.optional() }).loose()])
    .optional(),
  dimensions: positive.optional(),
  precision: z.enum(precisions).optional(),
  prompt: jobPromptSchema.optional(),
});

export const outputFormats = ["jsonl", "npy", "raw"] as const;
export type OutputFormat = (typeof outputFormats)[number];

export const embedJobSpecSchema = z.strictObject({
  protocol: z.literal(protocolVersion),
  versions: z.strictObject({ ctxembed: z.string(), llamaCpp: z.string() }),
  input: z.strictObject({
    path: absolutePath,
    sha256,
    bytes: count,
    lines: count,
    format: z.enum(["text", "jsonl"]),
    field: z.string().min(1),
    idField: z.string().min(1).optional(),
    skipEmpty: z.boolean(),
  }),
  output: z.strictObject({
    directory: absolutePath,
    format: z.enum(outputFormats),
    precision: z.enum(precisions),
  }),
  /** a catalogue name or an absolute GGUF path, as every worker will resolve it */
  model: z
    .string()
    .regex(/^(\/.+|[a-z0-9][a-z0-9._-]*(:[a-z0-9_]+)?)$/, "expected a catalogue name or an absolute path"),
  /** the sha256 of the model file the submitter resolved: a worker with another file refuses the job */
  modelSha256: sha256,
  options: jobEmbedOptionsSchema,
  shardSize: positive,
  shardCount: positive,
  /** inputs embedded together inside a shard */
  chunk: positive,
  /** lines longer than this are refused, not read */
  maxLineBytes: positive,
  /** the sha256 of the shard table the submitter wrote into the output folder: a table of other bytes is refused */
  shardTableSha256: sha256,
});

/**
 * All a shard job carries: the protocol and its index, as a two-item array (a queued shard's data
 * is one of the values Redis keeps per shard, so it is kept to a few bytes). Where the shard lies
 * in the input is in the shard table.
 */
export const shardJobSchema = z.tuple([z.literal(protocolVersion), count]);

export type ShardJobData = z.infer<typeof shardJobSchema>;

/** Retrieved demonstrations as JSON: each worker embeds the pool with its own model, once. */
export interface RetrievedExamples {
  pool: Demonstration[];
  k: number;
}

/** The library's embed options as a job carries them: JSON only, so a retrieval pool rather than a selector. */
export type JobEmbedOptions = Omit<EmbedOptions, "prompt" | "tokens" | "spanPooling"> & {
  prompt?: Omit<PromptOptions, "examples"> & { examples?: Demonstration[] | RetrievedExamples };
};

export type EmbedJobSpec = Omit<z.infer<typeof embedJobSpecSchema>, "options"> & { options: JobEmbedOptions };

export type ShardInputOptions = Pick<EmbedJobSpec["input"], "format" | "field" | "idField" | "skipEmpty">;

/** A job's data that does not fit its schema: never run, and not worth retrying. */
export class JobDataError extends Error {
  constructor(what: string, error: z.ZodError) {
    super(
      `refusing ${what}: its data is not a ctxembed job of protocol ${protocolVersion}: ${z.prettifyError(error).replaceAll("\n", "; ")}`,
    );
    this.name = "JobDataError";
  }
}

export function parseJobSpec(data: unknown, what = "the job"): EmbedJobSpec {
  const parsed = embedJobSpecSchema.safeParse(data);
  if (!parsed.success) throw new JobDataError(what, parsed.error);
  return parsed.data as EmbedJobSpec;
}

/** A shard job's index, checked against its parent's spec: it must name one of the job's shards. */
export function parseShardJob(data: unknown, spec: Pick<EmbedJobSpec, "shardCount">, what = "the shard"): number {
  const parsed = shardJobSchema.safeParse(data);
  if (!parsed.success) throw new JobDataError(what, parsed.error);
  const [, index] = parsed.data;
  if (index >= spec.shardCount)
    throw new Error(`refusing ${what}: index ${index} is not below the job's ${spec.shardCount} shards`);
  return index;
}

export interface CommittedFile {
  name: string;
  bytes: number;
  sha256: string;
}

/** What a shard job returns once its part is committed: its provenance record. */
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

/** The part of a spec that names a job: everything but what the scan derives from the rest. */
export type JobIdentity = Omit<EmbedJobSpec, "shardCount" | "shardTableSha256">;

/**
 * Content-derived: the same input bytes, options, model file and output folder always give the
 * same id, whatever the key order. 64 bits of the hash after an "e": every shard's Redis key,
 * options and parent link repeat the id, so each character costs about 5 bytes per queued shard.
 */
export function embedJobId(spec: JobIdentity & { shardCount?: number; shardTableSha256?: string }): string {
  const { shardCount: _count, shardTableSha256: _table, ...identity } = spec;
  return `e${sha256Hex(canonicalJson(identity)).slice(0, 16)}`;
}

/** The spec's own hash: a part's provenance names it, so a part is reused only by the job that made it. */
export function specHash(spec: EmbedJobSpec): string {
  return sha256Hex(canonicalJson(spec));
}

export function shardJobId(jobId: string, index: number): string {
  return `${jobId}-${index}`;
}

/** The Redis key (under the queue's prefix) that tells workers a job was cancelled: they drop its shards at the next chunk. */
export function cancelledKey(jobId: string): string {
  return `${jobId}:cancelled`;
}

export function gateJobId(jobId: string): string {
  return `${jobId}-gate`;
}

/** The shard index in a child's Redis key ("bull:QUEUE:JOBID-42"), or undefined for the gate. */
export function shardIndexOfKey(key: string): number | undefined {
  const match = /-(\d+)$/.exec(key);
  return match ? Number(match[1]) : undefined;
}

const partExtensions: Record<OutputFormat, string> = { jsonl: ".jsonl", npy: ".npy", raw: ".raw" };

/** part-00042.jsonl: five digits at least, more when the job has more shards, so names sort in input order. */
export function partName(spec: Pick<EmbedJobSpec, "output" | "shardCount">, index: number): string {
  const digits = Math.max(5, String(spec.shardCount - 1).length);
  return `part-${String(index).padStart(digits, "0")}${partExtensions[spec.output.format]}`;
}

/** Every name a job writes into its folder matches this: nothing else is ever read or written there. */
export const partFilePattern = /^part-\d{5,}(\.scales)?\.(jsonl|npy|raw)(\.json)?$|^part-\d{5,}\.provenance\.json$/;

/** part-00042.npy → part-00042.scales.npy: where an int8 part's scales are (as `embed` names them beside a file). */
export function scalesPartName(part: string): string {
  return part.replace(/(\.[^.]*)$/, ".scales$1");
}

/** part-00042.jsonl → part-00042.provenance.json: the record that says which job, spec and model made the part. */
export function provenanceName(part: string): string {
  return part.replace(/\.[^.]*$/, ".provenance.json");
}

export function lineRange(shard: Pick<Shard, "firstLine" | "lines">): [number, number] {
  return [shard.firstLine, shard.firstLine + shard.lines];
}

/** A shard's lines from its index: every shard but the last has exactly shardSize lines. */
export function shardLines(spec: Pick<EmbedJobSpec, "shardSize" | "input">, index: number): [number, number] {
  const first = index * spec.shardSize;
  return [first, Math.min(spec.input.lines, first + spec.shardSize)];
}
