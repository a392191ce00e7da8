// Submitting a distributed embedding job: scan the input into shards, pin the model file by its
// sha256, write the shard table into the claimed output folder, then add a BullMQ flow: a parent
// that carries the spec (with the table's sha256) and writes the manifest once all its children
// are done, one child per shard carrying only its index, and a delayed
// "gate" child that the submitter promotes only after every shard has been added, so the parent
// cannot finish early while a large job is still being added in batches. Every id is derived from
// the job's content: a second submit of the same job (after a crash half-way, or after it
// finished) finds its jobs in Redis and adds only what is missing, possibly nothing.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { FlowProducer, Job, Queue, type JobsOptions, type RedisOptions } from "bullmq";
import { Redis } from "ioredis";
import { resolveModel } from "../hub/pull.js";
import { sha256File } from "../hub/wheel.js";
import { writeFileAtomic } from "../util/atomic-file.js";
import { encodeShardTable, scanShards, shardTableFile, type Shard } from "./shards.js";
import {
  cancelledKey,
  embedJobId,
  gateJobId,
  jobNames,
  parseJobSpec,
  protocolVersion,
  queueName,
  sha256Hex,
  shardJobId,
  softwareVersions,
  type EmbedJobSpec,
  type JobResult,
  type ShardJobData,
} from "./wire.js";

export type SubmitSpec = Omit<
  EmbedJobSpec,
  "input" | "shardCount" | "protocol" | "versions" | "modelSha256" | "maxLineBytes" | "shardTableSha256"
> & {
  input: Pick<EmbedJobSpec["input"], "path" | "format" | "field" | "idField" | "skipEmpty">;
};

/** Writes the shard table into the job's (claimed) output folder, whole or not at all; a retry writes the same bytes again. */
async function writeShardTable(directory: string, table: Buffer): Promise<void> {
  await writeFileAtomic(join(directory, shardTableFile), table);
}

export interface SubmitOptions {
  /** attempts per shard before it is marked failed */
  attempts: number;
  /** lines longer than this are refused, at submit and by the workers */
  maxLineBytes: number;
  /** hears how the adding goes on a large job, and a model pull */
  onProgress?: (message: string) => void;
}

export interface Submitted {
  id: string;
  spec: EmbedJobSpec;
  /** shard jobs this submit added (0 when the job was complete or all its shards were queued) */
  added: number;
}

/** Shards added per Redis round trip. */
const batchSize = 500;
/** "Never" for the gate, until the submitter promotes it (about 30 years in milliseconds). */
const gateDelay = 1e12;
export const jobClaimFile = "job.json";

/**
 * Claims an output folder for one job: the claim file is created exclusively (`wx`), so of two
 * submits racing for one folder exactly one claims it, and a folder that holds another job's
 * parts is refused.
 */
export async function claimOutput(directory: string, id: string): Promise<void> {
  await mkdir(directory, { recursive: true });
  const path = join(directory, jobClaimFile);
  const claimed = await writeFile(path, `${JSON.stringify({ job: id })}\n`, { flag: "wx" }).then(
    () => id,
    async (error: NodeJS.ErrnoException) => {
      if (error.code !== "EEXIST") throw error;
      const text = await readFile(path, "utf8");
      try {
        return String((JSON.parse(text) as { job: unknown }).job);
      } catch {
        throw new Error(`--output ${directory} has a ${jobClaimFile} that is not a job claim: choose another folder`);
      }
    },
  );
  if (claimed !== id) {
    throw new Error(
      `--output ${directory} holds the parts of job ${claimed}, not of this one (${id}): choose another folder or empty it`,
    );
  }
}

export async function submitEmbedJob(
  connection: RedisOptions,
  given: SubmitSpec,
  options: SubmitOptions,
): Promise<Submitted> {
  const note = options.onProgress ?? (() => undefined);
  const inputPath = resolve(given.input.path);
  const scanned = await scanShards(inputPath, given.shardSize, { maxLineBytes: options.maxLineBytes });
  if (scanned.shards.length === 0) throw new Error(`${given.input.path} is empty: there is nothing to embed`);
  const modelFile = await resolveModel(given.model, { onProgress: note });
  const table = encodeShardTable(scanned.shards);
  const spec = parseJobSpec(
    {
      ...given,
      protocol: protocolVersion,
      versions: softwareVersions,
      input: { ...given.input, path: inputPath, sha256: scanned.sha256, bytes: scanned.bytes, lines: scanned.lines },
      output: { ...given.output, directory: resolve(given.output.directory) },
      modelSha256: await sha256File(modelFile),
      maxLineBytes: options.maxLineBytes,
      shardCount: scanned.shards.length,
      shardTableSha256: sha256Hex(table),
    } satisfies EmbedJobSpec,
    "this submit",
  );
  const id = embedJobId(spec);
  await claimOutput(spec.output.directory, id);
  await writeShardTable(spec.output.directory, table);

  const queue = new Queue(queueName, { connection });
  try {
    const existing = await Job.fromId(queue, id);
    const state = existing ? await existing.getState() : undefined;
    if (state === "completed" || state === "failed") return { id, spec, added: 0 };
  } finally {
    await queue.close();
  }
  return addJob(connection, id, spec, scanned.shards, options);
}

