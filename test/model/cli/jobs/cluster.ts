// What the distributed-job tests run against: a real redis-server from the Debian package, started
// on a free local port for the test file, and the built CLI (dist/cli/main.js) as child processes:
// submitters and workers, killed and stopped the way a cluster's machines would be.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { repositoryRoot } from "../../models.js";

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
export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
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
