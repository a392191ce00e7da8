// The state of a submitted job, read from its parent in Redis: shards done, waiting and failed
// (with their line ranges and errors), and, once the parent has run, the manifest it wrote.
// `wait` polls it, drawing progress on stderr, until the job has finished.
import { Job, Queue, type RedisOptions } from "bullmq";
import type { Redis } from "ioredis";
import {
  cancelledKey,
  gateJobId,
  parseJobSpec,
  queueName,
  shardIndexOfKey,
  shardLines,
  type FailedShard,
  type JobResult,
} from "./wire.js";

export interface JobStatus {
  id: string;
  /** BullMQ's state of the parent: waiting-children while shards run, completed once the manifest is written */
  state: string;
  /** pending: added and not finished; notAdded: never added to Redis (the submitter stopped half-way) */
  shards: { total: number; done: number; failed: number; pending: number; notAdded: number };
  texts: { total: number; done: number };
  failed: FailedShard[];
  output: string;
  result?: JobResult;
  /** why the parent itself failed (the manifest could not be written) */
  error?: string;
}

async function parentJob(queue: Queue, id: string): Promise<Job<unknown, JobResult>> {
  const job = await Job.fromId<unknown, JobResult>(queue, id);
  if (!job) throw new Error(`there is no job ${id} on ${queueName} in this Redis database`);
  return job;
}

export async function jobStatus(queue: Queue, id: string): Promise<JobStatus> {
  // The state before the job: a job read after its state says completed carries its manifest
  // (the other way round, one that completes between the two reads looks completed without it).
  const state = await queue.getJobState(id);
  const job = await parentJob(queue, id);
  const spec = parseJobSpec(job.data, `job ${id}`);
  const counts = await job.getDependenciesCount();
  const failures = await job.getIgnoredChildrenFailures();
  const failed = Object.entries(failures).map(([key, error]): FailedShard => {
    const index = shardIndexOfKey(key)!;
    return { index, lines: shardLines(spec, index), error };
  });
  // The gate is a child too; it counts as processed once the submitter has added every shard.
  const gate = await Job.fromId(queue, gateJobId(id));
  const gateDone = state === "completed" || (gate ? await gate.isCompleted() : false);
  const done = Math.max(0, (counts.processed ?? 0) - (gateDone ? 1 : 0));
  // Every child the parent knows of, less the gate: the shards the submitter has added so far.
  const added = (counts.processed ?? 0) + (counts.unprocessed ?? 0) + (counts.ignored ?? 0) + (counts.failed ?? 0) - 1;
  // Every shard but the last has shardSize lines, so the text count is exact up to the last shard.
  const textsDone = Math.min(spec.input.lines, done * spec.shardSize);
  return {
    id,
    state,
    shards: {
      total: spec.shardCount,
      done,
      failed: failed.length,
      pending: Math.max(0, added - done - failed.length),
      notAdded: state === "completed" ? 0 : Math.max(0, spec.shardCount - added),
    },
    texts: { total: spec.input.lines, done: textsDone },
    failed: failed.sort((a, b) => a.index - b.index),
    output: spec.output.directory,
    ...(job.returnvalue ? { result: job.returnvalue } : {}),
    ...(state === "failed" ? { error: job.failedReason } : {}),
  };
}

export function describeFailure({ index, lines: [first, end], error }: FailedShard): string {
  return `shard ${index} (lines ${first + 1}-${end}): ${error}`;
}

/** How often `wait` reads the job. */
const pollMs = 1000;
/** A job still missing shards that nobody has added for this long has lost its submitter. */
const submitterGoneMs = 30_000;

export interface WaitOptions {
  /** hears every reading of the job's state until it finishes */
  onStatus?: (status: JobStatus) => void;
  /** how long shards may stay missing before the submitter counts as gone (default 30 s) */
  submitterGoneMs?: number;
}

/** Waits for the job to finish; throws naming the shards that failed. */
export async function waitForJob(connection: RedisOptions, id: string, options: WaitOptions = {}): Promise<JobResult> {
  const queue = new Queue(queueName, { connection });
  let missing = { count: -1, since: performance.now() };
  try {
    for (;;) {
      const status = await jobStatus(queue, id);
      options.onStatus?.(status);
      const { notAdded, total } = status.shards;
      if (notAdded !== missing.count) missing = { count: notAdded, since: performance.now() };
      else if (notAdded > 0 && performance.now() - missing.since > (options.submitterGoneMs ?? submitterGoneMs))
        throw new Error(
          `job ${id}: ${notAdded} of its ${total} shards were never added, and none has been for ${Math.round((performance.now() - missing.since) / 1000)} s: its submitter stopped half-way; run the same submit command again to add them`,
        );
      if (status.state === "completed" || status.state === "failed") {
        if (status.state === "failed" || !status.result)
          throw new Error(`job ${id} could not write its manifest: ${status.error ?? "unknown error"}`);
        const { result } = status;
        if (result.failed.length > 0) {
          throw new Error(
            `job ${id}: ${result.failed.length} of ${status.shards.total} shards failed every attempt: ${result.failed.map(describeFailure).join("; ")} (listed in ${result.manifest})`,
          );
        }
        return result;
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  } finally {
    await queue.close();
  }
}

export interface Cancelled {
  /** shard jobs the job had in Redis when it was cancelled */
  shards: number;
  /** of those, running when it was cancelled (their workers dropped them at their next chunk) */
  running: number;
}

/** How long a cancel waits for the workers to drop the shards they hold. */
const cancelTimeoutMs = 120_000;

/**
 * Marks the job cancelled (workers check it at every chunk and drop its shards), then removes
 * the parent with every shard as soon as no shard is held by a worker. Committed parts stay.
 */
export async function cancelJob(queue: Queue, client: Redis, id: string): Promise<Cancelled> {
  const parent = await parentJob(queue, id);
  await client.set(queue.toKey(cancelledKey(id)), "1", "EX", 7 * 24 * 3600);
  const counts = await parent.getDependenciesCount();
  const shards = Math.max(0, (counts.processed ?? 0) + (counts.unprocessed ?? 0) + (counts.ignored ?? 0) - 1);
  let running = 0;
  const started = performance.now();
  for (;;) {
    if ((await queue.remove(id, { removeChildren: true })) > 0) return { shards, running };
    running = Math.max(running, await queue.getActiveCount());
    if (performance.now() - started > cancelTimeoutMs)
      throw new Error(
        `job ${id} is marked cancelled, but a worker still holds one of its shards after ${cancelTimeoutMs / 1000} s: run jobs cancel again once it ends`,
      );
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
