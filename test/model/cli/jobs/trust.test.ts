// Distributed jobs against a hostile run, on a real redis-server and real worker processes: an
// input edited after submit, two jobs meeting in one folder, parts of another job or model file,
// a tampered part, outputs aimed at the job's own files, jobs injected into Redis by hand, and a
// worker stopped past its lock. Each case once ended in exit 0 with wrong or missing vectors, or
// in a destroyed file; each must now end in a clear refusal that names the fault, with nothing
// written where it must not be. The random-weight tiny model keeps the runs short.
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FlowProducer, Job, type Queue } from "bullmq";
import { beforeAll, describe, expect, it } from "vitest";
import { queueName } from "../../../../lib/jobs/wire.js";
import { minilmPath } from "../../models.js";
import {
  corpus,
  ctxembed,
  notExactlyOnce,
  partRecords,
  type CliRun,
  type JobCluster,
  type RedisServer,
} from "./cluster.js";
import { manifestOf, testCluster } from "./test-cluster.js";

let cluster: JobCluster;
let redis: RedisServer;
let modelFile: string;
let directory: string;
let queue: Queue;

const worker = (...extra: string[]): CliRun => cluster.worker(...extra);
const submit = (input: string, output: string, ...extra: string[]): CliRun => cluster.submit(input, output, ...extra);
const wait = (id: string): CliRun => cluster.run(["jobs", "wait", id, "--queue", redis.url]);

const sha256 = (path: string): string => createHash("sha256").update(readFileSync(path)).digest("hex");
const partFiles = (output: string): string[] => readdirSync(output).filter((name) => /^part-\d+\.jsonl$/.test(name));

const setup = testCluster("jobs-trust");
beforeAll(() => {
  ({ cluster, directory } = setup);
  ({ redis, modelFile, queue } = cluster);
});

/** Submits without workers, edits the input, then lets a worker run the job: what `jobs wait` says. */
async function editedAfterSubmit(name: string, edit: (lines: string[]) => string[]) {
  const input = join(directory, `${name}.txt`);
  corpus(input, 600, [2, 5], 21);
  const output = join(directory, `${name}-parts`);
  const submitted = await submit(input, output, "--shard-size", "100", "--attempts", "3", "--detach").exited;
  expect(submitted.code, submitted.stderr).toBe(0);
  const lines = readFileSync(input, "utf8").trimEnd().split("\n");
  writeFileSync(input, `${edit(lines).join("\n")}\n`);
  const runner = worker();
  const waited = await wait(submitted.stdout.trim()).exited;
  return { waited, runner, output };
}

