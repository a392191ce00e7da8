// npm run bench -- --distributed: what the queue costs and what a second worker brings, on one
// file and in one run: the local CLI, one worker with 2 threads, two workers with 1 thread each
// (shards of 1,000), one worker at shard sizes 100 / 1,000 / 10,000, and the time from SIGKILL of
// a worker in a shard to BullMQ moving that shard back (a stalled event) for another worker.
// Everything runs the built CLI (dist/) against a redis-server started here on a free port. First,
// Redis memory per queued shard at 100,000 shards and a worker's per-shard overhead with 10,000
// parts in its folder (--distributed-lines 0 prints those alone).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { Queue, QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import { queueName } from "../../lib/jobs/wire.js";
import { buildCli, ctxembed, startRedis, type CliRun } from "../../test/model/cli/jobs/cluster.js";

const overheadWorker = new URL("./overhead-worker.ts", import.meta.url).pathname;

export interface DistributedBenchOptions {
  modelPath: string;
  texts: string[];
  textsName: string;
  /** lines in the benchmark file (the texts repeated) */
  lines: number;
  /** lock duration and stalled interval of the takeover measurement, ms */
  lockDuration: number;
  stalledInterval: number;
}

interface Row {
  setup: string;
  seconds: number;
}

/** Shards of the Redis-memory measurement: the 100,000 of a 100M-line corpus at the default shard size. */
const scaleShards = 100_000;

/**
 * Redis memory per queued shard, measured: a 100,000-line file submitted as 100,000 one-line
 * shards (--detach, no worker, so every shard stays queued) with a retrieval pool of about
 * 450 KB, which the parent carries once. `INFO memory` before and after; the submit's wall time.
 */
export async function queueScale(options: DistributedBenchOptions, redisArgs: string[] = []): Promise<string[]> {
  const redis = await startRedis(redisArgs);
  const client = new Redis({ host: "127.0.0.1", port: redis.port });
  const work = await mkdtemp(join(tmpdir(), "ctxembed-bench-scale-"));
  try {
    const input = join(work, "input.txt");
    await writeFile(
      input,
      `${Array.from({ length: scaleShards }, (_, i) => options.texts[i % options.texts.length]).join("\n")}\n`,
    );
    const pool = join(work, "pool.jsonl");
    const demonstrations = Array.from({ length: 2000 }, (_, i) =>
      JSON.stringify({
        query: options.texts[i % options.texts.length],
        response: options.texts[(i + 1) % options.texts.length],
      }),
    );
    await writeFile(pool, `${demonstrations.join("\n")}\n`);
    const usedMemory = async (): Promise<number> => Number(/used_memory:(\d+)/.exec(await client.info("memory"))![1]);
    const before = await usedMemory();
    const started = performance.now();
    const submitted = await ctxembed([
      ...["embed", "--model", options.modelPath, "--input", input, "--output", join(work, "parts")],
      ...["--queue", redis.url, "--shard-size", "1", "--detach"],
      ...["--prompt", "prompteol", "--examples", pool, "--retrieve-examples", "2"],
    ]).exited;
    const seconds = (performance.now() - started) / 1000;
    if (submitted.code !== 0) throw new Error(`the 100,000-shard submit failed:\n${submitted.stderr}`);
    const after = await usedMemory();
    const id = submitted.stdout.trim();
    const prefix = `bull:${queueName}:`;
    const shardKey = `${prefix}${id}-${scaleShards / 2}`;
    const shardData = (await client.hget(shardKey, "data"))?.length ?? 0;
    const parentData = (await client.hget(`${prefix}${id}`, "data"))?.length ?? 0;
    const memoryUsage = async (key: string): Promise<number> =>
      Number(await client.call("MEMORY", "USAGE", key, "SAMPLES", "0"));
    const version = /redis_version:(\S+)/.exec(await client.info("server"))![1];
    const settings = (await client.call("CONFIG", "GET", "hash-max-listpack-*")) as string[];
    return [
      `Queue scale, Redis ${version} (${settings.map((item, k) => (k % 2 === 0 ? `${item} ` : `${item}${k < settings.length - 1 ? ", " : ""}`)).join("")}${redisArgs.length > 0 ? `; redis-server ${redisArgs.join(" ")}` : "; defaults"}): ${scaleShards.toLocaleString("en-US")} one-line shards queued (no worker), retrieval pool of ${(Buffer.byteLength(demonstrations.join("\n")) / 1024).toFixed(0)} KB:`,
      `- Redis memory per queued shard: ${((after - before) / scaleShards).toFixed(0)} bytes (used_memory ${before.toLocaleString("en-US")} -> ${after.toLocaleString("en-US")})`,
      `- of which a shard's job hash ${await memoryUsage(shardKey)} bytes (${String(await client.object("ENCODING", shardKey))}), its entry in the wait list ${((await memoryUsage(`${prefix}wait`)) / scaleShards).toFixed(0)} and in the parent's dependencies ${((await memoryUsage(`${prefix}${id}:dependencies`)) / scaleShards).toFixed(0)} (MEMORY USAGE)`,
      `- a shard job's data: ${shardData} bytes; the parent's (the spec, with the pool): ${parentData.toLocaleString("en-US")} bytes, once; the shard table on disk: ${38 * scaleShards} bytes`,
      `- submit of ${scaleShards.toLocaleString("en-US")} shards (scan, model sha256, adding in batches of 500): ${seconds.toFixed(1)} s, whole command`,
    ];
  } finally {
    client.disconnect();
    await redis.stop();
    await rm(work, { recursive: true, force: true });
  }
}

