// Submitting a distributed embedding job: scan the input into shards, then add a BullMQ flow: a
// parent that writes the manifest once all its children are done, one child per shard, and a
// delayed "gate" child that the submitter promotes only after every shard has been added, so
// the parent cannot finish early while a large job is still being added in batches. Every id is
// derived from the job's content: a second submit of the same job (after a crash half-way, or
// after it finished) finds its jobs in Redis and adds only what is missing, possibly nothing.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { FlowProducer, Job, Queue, type JobsOptions, type RedisOptions } from "bullmq";
import { Redis } from "ioredis";
import { scanShards } from "./shards.js";
import {
  embedJobId,
  gateJobId,
  jobNames,
  queueName,
  shardJobId,
  type EmbedJobSpec,
  type ShardJobData,
} from "./wire.js";

export type SubmitSpec = Omit<EmbedJobSpec, "input" | "shardCount"> & {
  input: Pick<EmbedJobSpec["input"], "path" | "format" | "field" | "idField" | "skipEmpty">;
};

export interface SubmitOptions {
  /** attempts per shard before it is marked failed */
  attempts: number;
  /** hears how the adding goes on a large job */
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
const jobClaimFile = "job.json";

/** Refuses an output folder that holds another job's parts; claims an empty one for this job. */
async function claimOutput(directory: string, id: string): Promise<void> {
  await mkdir(directory, { recursive: true });
  const path = join(directory, jobClaimFile);
  const claimed = await readFile(path, "utf8").then(
    (text) => (JSON.parse(text) as { job: string }).job,
    () => undefined,
  );
  if (claimed !== undefined && claimed !== id) {
    throw new Error(
      `--output ${directory} holds the parts of job ${claimed}, not of this one (${id}): choose another folder or empty it`,
    );
  }
  if (claimed === undefined) await writeFile(path, `${JSON.stringify({ job: id })}\n`);
}

export async function submitEmbedJob(
  connection: RedisOptions,
  given: SubmitSpec,
  options: SubmitOptions,
): Promise<Submitted> {
  const inputPath = resolve(given.input.path);
  const scanned = await scanShards(inputPath, given.shardSize);
  const input = { ...given.input, path: inputPath, sha256: scanned.sha256, bytes: scanned.bytes, lines: scanned.lines };
  const identity = { ...given, input, output: { ...given.output, directory: resolve(given.output.directory) } };
  const id = embedJobId(identity);
  const spec: EmbedJobSpec = { ...identity, shardCount: scanned.shards.length };
  if (spec.shardCount === 0) throw new Error(`${given.input.path} is empty: there is nothing to embed`);
  await claimOutput(spec.output.directory, id);

  const note = options.onProgress ?? (() => undefined);
  const queue = new Queue(queueName, { connection });
  const flows = new FlowProducer({ connection });
  const client = new Redis(connection);
  try {
    const existing = await Job.fromId(queue, id);
    const state = existing ? await existing.getState() : undefined;
    if (state === "completed" || state === "failed") return { id, spec, added: 0 };

    const retried: JobsOptions = { attempts: options.attempts, backoff: { type: "exponential", delay: 1000 } };
    await flows.add({
      name: jobNames.manifest,
      queueName,
      data: spec,
      opts: { jobId: id, ...retried },
      children: [{ name: jobNames.gate, queueName, data: {}, opts: { jobId: gateJobId(id), delay: gateDelay } }],
    });
    let added = 0;
    for (let first = 0; first < scanned.shards.length; first += batchSize) {
      const batch = scanned.shards.slice(first, first + batchSize);
      // Adding an existing id is a no-op in BullMQ; asking first tells how many are new.
      const exists = await client
        .pipeline(batch.map((shard) => ["exists", queue.toKey(shardJobId(id, shard.index))]))
        .exec();
      const missing = batch.filter((_, k) => exists?.[k]?.[1] === 0);
      await queue.addBulk(
        missing.map((shard) => ({
          name: jobNames.shard,
          data: { spec, shard } satisfies ShardJobData,
          // A shard that fails every attempt is recorded on the parent, which then goes on without it.
          opts: {
            jobId: shardJobId(id, shard.index),
            parent: { id, queue: queue.qualifiedName },
            ignoreDependencyOnFailure: true,
            ...retried,
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