describe("distributed jobs under a hostile run", () => {
  it("an input reordered after submit: every shard is refused at once as changed, exit 1, no part", {
    timeout: 120_000,
  }, async () => {
    const { waited, runner, output } = await editedAfterSubmit("reordered", (lines) => [...lines].reverse());
    expect(waited.code, waited.stderr).toBe(1);
    expect(waited.stderr).toMatch(
      /6 of 6 shards failed every attempt: shard 0 \(lines 1-100\): .*the input changed after submit/,
    );
    // A changed input is not worth retrying: one attempt each, though --attempts 3.
    expect(runner.stderr()).not.toMatch(/attempt 2 of 3/);
    expect(partFiles(output)).toEqual([]);
  });

  it("an input truncated after submit: the shards whose bytes changed are refused, the merge refuses the job", {
    timeout: 120_000,
  }, async () => {
    const { waited, output } = await editedAfterSubmit("truncated", (lines) => lines.slice(0, 250));
    expect(waited.code, waited.stderr).toBe(1);
    expect(waited.stderr).toMatch(
      /4 of 6 shards failed every attempt: shard 2 \(lines 201-300\): .*the input changed after submit/,
    );
    expect(manifestOf(output).complete).toBe(false);
    const merged = join(directory, "truncated.jsonl");
    const merge = await ctxembed(["merge", output, "--output", merged]).exited;
    expect(merge.code).toBe(1);
    expect(existsSync(merged)).toBe(false);
  });

  it("two submits with different options to one folder at once: exactly one claims it", {
    timeout: 120_000,
  }, async () => {
    const input = join(directory, "claimed.txt");
    corpus(input, 300, [2, 5], 22);
    const output = join(directory, "claimed-parts");
    const [a, b] = await Promise.all([
      submit(input, output, "--dimensions", "16", "--detach").exited,
      submit(input, output, "--dimensions", "8", "--detach").exited,
    ]);
    expect([a.code, b.code].sort(), `${a.stderr}\n${b.stderr}`).toEqual([0, 1]);
    expect(`${a.stderr}${b.stderr}`).toMatch(/holds the parts of job e[0-9a-f]{16}, not of this one/);
  });

  it("a resubmit with another shard size after job.json was lost: the first job's parts are not reused", {
    timeout: 120_000,
  }, async () => {
    const input = join(directory, "reshard.txt");
    corpus(input, 600, [2, 5], 23);
    const output = join(directory, "reshard-parts");
    worker();
    const first = await submit(input, output, "--shard-size", "100").exited;
    expect(first.code, first.stderr).toBe(0);
    rmSync(join(output, "job.json"));
    rmSync(join(output, "manifest.json"));
    const second = await submit(input, output, "--shard-size", "300").exited;
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(
      /part-00000\.jsonl cannot be reused: it was made by job e[0-9a-f]{16}, not by this job/,
    );
    expect(second.stderr).not.toMatch(/complete: \d/);
  });

  it("a worker whose model file differs from the submitted one refuses the job; after cancel and resubmit no part comes from it", {
    timeout: 180_000,
  }, async () => {
    const input = join(directory, "model.txt");
    corpus(input, 300, [2, 5], 24);
    const output = join(directory, "model-parts");
    const model = join(directory, "model.gguf");
    copyFileSync(modelFile, model);
    const run = (...extra: string[]) =>
      cluster.run([
        ...[
          "embed",
          "--model",
          model,
          "--input",
          input,
          "--output",
          output,
          "--queue",
          redis.url,
          "--shard-size",
          "100",
        ],
        ...extra,
      ]);
    const submitted = await run("--detach").exited;
    expect(submitted.code, submitted.stderr).toBe(0);
    const id = submitted.stdout.trim();
    // Another file under the submitted name (MiniLM q8_0 in the tiny model's place), as on a misconfigured worker.
    copyFileSync(await minilmPath("q8_0"), model);
    worker();
    const waited = await wait(id).exited;
    expect(waited.code).toBe(1);
    expect(waited.stderr).toMatch(
      /but the job was submitted with sha256 [0-9a-f]{64}: give every worker the same model file/,
    );
    expect(partFiles(output)).toEqual([]);

    const cancelled = await ctxembed(["jobs", "cancel", id, "--queue", redis.url]).exited;
    expect(cancelled.code, cancelled.stderr).toBe(0);
    copyFileSync(modelFile, model);
    const again = await run().exited;
    expect(again.code, again.stderr).toBe(0);
    const manifest = manifestOf(output);
    expect(manifest.model.sha256).toBe(sha256(modelFile));
    expect(
      notExactlyOnce(
        partRecords(output).map((record) => record.index),
        300,
      ),
    ).toEqual([]);
  });

  it("a part tampered with before merge and index build --from: both refuse, no merged file, no table", {
    timeout: 180_000,
  }, async () => {
    const input = join(directory, "tamper.txt");
    corpus(input, 300, [2, 5], 25);
    const output = join(directory, "tamper-parts");
    worker();
    const submitted = await submit(input, output, "--shard-size", "100").exited;
    expect(submitted.code, submitted.stderr).toBe(0);
    const last = join(output, "part-00002.jsonl");
    writeFileSync(last, readFileSync(last, "utf8").replace(/"embedding":\[[^,]+,/, '"embedding":[0.5,'));

    const merged = join(directory, "tamper.jsonl");
    const merge = await ctxembed(["merge", output, "--output", merged]).exited;
    expect(merge.code).toBe(1);
    expect(merge.stderr).toMatch(/part-00002\.jsonl does not match the manifest .*changed after it was committed/);
    expect(existsSync(merged)).toBe(false);
    expect(readdirSync(directory).filter((name) => name.includes("tamper.jsonl"))).toEqual([]);

    const index = join(directory, "tamper-index");
    const built = await ctxembed(["index", "build", "--from", output, "--index", index]).exited;
    expect(built.code).toBe(1);
    expect(built.stderr).toMatch(/part-00002\.jsonl does not match the manifest/);
    expect(existsSync(index) ? readdirSync(index) : []).toEqual([]);
  });

  it("merge --output onto the input, the manifest or a part is refused before anything is written", {
    timeout: 120_000,
  }, async () => {
    const input = join(directory, "self.txt");
    corpus(input, 200, [2, 5], 26);
    const output = join(directory, "self-parts");
    worker();
    const submitted = await submit(input, output, "--shard-size", "100").exited;
    expect(submitted.code, submitted.stderr).toBe(0);
    const before = Object.fromEntries(
      [input, ...readdirSync(output).map((name) => join(output, name))].map((p) => [p, sha256(p)]),
    );
    for (const [target, refusal] of [
      [input, /is the job's input/],
      [join(output, "manifest.json"), /lies inside the job's folder/],
      [join(output, "part-00000.jsonl"), /lies inside the job's folder/],
      [join(output, "merged.jsonl"), /lies inside the job's folder/],
    ] as const) {
      const merge = await ctxembed(["merge", output, "--output", target]).exited;
      expect(merge.code, `${target}: ${merge.stderr}`).toBe(1);
      expect(merge.stderr).toMatch(refusal);
    }
    const after = Object.fromEntries(
      [input, ...readdirSync(output).map((name) => join(output, name))].map((p) => [p, sha256(p)]),
    );
    expect(after).toEqual(before);
  });

  it("jobs injected into Redis by hand are refused without running: wrong schema, paths outside --allow-dir, negative indexes, ranges in the shard, another shard table, no parent, old protocol", {
    timeout: 120_000,
  }, async () => {
    const input = join(directory, "hostile.txt");
    corpus(input, 100, [2, 5], 27);
    const output = join(directory, "hostile-parts");
    const submitted = await submit(input, output, "--shard-size", "50", "--detach").exited;
    expect(submitted.code, submitted.stderr).toBe(0);
    const id = submitted.stdout.trim();
    const parent = (await Job.fromId(queue, id))!;
    const spec = parent.data as Record<string, unknown> & { output: Record<string, unknown> };
    const shard = (await Job.fromId(queue, `${id}-0`))!.data as unknown[];
    const flows = new FlowProducer({ connection: { host: "127.0.0.1", port: redis.port } });
    const elsewhere = join(directory, "hostile-elsewhere");
    try {
      const hostileParents: [string, Record<string, unknown>][] = [
        ["precision", { ...spec, output: { ...spec.output, precision: "float64" } }],
        ["traversal", { ...spec, output: { ...spec.output, directory: "relative/../hostile-elsewhere" } }],
        ["format", { ...spec, output: { ...spec.output, format: "exe" } }],
        ["extra", { ...spec, secret: "$(id)" }],
        ["passwords", { ...spec, input: { ...(spec.input as object), path: "/etc/shadow" } }],
        ["elsewhere", { ...spec, output: { ...spec.output, directory: "/var/lib/ctxembed-hostile" } }],
      ];
      for (const [name, data] of hostileParents)
        await flows.add({
          name: "manifest",
          queueName,
          data,
          opts: { jobId: `hostile-${name}` },
          children: [{ name: "shard", queueName, data: shard, opts: { jobId: `hostile-${name}-shard-0` } }],
        });
      // Shards that do not fit a valid job's spec, under a parent of their own so the real job is not held up.
      await flows.add({
        name: "manifest",
        queueName,
        data: spec,
        opts: { jobId: "hostile-parent" },
        children: [
          { name: "shard", queueName, data: [shard[0], -5], opts: { jobId: "hostile-negative" } },
          { name: "shard", queueName, data: [shard[0], 99], opts: { jobId: "hostile-index" } },
          { name: "shard", queueName, data: { ...spec, start: 0, end: 9 }, opts: { jobId: "hostile-range" } },
        ],
      });
      // A spec whose shard table is not the one in the folder: the table is refused before any shard runs.
      await flows.add({
        name: "manifest",
        queueName,
        data: { ...spec, shardTableSha256: "0".repeat(64) },
        opts: { jobId: "hostile-table" },
        children: [{ name: "shard", queueName, data: shard, opts: { jobId: "hostile-table-0" } }],
      });
      await queue.add("shard", { spec, shard }, { jobId: "hostile-old-protocol" });
      const runner = worker();
      for (const pattern of [
        /hostile-precision-shard-0 failed .*refusing job hostile-precision: .*protocol 3.*output\.precision/,
        /hostile-traversal-shard-0 failed .*refusing job hostile-traversal: .*expected an absolute path/,
        /hostile-format-shard-0 failed .*output\.format/,
        /hostile-extra-shard-0 failed .*Unrecognized key: "secret"/,
        /hostile-passwords-shard-0 failed .*its input \/etc\/shadow is outside the folders this worker may use \(--allow-dir /,
        /hostile-elsewhere-shard-0 failed .*its output folder \/var\/lib\/ctxembed-hostile is outside the folders/,
        /hostile-negative failed .*refusing shard hostile-negative: .*protocol 3/,
        /hostile-range failed .*refusing shard hostile-range: .*expected (array|tuple)/,
        /hostile-table-0 failed .*job hostile-table: its shard table .*shards\.bin has sha256 [0-9a-f]{64}, not the 0{64} it was submitted with/,
        /hostile-index failed .*refusing shard hostile-index: index 99 is not below the job's 2 shards/,
        /hostile-old-protocol failed .*belongs to no job/,
      ])
        await runner.line(pattern);
      expect(runner.stderr()).not.toMatch(/attempt 2 of/);
      expect(existsSync(elsewhere)).toBe(false);
      expect(existsSync("/var/lib/ctxembed-hostile")).toBe(false);
      // The real job beside them is untouched by them and completes.
      const waited = await wait(id).exited;
      expect(waited.code, waited.stderr).toBe(0);
      expect(
        notExactlyOnce(
          partRecords(output).map((record) => record.index),
          100,
        ),
      ).toEqual([]);
    } finally {
      await flows.close();
    }
  });

  it("a worker stopped (SIGSTOP) past its lock and resumed after another committed its shard commits nothing over it", {
    timeout: 180_000,
  }, async () => {
    const input = join(directory, "stopped.txt");
    corpus(input, 3000, [40, 80], 28);
    const output = join(directory, "stopped-parts");
    const short = ["--lock-duration", "2000", "--stalled-interval", "1000"];
    const stopped = worker(...short);
    const submitted = submit(input, output, "--shard-size", "500");
    await stopped.line(/committed part-/);
    await new Promise((resolve) => setTimeout(resolve, 50));
    stopped.child.kill("SIGSTOP");
    const commitsBefore = (stopped.stderr().match(/committed part-/g) ?? []).length;
    worker(...short);
    const result = await submitted.exited;
    expect(result.code, result.stderr).toBe(0);
    const hashes = Object.fromEntries(partFiles(output).map((name) => [name, sha256(join(output, name))]));
    stopped.child.kill("SIGCONT");
    // Resumed, it finds its lock gone: inside the commit it stops ("its lock lapsed before the
    // commit"), before it a committed record is there to adopt; either way BullMQ cannot move the job.
    await stopped.line(/Missing lock for job/);
    expect((stopped.stderr().match(/committed part-/g) ?? []).length).toBe(commitsBefore);
    expect(Object.fromEntries(partFiles(output).map((name) => [name, sha256(join(output, name))]))).toEqual(hashes);
    const merge = await ctxembed(["merge", output, "--output", join(directory, "stopped.jsonl")]).exited;
    expect(merge.code, merge.stderr).toBe(0);
  });

  it("a submitter killed half-way: status counts the shards never added apart, and jobs wait says so instead of waiting for ever", {
    timeout: 120_000,
  }, async () => {
    const input = join(directory, "half.txt");
    corpus(input, 4000, [1, 3], 30);
    // 2,000 shards of 2 lines, added 500 a batch; no worker, so nothing finishes.
    const first = submit(input, join(directory, "half-parts"), "--shard-size", "2");
    await first.line(/500 of 2000 shards queued/);
    first.child.kill("SIGKILL");
    await first.exited;
    const id = /job (e[0-9a-f]{16})/.exec(first.stderr())![1]!;
    const status = await cluster.run(["jobs", "status", id, "--queue", redis.url]).exited;
    expect(status.code, status.stderr).toBe(0);
    const { shards } = JSON.parse(status.stdout) as { shards: Record<string, number> };
    expect(shards.total).toBe(2000);
    expect(shards.pending! + shards.notAdded!).toBe(2000);
    expect(shards.notAdded).toBeGreaterThan(0);
    const started = performance.now();
    const waited = await wait(id).exited;
    expect(waited.code).toBe(1);
    expect(waited.stderr).toMatch(
      new RegExp(`${shards.notAdded} of its 2000 shards were never added.*run the same submit command again`),
    );
    expect(performance.now() - started).toBeLessThan(60_000);
  });

  it("a SIGKILLed worker's temporary folder is removed by the next worker that takes its shard, and any left by merge; merge prints no listener warning past 10 parts", {
    timeout: 180_000,
  }, async () => {
    const input = join(directory, "leftover.txt");
    corpus(input, 6000, [40, 80], 31);
    const output = join(directory, "leftover-parts");
    const short = ["--lock-duration", "2000", "--stalled-interval", "1000"];
    const victim = worker(...short);
    const submitted = submit(input, output, "--shard-size", "500");
    await victim.line(/committed part-/);
    // Each part's runs are in a folder of their own (.ctxembed-partial-part-00003.jsonl/PID-RANDOM).
    const runFolders = (): string[] =>
      readdirSync(output)
        .filter((name) => name.startsWith(".ctxembed-partial-"))
        .flatMap((name) => readdirSync(join(output, name)).map((run) => join(name, run)));
    const victimRun = new RegExp(`/${victim.child.pid}-[0-9a-f]{12}$`);
    while (!runFolders().some((run) => victimRun.test(run))) await new Promise((resolve) => setTimeout(resolve, 20));
    victim.child.kill("SIGKILL");
    const taker = worker(...short);
    const result = await submitted.exited;
    expect(result.code, result.stderr).toBe(0);
    expect(taker.stderr()).toMatch(/taking over e[0-9a-f]{16}-\d+/);
    expect(taker.stderr()).toMatch(/removed 1 temporary folder of an earlier run of e[0-9a-f]{16}-\d+/);
    const leftovers = () => readdirSync(output).filter((name) => name.startsWith(".ctxembed-partial-"));
    expect(leftovers()).toEqual([]);
    // A worker killed after its commit, before removing its run folder: nobody takes that shard again, merge removes it.
    const killedAfterCommit = join(output, ".ctxembed-partial-part-00003.jsonl", "999999-0123456789ab");
    mkdirSync(killedAfterCommit, { recursive: true });
    writeFileSync(join(killedAfterCommit, "part-00003.jsonl"), "half a part");
    const merge = await ctxembed(["merge", output, "--output", join(directory, "leftover.jsonl")]).exited;
    expect(merge.code, merge.stderr).toBe(0);
    expect(merge.stderr).toMatch(/merged 12 parts, 6000 rows/);
    expect(merge.stderr).not.toMatch(/MaxListenersExceeded/);
    expect(leftovers()).toEqual([]);
  });

  it("a job whose shards failed (a worker allowed elsewhere) completes with jobs retry on a proper worker, reusing the committed parts", {
    timeout: 180_000,
  }, async () => {
    const input = join(directory, "retry.txt");
    corpus(input, 300, [2, 5], 32);
    const output = join(directory, "retry-parts");
    const good = worker();
    const first = submit(input, output, "--shard-size", "100", "--attempts", "3");
    await good.line(/committed part-00000/);
    good.child.kill("SIGTERM");
    await good.exited;
    // A worker that may not touch the job's folders: every shard left fails at once.
    const misplaced = cluster.run(["worker", "--queue", redis.url, "--allow-dir", "/usr/share", "--threads", "1"]);
    const failed = await first.exited;
    expect(failed.code).toBe(1);
    // It refuses the shards left and the manifest job too: the job ends failed, without a manifest.
    expect(failed.stderr).toMatch(/failed every attempt: shard 2 .*outside the folders this worker may use/);
    expect(failed.stderr).toMatch(/could not write its manifest: refusing job .*outside the folders/);
    misplaced.child.kill("SIGKILL");
    const committed = sha256(join(output, "part-00000.jsonl"));

    const id = /job (e[0-9a-f]{16})/.exec(failed.stderr)![1]!;
    // Running the submit again adds nothing to a finished job; retry is what runs its failed shards.
    const retried = cluster.run(["jobs", "retry", id, "--queue", redis.url]);
    const fixed = worker();
    const result = await retried.exited;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/complete: 300 rows in 3 parts/);
    expect(fixed.stderr()).toMatch(/found part-00000\.jsonl/);
    expect(sha256(join(output, "part-00000.jsonl"))).toBe(committed);
    expect(manifestOf(output).complete).toBe(true);
    expect(
      notExactlyOnce(
        partRecords(output).map((record) => record.index),
        300,
      ),
    ).toEqual([]);
    const again = await cluster.run(["jobs", "retry", id, "--queue", redis.url]).exited;
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/is complete: every shard is committed, there is nothing to retry/);
  });

  it("jobs cancel during a run: the worker drops its shard at the next chunk, the job and its shards are removed, the worker goes on", {
    timeout: 180_000,
  }, async () => {
    const input = join(directory, "cancel.txt");
    corpus(input, 6000, [40, 80], 33);
    const output = join(directory, "cancel-parts");
    const runner = worker();
    const submitted = await submit(input, output, "--shard-size", "500", "--detach").exited;
    expect(submitted.code, submitted.stderr).toBe(0);
    const id = submitted.stdout.trim();
    await runner.line(/committed part-00000/);
    const cancelled = await cluster.run(["jobs", "cancel", id, "--queue", redis.url]).exited;
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stderr).toMatch(
      new RegExp(
        `job ${id} cancelled: removed it and its 12 shard jobs \\([1-9]\\d* running, dropped by their workers`,
      ),
    );
    expect(await Job.fromId(queue, id)).toBeUndefined();
    expect(await queue.getJobCounts("waiting", "active", "delayed", "waiting-children")).toEqual({
      waiting: 0,
      active: 0,
      delayed: 0,
      "waiting-children": 0,
    });
    expect(partFiles(output).length).toBeLessThan(12);
    // The worker is still there for the next job.
    const after = join(directory, "after-cancel.txt");
    corpus(after, 50, [2, 5], 34);
    const next = await submit(after, join(directory, "after-cancel-parts")).exited;
    expect(next.code, next.stderr).toBe(0);
  });

  it("a shard whose worker dies twice is run a third time under --attempts 3: stalls count as attempts, not against a limit of their own", {
    timeout: 180_000,
  }, async () => {
    const input = join(directory, "twice.txt");
    // One shard long enough to kill its worker inside it twice.
    corpus(input, 6000, [40, 80], 35);
    const output = join(directory, "twice-parts");
    const short = ["--lock-duration", "2000", "--stalled-interval", "1000"];
    const submitted = submit(input, output, "--shard-size", "6000", "--attempts", "3");
    for (let death = 0; death < 2; death++) {
      const doomed = worker(...short);
      // The first worker takes the shard at once, the second once the first's lock has lapsed.
      await doomed.line(/embedding e[0-9a-f]{16}-0: lines 1-6000/);
      await new Promise((resolve) => setTimeout(resolve, 300));
      doomed.child.kill("SIGKILL");
    }
    const last = worker(...short);
    const result = await submitted.exited;
    expect(result.code, `${result.stderr}\n${last.stderr()}`).toBe(0);
    expect(last.stderr()).toMatch(/taking over e[0-9a-f]{16}-0/);
    expect(
      notExactlyOnce(
        partRecords(output).map((record) => record.index),
        6000,
      ),
    ).toEqual([]);
  });

  it("a line over --max-line-bytes is refused at submit, naming it", { timeout: 60_000 }, async () => {
    const input = join(directory, "huge.txt");
    corpus(input, 50, [2, 5], 29);
    const lines = readFileSync(input, "utf8").split("\n");
    lines[30] = "river ".repeat(2000);
    writeFileSync(input, lines.join("\n"));
    const result = await submit(input, join(directory, "huge-parts"), "--max-line-bytes", "4096").exited;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/line 31 is 12001 bytes, over the limit of 4096 \(--max-line-bytes\)/);
  });
});