/** Parts in the folder before a worker's per-shard overhead is measured, and the shards it is measured over. */
const partsBefore = 10_000;
const measuredShards = 1_000;

/**
 * A worker's overhead per shard without embedding: one-line shards run by the overhead-only
 * worker (overhead-worker.ts), timed over shards 2 to 1,000 (a nearly empty folder) and over the
 * 1,000 after 10,000 parts (and their provenance records) are in the folder. Exported for a
 * smaller check run.
 */
export async function workerOverhead(
  options: Pick<DistributedBenchOptions, "modelPath" | "texts">,
  parts = partsBefore,
  measured = measuredShards,
): Promise<string[]> {
  const redis = await startRedis();
  const work = await mkdtemp(join(tmpdir(), "ctxembed-bench-overhead-"));
  const total = parts + measured;
  try {
    const input = join(work, "input.txt");
    await writeFile(
      input,
      `${Array.from({ length: total }, (_, i) => options.texts[i % options.texts.length]).join("\n")}\n`,
    );
    const submitted = await ctxembed([
      ...["embed", "--model", options.modelPath, "--input", input, "--output", join(work, "parts")],
      ...["--queue", redis.url, "--shard-size", "1", "--detach"],
    ]).exited;
    if (submitted.code !== 0) throw new Error(`the overhead job's submit failed:\n${submitted.stderr}`);
    const worker = spawn(
      process.execPath,
      ["--import", "tsx", overheadWorker, redis.url, work, dirname(options.modelPath)],
      {
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    const committedAt: number[] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        worker.once("exit", (code) =>
          reject(new Error(`the overhead worker exited (${code}) after ${committedAt.length} shards`)),
        );
        createInterface({ input: worker.stderr! }).on("line", (line) => {
          if (/failed/.test(line)) reject(new Error(`the overhead worker: ${line}`));
          if (/^committed part-/.test(line) && committedAt.push(performance.now()) === total) resolve();
        });
      });
      // The same worker writes the manifest once the last shard is in: then merge is timed over all the parts.
      const manifest = join(work, "parts", "manifest.json");
      while (!existsSync(manifest)) await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      worker.kill("SIGKILL");
    }
    const mergeStarted = performance.now();
    const merged = await ctxembed(["merge", join(work, "parts"), "--output", join(work, "merged.jsonl")]).exited;
    const mergeSeconds = (performance.now() - mergeStarted) / 1000;
    if (merged.code !== 0) throw new Error(`the overhead job's merge failed:\n${merged.stderr}`);
    const perShard = (from: number, to: number): string =>
      ((committedAt[to - 1]! - committedAt[from - 1]!) / (to - from)).toFixed(2);
    return [
      `Worker overhead per shard (overhead-only worker: no embedding; spec and shard table from cache, byte-range hash, lock, commit with provenance), one-line shards:`,
      `- ${perShard(1, measured)} ms over shards 2-${measured.toLocaleString("en-US")} (a nearly empty folder), ${perShard(parts, total)} ms over the ${measured.toLocaleString("en-US")} after ${parts.toLocaleString("en-US")} parts (${(2 * parts).toLocaleString("en-US")} files) were in the folder`,
      `- merge of its ${total.toLocaleString("en-US")} one-line parts (every part checked, then copied): ${mergeSeconds.toFixed(1)} s, ${((mergeSeconds * 1000) / total).toFixed(2)} ms a part, whole command`,
    ];
  } finally {
    await redis.stop();
    await rm(work, { recursive: true, force: true });
  }
}

