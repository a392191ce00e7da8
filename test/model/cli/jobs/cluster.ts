// What the distributed-job tests run against: a real redis-server from the Debian package, started
// on a free local port for the test file, and the built CLI (dist/cli/main.js) as child processes:
// submitters and workers, killed and stopped the way a cluster's machines would be.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import { queueName } from "../../../../lib/jobs/wire.js";
import { seededRandom } from "../../../../lib/util/random.js";
import { repositoryRoot } from "../../models.js";
import { tinyModelPath } from "../../tiny-model.js";

export const cliEntry = join(repositoryRoot, "dist", "cli", "main.js");

/** Compiles lib/ into dist/, so that the child processes run the code under test. */
export function buildCli(): void {
  execFileSync(
    process.execPath,
    [join(repositoryRoot, "node_modules", "typescript", "bin", "tsc"), "-p", join(repositoryRoot, "tsconfig.json")],
    { stdio: "inherit" },
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** redis-server with nothing saved to disk, ready when it says so. */
export async function startRedis(extraArgs: string[] = []): Promise<RedisServer> {
  const port = await freePort();
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...extraArgs],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  await new Promise<void>((resolve, reject) => {
    let output = "";
    child.once("error", (error) =>
      reject(new Error(`cannot start redis-server (apt-get install redis-server): ${error.message}`)),
    );
    child.once("exit", (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
    child.stdout!.setEncoding("utf8").on("data", (text: string) => {
      output += text;
      if (output.includes("Ready to accept connections")) resolve();
    });
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

export interface CliRun {
  child: ChildProcess;
  /** stderr so far */
  stderr(): string;
  /** resolves when a stderr line matches */
  line(pattern: RegExp): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

export function ctxembed(args: string[]): CliRun {
  const child = spawn(process.execPath, [cliEntry, ...args], {
    cwd: repositoryRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  let stdout = "";
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  child.stdout!.setEncoding("utf8").on("data", (text: string) => (stdout += text));
  child.stderr!.setEncoding("utf8").on("data", (text: string) => {
    stderr += text;
    for (const waiter of [...waiters]) {
      const found = stderr.split("\n").find((line) => waiter.pattern.test(line));
      if (found !== undefined) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(found);
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve) => child.on("exit", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return {
    child,
    stderr: () => stderr,
    line: (pattern) =>
      new Promise((resolve, reject) => {
        const found = stderr.split("\n").find((line) => pattern.test(line));
        if (found !== undefined) return resolve(found);
        waiters.push({ pattern, resolve });
        void exited.then(() => reject(new Error(`the process ended before printing ${pattern}:\n${stderr}`)));
      }),
    exited,
  };
}

export interface PartRecord {
  index: number;
  embedding: number[];
}

/** Every record of every part-*.jsonl in the folder, with the part it came from. */
export function partRecords(directory: string): (PartRecord & { part: string })[] {
  return readdirSync(directory)
    .filter((name) => /^part-\d+\.jsonl$/.test(name))
    .sort()
    .flatMap((part) =>
      readFileSync(join(directory, part), "utf8")
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => ({ ...(JSON.parse(line) as PartRecord), part })),
    );
}

/** Indices that appear other than exactly once among `count` expected ones: the test's exactly-once check. */
export function notExactlyOnce(indices: number[], count: number): string[] {
  const seen = new Array<number>(count).fill(0);
  const problems: string[] = [];
  for (const index of indices) {
    if (index < 0 || index >= count) problems.push(`index ${index} out of range`);
    else seen[index]!++;
  }
  seen.forEach((times, index) => {
    if (times !== 1) problems.push(`index ${index} appears ${times} times`);
  });
  return problems.slice(0, 10);
}

export const vocabulary =
  "river bank money stone light paper green window music garden table cloud winter market horse letter silver train".split(
    " ",
  );

/** `count` lines of `wordsPerLine` random words from `vocabulary`, seeded. */
export function corpus(path: string, count: number, wordsPerLine: [number, number], seed: number): void {
  const random = seededRandom(seed);
  const [least, most] = wordsPerLine;
  const line = (): string =>
    Array.from(
      { length: least + Math.floor(random() * (most - least + 1)) },
      () => vocabulary[Math.floor(random() * vocabulary.length)],
    ).join(" ");
  writeFileSync(path, `${Array.from({ length: count }, line).join("\n")}\n`);
}

/** A Redis server, the tiny model, and the workers and submitters a test file starts against them. */
export interface JobCluster {
  redis: RedisServer;
  modelFile: string;
  /** the job queue, for counting and injecting jobs as a test needs */
  queue: Queue;
  /** a worker process with one thread */
  worker(...extra: string[]): CliRun;
  /** `embed --queue` of `input` into the folder `output` with the tiny model */
  submit(input: string, output: string, ...extra: string[]): CliRun;
  /** any other command whose process the next reset must stop */
  run(args: string[]): CliRun;
  /** kills (SIGKILL) every process started since the last reset, and empties the queue */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function startCluster(): Promise<JobCluster> {
  const [redis, modelFile] = await Promise.all([startRedis(), tinyModelPath()]);
  const queue = new Queue(queueName, { connection: { host: "127.0.0.1", port: redis.port } });
  const running: CliRun[] = [];
  const run = (args: string[]): CliRun => {
    const started = ctxembed(args);
    running.push(started);
    return started;
  };
  return {
    redis,
    modelFile,
    queue,
    run,
    worker: (...extra) => run(["worker", "--queue", redis.url, "--allow-dir", tmpdir(), "--threads", "1", ...extra]),
    submit: (input, output, ...extra) =>
      run([...["embed", "--model", modelFile, "--input", input, "--output", output, "--queue", redis.url], ...extra]),
    async reset() {
      for (const started of running.splice(0)) {
        // A stopped process takes no SIGKILL until it runs again.
        if (started.child.signalCode === "SIGSTOP") started.child.kill("SIGCONT");
        if (started.child.exitCode === null && started.child.signalCode === null) started.child.kill("SIGKILL");
      }
      await queue.obliterate({ force: true });
    },
    async close() {
      await queue.close();
      await redis.stop();
    },
  };
}
