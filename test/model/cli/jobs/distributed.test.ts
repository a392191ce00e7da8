// Distributed embedding jobs against a real redis-server and real worker processes: the output of
// two workers equals the single-process CLI's (JSON lines, and .npy int8 parts hashed as they
// are written); a worker killed mid-shard loses and duplicates nothing; a submitter killed
// half-way and run again adds no job twice; a shard that fails every attempt is reported with its
// lines while the others complete. The random-weight tiny model
// keeps 20,000 lines fast; the mechanics under test do not depend on the weights.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Queue, QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import { beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { scalesPath } from "../../../../lib/cli/sinks.js";
import { queueName } from "../../../../lib/jobs/wire.js";
import { dequantizeInt8 } from "../../../../lib/output/quantize-vectors.js";
import { cosineSimilarity } from "../../../../lib/vectors/similarity.js";
import {
  corpus,
  ctxembed,
  notExactlyOnce,
  partRecords,
  type CliRun,
  type JobCluster,
  type RedisServer,
  vocabulary,
} from "./cluster.js";
import { manifestOf, testCluster } from "./test-cluster.js";

let cluster: JobCluster;
let redis: RedisServer;
let modelFile: string;
let directory: string;
let queue: Queue;

/** A worker process; every worker is stopped (SIGKILL) after each test. */
const worker = (...extra: string[]): CliRun => cluster.worker(...extra);
const submit = (input: string, output: string, ...extra: string[]): CliRun => cluster.submit(input, output, ...extra);

/** Jobs of every state in the queue, counted by Redis itself. */
async function jobCount(): Promise<number> {
  const counts = await queue.getJobCounts();
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}

const sha256 = (path: string): string => createHash("sha256").update(readFileSync(path)).digest("hex");

/** A .npy file's shape, from its header, and its data after the header. */
function npyRows(path: string): { shape: [number, number]; data: Buffer } {
  const bytes = readFileSync(path);
  const end = 10 + bytes.readUInt16LE(8);
  const [, rows, width] = /'shape': \((\d+), (\d+)\)/.exec(bytes.toString("latin1", 10, end))!;
  return { shape: [Number(rows), Number(width)], data: bytes.subarray(end) };
}

/**
 * `DIR/NAME.txt` embedded by one process into `DIR/NAME-local.EXT`, and submitted with the same
 * flags to two workers into `DIR/NAME-parts`.
 */
async function localAndDistributed(name: string, extension: string, shardSize: number, flags: string[]) {
  const input = join(directory, `${name}.txt`);
  const local = join(directory, `${name}-local${extension}`);
  const single = await ctxembed([
    ...["embed", "--model", modelFile, "--input", input, "--output", local, "--threads", "1"],
    ...flags,
  ]).exited;
  expect(single.code, single.stderr).toBe(0);
  worker();
  worker();
  const output = join(directory, `${name}-parts`);
  const submitted = await submit(input, output, "--shard-size", String(shardSize), ...flags).exited;
  expect(submitted.code, submitted.stderr).toBe(0);
  return { local, output };
}

const setup = testCluster("jobs");
beforeAll(() => {
  ({ cluster, directory } = setup);
  ({ redis, modelFile, queue } = cluster);
});