export async function distributedThroughput(options: DistributedBenchOptions): Promise<string> {
  buildCli();
  // Redis keeps a hash whose values are all short as a compact listpack: BullMQ's options of a
  // child job (with its parent's id) never fit the default 64 bytes, they fit 1,024.
  const scale = [
    ...(await queueScale(options)),
    "",
    ...(await queueScale(options, ["--hash-max-listpack-value", "1024"])),
    "",
    ...(await workerOverhead(options)),
  ];
  // --distributed-lines 0: the queue-scale figures alone.
  if (options.lines === 0) return scale.join("\n");
  const redis = await startRedis();
  const connection = { host: "127.0.0.1", port: redis.port };
  const queue = new Queue(queueName, { connection });
  const work = await mkdtemp(join(tmpdir(), "ctxembed-bench-distributed-"));
  const input = join(work, "input.txt");
  await writeFile(
    input,
    `${Array.from({ length: options.lines }, (_, i) => options.texts[i % options.texts.length]).join("\n")}\n`,
  );
  const warmUpInput = join(work, "warm-up.txt");
  await writeFile(warmUpInput, `${options.texts.slice(0, 10).join("\n")}\n`);
  const workers: CliRun[] = [];
  const startWorkers = async (count: number, threads: number, extra: string[] = []): Promise<CliRun[]> => {
    const started = Array.from({ length: count }, () =>
      ctxembed(["worker", "--queue", redis.url, "--allow-dir", work, "--threads", String(threads), ...extra]),
    );
    workers.push(...started);
    await Promise.all(started.map((run) => run.line(/waiting for jobs/)));
    return started;
  };
  const stopWorkers = async (): Promise<void> => {
    for (const run of workers.splice(0)) {
      run.child.kill("SIGTERM");
      await run.exited;
    }
    await queue.obliterate({ force: true });
  };
  let runs = 0;
  const timed = async (args: string[]): Promise<number> => {
    const started = performance.now();
    const result = await ctxembed(args).exited;
    if (result.code !== 0) throw new Error(`ctxembed ${args.join(" ")} failed:\n${result.stderr}`);
    return (performance.now() - started) / 1000;
  };
  // Each submit gets a new output folder, hence a new job (ids depend on it).
  const submit = (shardSize: number, file = input): Promise<number> =>
    timed([
      "embed",
      "--model",
      options.modelPath,
      "--input",
      file,
      "--output",
      join(work, `parts-${runs++}`),
      "--queue",
      redis.url,
      "--shard-size",
      String(shardSize),
    ]);
  // Workers load the model when their first job arrives: a tiny job for each keeps that out of the timings.
  const warmUp = (): Promise<number> => submit(1, warmUpInput);

  const rows: Row[] = [];
  let takeover: number;
  try {
    rows.push({
      setup: "local CLI, 2 threads",
      seconds: await timed([
        "embed",
        "--model",
        options.modelPath,
        "--input",
        input,
        "--output",
        join(work, "local.jsonl"),
        "--threads",
        "2",
      ]),
    });
    await startWorkers(1, 2);
    await warmUp();
    for (const shardSize of [1000, 100, 10_000]) {
      rows.push({
        setup: `1 worker x 2 threads, shards of ${shardSize.toLocaleString("en-US")}`,
        seconds: await submit(shardSize),
      });
    }
    await stopWorkers();
    await startWorkers(2, 1);
    await warmUp();
    rows.push({ setup: "2 workers x 1 thread, shards of 1,000", seconds: await submit(1000) });
    await stopWorkers();
    takeover = await takeoverSeconds(options, redis.url, connection, input, join(work, "takeover"), startWorkers);
    await stopWorkers();
  } finally {
    for (const run of workers) run.child.kill("SIGKILL");
    await queue.close();
    await redis.stop();
    await rm(work, { recursive: true, force: true });
  }
  const local = rows[0]!.seconds;
  const table = rows.map(
    ({ setup, seconds }) =>
      `| ${setup} | ${seconds.toFixed(2)} | ${Math.round(options.lines / seconds).toLocaleString("en-US")} | ${(seconds / local).toFixed(2)} |`,
  );
  return [
    `Distributed embedding, ${options.lines.toLocaleString("en-US")} lines (${options.textsName}, repeated), whole commands including model load:`,
    "",
    "| setup | seconds | texts/s | time vs local |",
    "|---|---|---|---|",
    ...table,
    "",
    `SIGKILL of a worker inside a shard to the shard's takeover (stalled event), lock ${options.lockDuration} ms, stalled interval ${options.stalledInterval} ms: ${takeover.toFixed(2)} s`,
    "",
    ...scale,
  ].join("\n");
}

/** Kills one of two workers inside a shard and times how long until BullMQ reports the shard stalled. */
async function takeoverSeconds(
  options: DistributedBenchOptions,
  url: string,
  connection: { host: string; port: number },
  input: string,
  output: string,
  startWorkers: (count: number, threads: number, extra: string[]) => Promise<CliRun[]>,
): Promise<number> {
  const events = new QueueEvents(queueName, { connection });
  await events.waitUntilReady();
  try {
    const [victim] = await startWorkers(2, 1, [
      "--lock-duration",
      String(options.lockDuration),
      "--stalled-interval",
      String(options.stalledInterval),
    ]);
    const submitted = ctxembed([
      "embed",
      "--model",
      options.modelPath,
      "--input",
      input,
      "--output",
      output,
      "--queue",
      url,
      "--shard-size",
      "1000",
    ]);
    await victim!.line(/committed part-/);
    const limit = options.lockDuration + 3 * options.stalledInterval + 10_000;
    const stalled = new Promise<number>((resolve, reject) => {
      events.once("stalled", () => resolve(performance.now()));
      setTimeout(
        () => reject(new Error(`no stalled event within ${limit} ms: the killed worker held no shard`)),
        limit,
      ).unref();
    });
    const killed = performance.now();
    victim!.child.kill("SIGKILL");
    const seconds = ((await stalled) - killed) / 1000;
    const result = await submitted.exited;
    if (result.code !== 0) throw new Error(`the takeover run failed:\n${result.stderr}`);
    return seconds;
  } finally {
    await events.close();
  }
}
