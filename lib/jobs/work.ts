// A worker: takes shard jobs from the queue, embeds them with the model each names (loaded once
// and kept), and commits their parts; the parent job, once its shards are done, writes the
// manifest. Everything about leases, retries and taking over a dead worker's shard is BullMQ's:
// a job's lock is renewed on the event loop while the model runs on native threads, and a job
// whose lock lapses is moved back to the queue by any live worker's stalled-job check.
import { readFile, realpath } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { Job, Queue, UnrecoverableError, Worker } from "bullmq";
import { Redis } from "ioredis";
import { loadModel } from "../embedding/embedding-model.js";
import { cacheDirectory } from "../hub/cache.js";
import { sha256File } from "../hub/wheel.js";
import { isInside } from "../util/output-path.js";
import { embedShard, type LoadedModel, type PartWriter } from "./commit.js";
import { buildManifest, writeManifest } from "./manifest.js";
import { requireRedis } from "./redis.js";
import { readRangeIdentity, type Shard, shardFromTable, shardTableFile } from "./shards.js";
import {
  cancelledKey,
  JobDataError,
  jobNames,
  parseJobSpec,
  parseShardJob,
  queueName,
  sha256Hex,
  shardLines,
  shardIndexOfKey,
  type CommittedPart,
  type EmbedJobSpec,
  type FailedShard,
  type JobResult,
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
  /** the only folders whose files a job may name (input, output folder, model file); the model cache is allowed too */
  allowDir: string[];
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
        sha256: await sha256File(model.info.path),
      }));
      // A model that failed to load is tried again by the next job, not remembered as failed.
      loaded.catch(() => this.models.delete(name));
      this.models.set(name, loaded);
    }
    return loaded;
  }

  async forget(name: string): Promise<void> {
    const loaded = this.models.get(name);
    this.models.delete(name);
    await (await loaded)?.model.dispose();
  }

  async dispose(): Promise<void> {
    const loaded = await Promise.allSettled(this.models.values());
    for (const entry of loaded) if (entry.status === "fulfilled") await entry.value.model.dispose();
  }
}

