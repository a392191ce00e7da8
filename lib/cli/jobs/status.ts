// The state of a submitted job, read from its parent in Redis: shards done, waiting and failed
// (with their line ranges and errors), and, once the parent has run, the manifest it wrote.
// `wait` polls it, drawing progress on stderr, until the job has finished.
import { Job, Queue, type RedisOptions } from "bullmq";
import { ExitError, formatDuration, note, ProgressLine } from "../terminal.js";
import {
  gateJobId,
  queueName,
  shardIndexOfKey,
  shardLines,
  type EmbedJobSpec,
  type FailedShard,
  type JobResult,
} from "./spec.js";

export interface JobStatus {
  id: string;
  /** BullMQ's state of the parent: waiting-children while shards run, completed once the manifest is written */
  state: string;
  shards: { total: number; done: number; failed: number; pending: number };
  texts: { total: number; done: number };
  failed: FailedShard[];
  output: string;
  result?: JobResult;
  /** why the parent itself failed (the manifest could not be written) */
  error?: string;
}

async function parentJob(queue: Queue, id: string): Promise<Job<EmbedJobSpec, JobResult>> {
  const job = await Job.fromId<EmbedJobSpec, JobResult>(queue, id);
  if (!job) throw new Error(`there is no job ${id} on ${queueName} in this Redis database`);
  return job;
}

export async function jobStatus(queue: Queue, id: string): Promise<JobStatus> {
  const job = await parentJob(queue, id);
  const spec = job.data;
  const state = await job.getState();
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
  // Every shard but the last has shardSize lines, so the text count is exact up to the last shard.
  const textsDone = Math.min(spec.input.lines, done * spec.shardSize);
  return {
    id,
    state,
    shards: {
      total: spec.shardCount,
      done,
      failed: failed.length,
      pending: Math.max(0, spec.shardCount - done - failed.length),
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

function progressText(status: JobStatus, rate: number): string {
  const { shards, texts } = status;
  const parts = [
    `${shards.done}/${shards.total} shards`,
    `${texts.done.toLocaleString("en-US")}/${texts.total.toLocaleString("en-US")} texts`,
  ];
  if (rate > 0)
    parts.push(
      `${Math.round(rate).toLocaleString("en-US")} texts/s`,
      `ETA ${formatDuration((texts.total - texts.done) / rate)}`,
    );
  if (shards.failed > 0) parts.push(`${shards.failed} failed`);
  return `ctxembed: job ${status.id} · ${parts.join(" · ")}`;
}

/** How often `wait` reads the job, and how often it writes a progress line when stderr is not a terminal. */
const pollMs = 1000;
const logEveryMs = 10_000;

/** Waits for the job to finish, with progress on stderr; throws (exit 1) naming the shards that failed. */
export async function waitForJob(connection: RedisOptions, id: string): Promise<JobResult> {
  const queue = new Queue(queueName, { connection });
  const progress = new ProgressLine();
  const live = process.stderr.isTTY === true;
  try {
    const first = await jobStatus(queue, id);
    const started = performance.now();
    let lastLog = started;
    const reported = new Set<number>();
    for (let status = first; ; status = await jobStatus(queue, id)) {
      for (const failure of status.failed)
        if (!reported.has(failure.index) && reported.add(failure.index))
          note(`failed every attempt: ${describeFailure(failure)}`);
      const rate = (status.texts.done - first.texts.done) / ((performance.now() - started) / 1000);
      if (status.state === "completed" || status.state === "failed") {
        progress.clear();
        if (status.state === "failed" || !status.result)
          throw new Error(`job ${id} could not write its manifest: ${status.error ?? "unknown error"}`);
        const { result } = status;
        if (result.failed.length > 0) {
          throw new ExitError(
            `job ${id}: ${result.failed.length} of ${status.shards.total} shards failed every attempt: ${result.failed.map(describeFailure).join("; ")} (listed in ${result.manifest})`,
            1,
          );
        }
        note(
          `job ${id} complete: ${result.rows.toLocaleString("en-US")} rows in ${result.parts} parts, ${result.manifest}`,
        );
        return result;
      }
      progress.update(() => progressText(status, rate));
      if (!live && performance.now() - lastLog >= logEveryMs) {
        lastLog = performance.now();
        note(progressText(status, rate).replace(/^ctxembed: /, ""));
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  } finally {
    progress.clear();
    await queue.close();
  }
}

/** Removes the job's parent and every shard job not running; shards in hand finish, their parts stay. */
export async function cancelJob(queue: Queue, id: string): Promise<void> {
  await parentJob(queue, id);
  const removed = await queue.remove(id, { removeChildren: true });
  if (removed === 0)
    throw new Error(
      `job ${id} could not be removed now: a shard of it is running (its lock is held); try again when it ends`,
    );
}