/** Adds (or completes) the flow of a job: the parent with its spec, the gate, then every shard missing from Redis. */
async function addJob(
  connection: RedisOptions,
  id: string,
  spec: EmbedJobSpec,
  shards: Shard[],
  options: Pick<SubmitOptions, "attempts" | "onProgress">,
): Promise<Submitted> {
  const note = options.onProgress ?? (() => undefined);
  const queue = new Queue(queueName, { connection });
  const flows = new FlowProducer({ connection });
  const client = new Redis(connection);
  try {
    const retried: JobsOptions = { attempts: options.attempts, backoff: { type: "exponential", delay: 1000 } };
    // A shard's options are stored with each queued shard: no backoff (a retry runs at once, on
    // any worker), and attempts only where they differ from BullMQ's default of one.
    const shardRetries: JobsOptions = options.attempts > 1 ? { attempts: options.attempts } : {};
    // Submitting a job again after `jobs cancel` means it: the cancel mark goes.
    await client.del(queue.toKey(cancelledKey(id)));
    await flows.add({
      name: jobNames.manifest,
      queueName,
      data: spec,
      opts: { jobId: id, ...retried },
      children: [{ name: jobNames.gate, queueName, data: {}, opts: { jobId: gateJobId(id), delay: gateDelay } }],
    });
    let added = 0;
    for (let first = 0; first < shards.length; first += batchSize) {
      const batch = shards.slice(first, first + batchSize);
      // Adding an existing id is a no-op in BullMQ; asking first tells how many are new.
      const exists = await client
        .pipeline(batch.map((shard) => ["exists", queue.toKey(shardJobId(id, shard.index))]))
        .exec();
      const missing = batch.filter((_, k) => exists?.[k]?.[1] === 0);
      await queue.addBulk(
        missing.map((shard) => ({
          name: jobNames.shard,
          data: [protocolVersion, shard.index] satisfies ShardJobData,
          // A shard that fails every attempt is recorded on the parent, which then goes on without it.
          opts: {
            jobId: shardJobId(id, shard.index),
            parent: { id, queue: queue.qualifiedName },
            ignoreDependencyOnFailure: true,
            ...shardRetries,
          },
        })),
      );
      added += missing.length;
      if (spec.shardCount > batchSize) note(`job ${id}: ${first + batch.length} of ${spec.shardCount} shards queued`);
    }
    const gate = await Job.fromId(queue, gateJobId(id));
    if (gate && (await gate.getState()) === "delayed") await gate.promote();
    if (added < spec.shardCount)
      note(
        `job ${id}: ${spec.shardCount - added} of ${spec.shardCount} shards were already queued or done; added ${added}`,
      );
    return { id, spec, added };
  } finally {
    client.disconnect();
    await Promise.all([queue.close(), flows.close()]);
  }
}

/**
 * Runs a finished job's failed shards again: the job is added anew from its spec (the input must
 * still have the sha256 it had at submit), and every shard whose part is committed is adopted
 * from its provenance record instead of being embedded again.
 */
export async function retryEmbedJob(
  connection: RedisOptions,
  id: string,
  options: Pick<SubmitOptions, "onProgress">,
): Promise<Submitted> {
  const queue = new Queue(queueName, { connection });
  try {
    const parent = await Job.fromId<unknown, JobResult>(queue, id);
    if (!parent) throw new Error(`there is no job ${id} on ${queueName} in this Redis database`);
    const spec = parseJobSpec(parent.data, `job ${id}`);
    const state = await parent.getState();
    if (state !== "completed" && state !== "failed")
      throw new Error(`job ${id} is ${state}: only a finished job can be retried (jobs wait follows it until then)`);
    if (state === "completed" && parent.returnvalue?.failed.length === 0)
      throw new Error(`job ${id} is complete: every shard is committed, there is nothing to retry`);
    const attempts = parent.opts.attempts ?? 1;
    const scanned = await scanShards(spec.input.path, spec.shardSize, { maxLineBytes: spec.maxLineBytes });
    const table = encodeShardTable(scanned.shards);
    if (scanned.sha256 !== spec.input.sha256 || sha256Hex(table) !== spec.shardTableSha256)
      throw new Error(
        `${spec.input.path} changed after job ${id} was submitted: submit it as a new job, into another --output folder`,
      );
    await writeShardTable(spec.output.directory, table);
    await queue.remove(id, { removeChildren: true });
    return await addJob(connection, id, spec, scanned.shards, { attempts, onProgress: options.onProgress });
  } finally {
    await queue.close();
  }
}