async function finishJob(job: Job): Promise<JobResult> {
  const spec = parseJobSpec(job.data, `job ${job.id}`);
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

/** Real paths of the folders a worker may use: a job that names anything outside them is refused. */
async function allowedFolders(given: string[]): Promise<string[]> {
  if (given.length === 0)
    throw new Error("a worker reads and writes only under the folders it is given: pass --allow-dir DIR (repeatable)");
  return Promise.all(
    given.map((folder) =>
      realpath(folder).catch(() => {
        throw new Error(`--allow-dir ${folder} does not exist`);
      }),
    ),
  );
}

/** Refuses a job whose input, output folder or model path lies outside the allowed folders (links followed). */
async function checkAllowed(spec: EmbedJobSpec, jobId: string, allowed: string[]): Promise<void> {
  const landing = async (path: string): Promise<string> => realpath(path).catch(() => path);
  const paths: [string, string, string[]][] = [
    ["input", spec.input.path, allowed],
    ["output folder", spec.output.directory, allowed],
  ];
  if (isAbsolute(spec.model)) paths.push(["model file", spec.model, [...allowed, await landing(cacheDirectory())]]);
  for (const [role, path, folders] of paths) {
    const real = await landing(path);
    if (!folders.some((folder) => isInside(real, folder)))
      throw new UnrecoverableError(
        `refusing job ${jobId}: its ${role} ${path} is outside the folders this worker may use (--allow-dir ${allowed.join(", ")})`,
      );
  }
}

interface TakenJob {
  spec: EmbedJobSpec;
  /** the shard table, its sha256 checked against the spec's */
  table: Buffer;
}

/** A job's spec from its parent, checked, and its shard table from the output folder, checked against the spec. */
async function takeJob(parent: Job | undefined, parentId: string, allowed: string[]): Promise<TakenJob> {
  if (!parent) throw new UnrecoverableError(`the shard's job ${parentId} is not in Redis (cancelled?)`);
  const spec = parseJobSpec(parent.data, `job ${parentId}`);
  await checkAllowed(spec, parentId, allowed);
  const path = join(spec.output.directory, shardTableFile);
  const table = await readFile(path).catch((error: Error) => {
    throw new UnrecoverableError(`job ${parentId}: cannot read its shard table ${path}: ${error.message}`);
  });
  if (sha256Hex(table) !== spec.shardTableSha256)
    throw new UnrecoverableError(
      `job ${parentId}: its shard table ${path} has sha256 ${sha256Hex(table)}, not the ${spec.shardTableSha256} it was submitted with: it changed after submit`,
    );
  return { spec, table };
}

/** Runs until SIGTERM or SIGINT, then finishes the jobs in hand and resolves. */
export async function runWorker(options: WorkerOptions, { writePart, log: note }: WorkerHost): Promise<void> {
  const connection = await requireRedis(options.queue);
  const allowed = await allowedFolders(options.allowDir);
  const models = new ModelCache(options, note);
  const queue = new Queue(queueName, { connection });
  const redis = new Redis(connection);
  // The spec is on the parent and the shard table in the output folder: both read once per job
  // (a table is 38 bytes a shard, so only the last few jobs are kept), and checked like anything
  // else taken from Redis or the disk.
  const jobs = new Map<string, Promise<TakenJob>>();
  const jobOf = (parentId: string): Promise<TakenJob> => {
    let taken = jobs.get(parentId);
    if (!taken) {
      taken = Job.fromId(queue, parentId).then((parent) => takeJob(parent, parentId, allowed));
      taken.catch(() => jobs.delete(parentId));
      if (jobs.size >= 8) jobs.delete(jobs.keys().next().value!);
      jobs.set(parentId, taken);
    }
    return taken;
  };
  const worker = new Worker(
    queueName,
    async (job: Job, token?: string) => {
      try {
        return await runJob(job, token);
      } catch (error) {
        // Data that fails its schema fails the same way every time: no retries.
        if (error instanceof JobDataError) throw new UnrecoverableError(error.message);
        throw error;
      }
    },
    {
      connection,
      concurrency: options.concurrency,
      lockDuration: options.lockDuration,
      stalledInterval: options.stalledInterval,
      // Stalls are counted against each job's own attempts above, not against a limit of their own.
      maxStalledCount: Number.MAX_SAFE_INTEGER,
    },
  );
  const runJob = async (job: Job, token: string | undefined): Promise<unknown> => {
    if (job.name === jobNames.gate) return {};
    if (job.name === jobNames.manifest) {
      await checkAllowed(parseJobSpec(job.data, `job ${job.id}`), job.id!, allowed);
      return finishJob(job);
    }
    // A run whose worker died (taken over as stalled) counts as an attempt, like one that failed.
    const attempts = Math.max(1, job.opts.attempts ?? 1);
    if (job.attemptsMade + job.stalledCounter >= attempts)
      throw new UnrecoverableError(
        `${job.id} has used its ${attempts} attempts (${job.stalledCounter} ended by a worker that stopped, ${job.attemptsMade} failed)`,
      );
    if (job.name !== jobNames.shard)
      throw new UnrecoverableError(`refusing job ${job.id}: unknown job name ${JSON.stringify(job.name)}`);
    const parentId = job.parent?.id;
    if (!parentId) throw new UnrecoverableError(`refusing shard ${job.id}: it belongs to no job`);
    const { spec, table } = await jobOf(parentId);
    let shard: Shard;
    try {
      shard = shardFromTable(table, spec, parseShardJob(job.data, spec, `shard ${job.id}`));
    } catch (error) {
      // A shard that does not fit its job fails the same way every time.
      throw new UnrecoverableError((error as Error).message);
    }
    const started = performance.now();
    note(`embedding ${job.id}: lines ${shard.firstLine + 1}-${shard.firstLine + shard.lines}`);
    const loaded = await models.get(spec.model);
    if (loaded.sha256 !== spec.modelSha256) {
      // Forgotten, so that the right file, once it is in place, is loaded by the next job.
      await models.forget(spec.model);
      throw new UnrecoverableError(
        `this worker's ${spec.model} is the file ${loaded.model.info.path} with sha256 ${loaded.sha256}, but the job was submitted with sha256 ${spec.modelSha256}: give every worker the same model file`,
      );
    }
    const found = await readRangeIdentity(spec.input.path, shard.start, shard.end);
    if (found.longestLine > spec.maxLineBytes)
      throw new UnrecoverableError(
        `shard ${shard.index} of ${spec.input.path} has a line of ${found.longestLine} bytes, over the job's limit of ${spec.maxLineBytes}`,
      );
    if (found.sha256 !== shard.sha256 || found.bytes !== shard.end - shard.start)
      throw new UnrecoverableError(
        `bytes ${shard.start}-${shard.end} of ${spec.input.path} (lines ${shard.firstLine + 1}-${shard.firstLine + shard.lines}) are not those submitted: the input changed after submit`,
      );
    // A cancelled job's shards are dropped: checked now, then once a second while the shard runs.
    const cancelled = queue.toKey(cancelledKey(parentId));
    if ((await redis.exists(cancelled)) === 1)
      throw new UnrecoverableError(`job ${parentId} was cancelled: shard ${shard.index} dropped`);
    const cancel = new AbortController();
    const watch = setInterval(() => {
      redis.exists(cancelled).then(
        (found: number) => found === 1 && cancel.abort(),
        () => undefined,
      );
    }, 1000);
    const { part, reused, removedRuns } = await embedShard(spec, parentId, shard, loaded, writePart, {
      signal: cancel.signal,
      // A lock that lapsed means another worker has the shard: this run must not commit over it.
      beforeCommit: async () => {
        if (token && (await job.extendLock(token, options.lockDuration)) !== 1) {
          // BullMQ cannot record this failure (the lock is another worker's now), so it is said here.
          const message = `${job.id}: its lock lapsed before the commit (another worker has the shard); this run commits nothing`;
          note(message);
          throw new Error(message);
        }
      },
    }).finally(() => clearInterval(watch));
    if (removedRuns > 0)
      note(`removed ${removedRuns} temporary folder${removedRuns === 1 ? "" : "s"} of an earlier run of ${job.id}`);
    const [first, end] = part.lines;
    const name = part.files[0]?.name ?? `shard ${part.index} (no rows)`;
    note(
      `${reused ? "found" : "committed"} ${name}: lines ${first + 1}-${end}, ${part.rows} rows, ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    return part;
  };
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
  redis.disconnect();
  await queue.close();
  await models.dispose();
  note("worker stopped");
}