describe("distributed embedding jobs", () => {
  it("a 20,000-line file through 2 workers equals the single-process embed: each index once, cosine >= 0.99999", {
    timeout: 300_000,
  }, async () => {
    const LINES = 20_000;
    const input = join(directory, "equality.txt");
    corpus(input, LINES, [1, 4], 11);
    const local = join(directory, "local.jsonl");
    const single = await ctxembed([
      "embed",
      "--model",
      modelFile,
      "--input",
      input,
      "--output",
      local,
      "--threads",
      "1",
    ]).exited;
    expect(single.code, single.stderr).toBe(0);

    worker();
    worker();
    const output = join(directory, "equality-parts");
    const submitted = await submit(input, output, "--shard-size", "1000").exited;
    expect(submitted.code, submitted.stderr).toBe(0);
    expect(submitted.stderr).toMatch(/complete: 20,000 rows in 20 parts/);

    const records = partRecords(output);
    expect(
      notExactlyOnce(
        records.map((record) => record.index),
        LINES,
      ),
    ).toEqual([]);
    const manifest = manifestOf(output);
    expect(manifest.complete).toBe(true);
    expect(manifest.parts.map((part) => part.lines)).toEqual(
      Array.from({ length: 20 }, (_, k) => [k * 1000, (k + 1) * 1000]),
    );

    const merged = join(directory, "merged.jsonl");
    const merge = await ctxembed(["merge", output, "--output", merged]).exited;
    expect(merge.code, merge.stderr).toBe(0);
    const expected = readFileSync(local, "utf8").trimEnd().split("\n");
    const found = readFileSync(merged, "utf8").trimEnd().split("\n");
    expect(found).toHaveLength(LINES);
    let worst = 1;
    found.forEach((line, i) => {
      const a = JSON.parse(line) as { index: number; embedding: number[] };
      const b = JSON.parse(expected[i]!) as { index: number; embedding: number[] };
      if (a.index !== i || b.index !== i) throw new Error(`merged line ${i + 1} holds index ${a.index}`);
      worst = Math.min(worst, cosineSimilarity(a.embedding, b.embedding));
    });
    expect(worst).toBeGreaterThanOrEqual(0.99999);
  });

  it("retrieved demonstrations travel as their pool: the parts equal the single-process embed with the same prompt flags", {
    timeout: 300_000,
  }, async () => {
    const LINES = 60;
    const input = join(directory, "retrieved.txt");
    corpus(input, LINES, [2, 6], 5);
    const pool = join(directory, "pool.jsonl");
    writeFileSync(
      pool,
      vocabulary
        .slice(0, 8)
        .map((word) => `${JSON.stringify({ query: `the ${word} by the ${word}`, response: word })}\n`)
        .join(""),
    );
    const promptFlags = ["--prompt", "prompteol", "--examples", pool, "--retrieve-examples", "2"];
    const { local, output } = await localAndDistributed("retrieved", ".jsonl", 20, promptFlags);
    const found = partRecords(output).sort((a, b) => a.index - b.index);
    expect(
      notExactlyOnce(
        found.map((record) => record.index),
        LINES,
      ),
    ).toEqual([]);
    const expected = readFileSync(local, "utf8")
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as { embedding: number[] });
    const worst = Math.min(...found.map((record, i) => cosineSimilarity(record.embedding, expected[i]!.embedding)));
    expect(worst).toBeGreaterThanOrEqual(0.99999);
  });

  it(".npy int8 parts from 2 workers: each file's recorded sha256 is sha256sum's; the merge equals the single-process embed --format npy --precision int8", {
    timeout: 300_000,
  }, async () => {
    const LINES = 600;
    const input = join(directory, "npy.txt");
    corpus(input, LINES, [2, 5], 17);
    const { local, output } = await localAndDistributed("npy", ".npy", 100, ["--format", "npy", "--precision", "int8"]);
    const manifest = manifestOf(output);
    expect(manifest.parts).toHaveLength(6);
    // Hashed as they were written, never read back: the bytes on disk must still be what was hashed.
    for (const part of manifest.parts)
      for (const file of [part, ...(part.beside ?? [])])
        expect(sha256(join(output, file.name)), file.name).toBe(file.sha256);

    const merged = join(directory, "npy-merged.npy");
    const merge = await ctxembed(["merge", output, "--output", merged]).exited;
    expect(merge.code, merge.stderr).toBe(0);
    const [found, foundScales] = [npyRows(merged), npyRows(scalesPath(merged))];
    const [expected, expectedScales] = [npyRows(local), npyRows(scalesPath(local))];
    expect([found.shape, foundScales.shape]).toEqual([expected.shape, expectedScales.shape]);
    expect(found.shape[0]).toBe(LINES);
    const width = found.shape[1];
    const row = (rows: { data: Buffer }, scales: { data: Buffer }, i: number) =>
      dequantizeInt8({
        values: new Int8Array(rows.data.buffer, rows.data.byteOffset + i * width, width),
        scale: scales.data.readFloatLE(i * 4),
      });
    // int8 rounding of vectors equal to 1e-5 (other batches): the dequantized rows agree to 1e-3.
    let worst = 1;
    for (let i = 0; i < LINES; i++)
      worst = Math.min(worst, cosineSimilarity(row(found, foundScales, i), row(expected, expectedScales, i)));
    expect(worst).toBeGreaterThanOrEqual(0.999);
  });

  it("index build --from loads a job's parts into the table index build --input makes of the same file", {
    timeout: 300_000,
  }, async () => {
    const LINES = 300;
    const input = join(directory, "indexed.txt");
    corpus(input, LINES, [2, 6], 17);
    worker();
    const output = join(directory, "indexed-parts");
    const submitted = await submit(input, output, "--shard-size", "100").exited;
    expect(submitted.code, submitted.stderr).toBe(0);

    const fromParts = join(directory, "index-from-parts");
    const loaded = await ctxembed(["index", "build", "--from", output, "--index", fromParts]).exited;
    expect(loaded.code, loaded.stderr).toBe(0);
    expect(loaded.stderr).toMatch(/loaded 300 rows from the 3 parts of job e[0-9a-f]{16}/);
    const embedded = join(directory, "index-from-input");
    const built = await ctxembed([
      ...["index", "build", "--input", input, "--index", embedded, "--model", modelFile, "--threads", "1"],
    ]).exited;
    expect(built.code, built.stderr).toBe(0);

    const query = "green window by the river";
    const hitsOf = async (index: string) => {
      const search = await ctxembed(["search", "--index", index, "--query", query, "--k", "10"]).exited;
      expect(search.code, search.stderr).toBe(0);
      return search.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as { id: string; score: number });
    };
    const [a, b] = [await hitsOf(fromParts), await hitsOf(embedded)];
    expect(a.map((hit) => hit.id)).toEqual(b.map((hit) => hit.id));
    a.forEach((hit, i) => expect(hit.score).toBeCloseTo(b[i]!.score, 5));
    // The same settings recorded: the input build may add to the table the parts made (one row per id).
    const again = await ctxembed([
      ...["index", "build", "--input", input, "--index", fromParts, "--model", modelFile, "--threads", "1"],
    ]).exited;
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/: 300 rows, exact search/);

    const refused = await ctxembed(["index", "build", "--from", output, "--index", fromParts, "--no-normalize"]).exited;
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--from loads vectors a job has made .*leave out --no-normalize/);
  });

  it("a worker SIGKILLed in a shard: another takes it over after the lock lapses; every index exactly once; SIGTERM finishes the shard in hand", {
    timeout: 300_000,
  }, async () => {
    const LINES = 6000;
    const input = join(directory, "kill.txt");
    // Long lines make each shard take long enough to be killed inside it.
    corpus(input, LINES, [40, 80], 12);
    const events = new QueueEvents(queueName, { connection: { host: "127.0.0.1", port: redis.port } });
    const stalled: string[] = [];
    events.on("stalled", ({ jobId }) => stalled.push(jobId));
    await events.waitUntilReady();
    try {
      const short = ["--lock-duration", "2000", "--stalled-interval", "1000"];
      const victim = worker(...short);
      const survivor = worker(...short);
      const output = join(directory, "kill-parts");
      const submitted = submit(input, output, "--shard-size", "500");
      await victim.line(/committed part-/);
      // The victim has taken its next shard at once; kill it inside that one.
      await new Promise((resolve) => setTimeout(resolve, 50));
      victim.child.kill("SIGKILL");
      const result = await submitted.exited;
      expect(result.code, result.stderr).toBe(0);
      expect(stalled.length, `stalled events: ${stalled.join(", ")}\n${survivor.stderr()}`).toBeGreaterThan(0);
      expect(survivor.stderr()).toMatch(/taking over e[0-9a-f]{16}-\d+/);
      expect(
        notExactlyOnce(
          partRecords(output).map((record) => record.index),
          LINES,
        ),
      ).toEqual([]);
      expect(manifestOf(output).complete).toBe(true);

      // SIGTERM while a shard is in hand: the worker commits it, then exits 0.
      const commits = (): number => (survivor.stderr().match(/committed part-/g) ?? []).length;
      const firstJob = commits();
      submit(input, join(directory, "term-parts"), "--shard-size", "500");
      await until(() => commits() > firstJob);
      const before = commits();
      await new Promise((resolve) => setTimeout(resolve, 150));
      survivor.child.kill("SIGTERM");
      const stopped = await survivor.exited;
      expect(stopped.code, stopped.stderr).toBe(0);
      const afterTerm = stopped.stderr.slice(stopped.stderr.indexOf("SIGTERM: finishing"));
      expect(afterTerm, stopped.stderr).toMatch(/committed part-\d+\.jsonl[\s\S]*worker stopped/);
      expect((stopped.stderr.match(/committed part-/g) ?? []).length).toBeGreaterThan(before);
    } finally {
      await events.close();
    }
  });

  it("a submitter killed half-way and run again adds no job twice; a finished job run again adds none", {
    timeout: 300_000,
  }, async () => {
    const LINES = 4000;
    const input = join(directory, "resubmit.txt");
    corpus(input, LINES, [1, 3], 13);
    const output = join(directory, "resubmit-parts");
    // Shards of 2 lines: 2,000 shards, added in 4 batches; the submitter dies after the first.
    const first = submit(input, output, "--shard-size", "2");
    await first.line(/500 of 2000 shards queued/);
    first.child.kill("SIGKILL");
    await first.exited;
    const afterKill = await jobCount();
    // parent + gate + the shards added before the kill
    expect(afterKill).toBeGreaterThanOrEqual(2 + 500);
    expect(afterKill).toBeLessThan(2 + 2000);

    worker("--concurrency", "4");
    const again = await submit(input, output, "--shard-size", "2").exited;
    expect(again.code, again.stderr).toBe(0);
    const added = Number(/added (\d+)/.exec(again.stderr)?.[1]);
    expect(added).toBe(2000 - (afterKill - 2));
    expect(await jobCount()).toBe(2 + 2000);
    expect(
      notExactlyOnce(
        partRecords(output).map((record) => record.index),
        LINES,
      ),
    ).toEqual([]);

    const finished = await submit(input, output, "--shard-size", "2", "--detach").exited;
    expect(finished.code, finished.stderr).toBe(0);
    expect(finished.stdout.trim()).toMatch(/^e[0-9a-f]{16}$/);
    expect(await jobCount()).toBe(2 + 2000);
  });

  it("a shard that fails every attempt is reported with its line range; the others complete; the exit code says so", {
    timeout: 300_000,
  }, async () => {
    const LINES = 1000;
    const input = join(directory, "poison.txt");
    corpus(input, LINES, [2, 5], 14);
    // Line 250 (in shard 2 of 100-line shards) is longer than the model's 512 positions; --no-truncate rejects it.
    const lines = readFileSync(input, "utf8").split("\n");
    lines[249] = Array.from({ length: 700 }, () => "river").join(" ");
    writeFileSync(input, lines.join("\n"));
    worker();
    const output = join(directory, "poison-parts");
    const result = await submit(input, output, "--shard-size", "100", "--no-truncate", "--attempts", "2").exited;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /1 of 10 shards failed every attempt: shard 2 \(lines 201-300\): line 250 of .*poison\.txt/,
    );
    const manifest = manifestOf(output);
    expect(manifest.complete).toBe(false);
    expect(manifest.failed).toEqual([
      { index: 2, lines: [200, 300], error: expect.stringMatching(/line 250 .* tokens/) },
    ]);
    expect(manifest.parts.map((part) => part.index)).toEqual([0, 1, 3, 4, 5, 6, 7, 8, 9]);

    const id = manifest.job;
    const status = await ctxembed(["jobs", "status", id, "--queue", redis.url]).exited;
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      id,
      state: "completed",
      shards: { total: 10, done: 9, failed: 1 },
      failed: [{ index: 2, lines: [200, 300] }],
    });
    const merge = await ctxembed(["merge", output, "--output", join(directory, "poison.jsonl")]).exited;
    expect(merge.code).toBe(1);
    expect(merge.stderr).toMatch(/incomplete: shard 2 \(lines 201-300\)/);
  });

  it("a queued shard costs Redis under 1 KB with its default settings: its data is [protocol, index], its range and sha256 are in the shard table", {
    timeout: 120_000,
  }, async () => {
    const SHARDS = 2000;
    const input = join(directory, "queued.txt");
    corpus(input, SHARDS, [2, 5], 41);
    const output = join(directory, "queued-parts");
    // No worker: every shard stays queued.
    const submitted = await submit(input, output, "--shard-size", "1", "--detach").exited;
    expect(submitted.code, submitted.stderr).toBe(0);
    const id = submitted.stdout.trim();
    const client = new Redis({ host: "127.0.0.1", port: redis.port });
    onTestFinished(() => client.disconnect());
    const key = (name: string): string => `bull:${queueName}:${name}`;
    const usage = async (name: string): Promise<number> =>
      Number(await client.call("MEMORY", "USAGE", key(name), "SAMPLES", "0"));
    expect(await client.hget(key(`${id}-1000`), "data")).toBe("[3,1000]");
    expect(readFileSync(join(output, "shards.bin")).length).toBe(38 * SHARDS);
    // What grows with each queued shard: its job hash, its entry in the wait list and in the
    // parent's dependencies (Redis's key table adds about 60 bytes; BullMQ's event stream is capped).
    const perShard =
      (await usage(`${id}-1000`)) + ((await usage("wait")) + (await usage(`${id}:dependencies`))) / SHARDS;
    expect(perShard).toBeLessThan(950);
  });

  it("Redis unreachable: a clear error within a few seconds, exit 1", async () => {
    const started = performance.now();
    const result = await ctxembed(["worker", "--queue", "redis://127.0.0.1:1"]).exited;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(--queue\): connect ECONNREFUSED/);
    expect(performance.now() - started).toBeLessThan(6000);
  });
});
