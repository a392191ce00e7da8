// A worker: takes shard jobs from the queue, embeds them with the model each names (loaded once
// and kept), and commits their parts; the parent job, once its shards are done, writes the
// manifest. Everything about leases, retries and taking over a dead worker's shard is BullMQ's:
// a job's lock is renewed on the event loop while the model runs on native threads, and a job
// whose lock lapses is moved back to the queue by any live worker's stalled-job check.
import { Worker, type Job } from "bullmq";
import { loadModel } from "../embedding/embedding-model.js";
import { embedShard, sha256OfFile, type LoadedModel, type PartWriter } from "./commit.js";
import { buildManifest, writeManifest } from "./manifest.js";
import { requireRedis } from "./redis.js";
import {
  jobNames,
  queueName,
  shardLines,
  shardIndexOfKey,
  type CommittedPart,
  type EmbedJobSpec,
  type FailedShard,
  type JobResult,
  type ShardJobData,
} from "./wire.js";

export interface WorkerOptions {
  queue: string;
  /** jobs run at once (they share each loaded model) */
  concurrency: number;
  threads?: number;
  gpuLayers?: number;
  /** how long a job's lock lasts without renewal: a dead worker's shard waits this long */
  lockDuration: number;
  /** how often the worker looks for stalled jobs to take over */
  stalledInterval: number;
}

/** What the host of a worker (the CLI) gives it: how a part is written, and where messages go. */
export interface WorkerHost {
  writePart: PartWriter;
  log(message: string): void;
}

/** Models by the name jobs give, loaded on first use (pulled when they are catalogue names) and kept. */
class ModelCache {
  private readonly models = new Map<string, Promise<LoadedModel>>();

  constructor(
    private readonly options: Pick<WorkerOptions, "threads" | "gpuLayers">,
    private readonly log: (message: string) => void,
  ) {}

  get(name: string): Promise<LoadedModel> {
    let loaded = this.models.get(name);
    if (!loaded) {
      const { threads, gpuLayers } = this.options;
      loaded = loadModel(name, {
        onProgress: this.log,
        ...(threads === undefined ? {} : { threads }),
        ...(gpuLayers === undefined ? {} : { gpuLayers }),
      }).then(async (model) => ({
        model,
        sha256: await sha256OfFile(model.info.path),
      }));
      // A model that failed to load is tried again by the next job, not remembered as failed.
      loaded.catch(() => this.models.delete(name));
      this.models.set(name, loaded);
    }
    return loaded;
  }

  async dispose(): Promise<void> {
    const loaded = await Promise.allSettled(this.models.values());
    for (const entry of loaded) if (entry.status === "fulfilled") await entry.value.model.dispose();
  }
}

async function finishJob(job: Job<EmbedJobSpec>): Promise<JobResult> {
  const spec = job.data;
  const values = await job.getChildrenValues<CommittedPart>();
  const committed = Object.entries(values)
    .filter(([key]) => shardIndexOfKey(key) !== undefined)
    .map(([, part]) => part);
  const failed: FailedShard[] = Object.entries(await job.getIgnoredChildrenFailures()).map(([key, error]) => {
    const index = shardIndexOfKey(key)!;
    return { index, lines: shardLines(spec, index), error };
  });
  return writeManifest(spec.output.directory, buildManifest(job.id!, spec, committed, failed));
}

/** Runs until SIGTERM or SIGINT, then finishes the jobs in hand and resolves. */
export async function runWorker(options: WorkerOptions, { writePart, log: note }: WorkerHost): Promise<void> {
  const connection = await requireRedis(options.queue);
  const models = new ModelCache(options, note);
  const worker = new Worker(
    queueName,
    async (job: Job) => {
      if (job.name === jobNames.gate) return {};
      if (job.name === jobNames.manifest) return finishJob(job as Job<EmbedJobSpec>);
      const data = job.data as ShardJobData;
      const started = performance.now();
      const { part, reused } = await embedShard(data, await models.get(data.spec.model), writePart);
      const [first, end] = part.lines;
      const name = part.files[0]?.name ?? `shard ${part.index} (no rows)`;
      note(
        `${reused ? "found" : "committed"} ${name}: lines ${first + 1}-${end}, ${part.rows} rows, ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
      return part;
    },
    {
      connection,
      concurrency: options.concurrency,
      lockDuration: options.lockDuration,
      stalledInterval: options.stalledInterval,
    },
  );
  worker.on("stalled", (jobId) => note(`taking over ${jobId}: its worker stopped renewing the lock`));
  worker.on("failed", (job, error) => {
    if (job) note(`${job.id} failed (attempt ${job.attemptsMade} of ${job.opts.attempts ?? 1}): ${error.message}`);
  });
  worker.on("error", (error) => note(`queue error: ${error.message}`));
  note(`worker ${process.pid} waiting for jobs on ${queueName} (concurrency ${options.concurrency})`);

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) process.exit(signal === "SIGINT" ? 130 : 143);
      stopping = true;
      note(`${signal}: finishing the shards in hand, then exiting (${signal} again stops at once)`);
      worker.close().then(resolve, resolve);
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
  await models.dispose();
  note("worker stopped");
}
