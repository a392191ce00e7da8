// Timing and process helpers shared by the benchmark scenarios.
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Run {
  seconds: number;
  /** a process's peak resident set size, in bytes (its rusage after exit) */
  peakRssBytes?: number;
  /** a process's user plus system CPU time, and that of the processes it waited for, in seconds */
  cpuSeconds?: number;
}

/** GNU time: it reads the child's rusage once the child has exited (wait4), so nothing samples the run. */
const gnuTime = "/usr/bin/time";

/**
 * Runs a command and returns its wall time, peak memory and CPU time; its standard output goes to
 * `stdoutFile`, else nowhere. The parent does nothing while the child runs: an earlier version
 * sampled /proc every 5 ms, and on a 2-core machine those wake-ups preempted one of a 2-thread
 * runner's threads, which costs the engines whose threads spin at their barriers (ONNX Runtime,
 * OpenVINO, ggml) unequally. The child's standard error goes to a file, read only when it fails.
 */
export function timeProcess(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  stdoutFile?: string,
): Promise<Run> {
  if (!existsSync(gnuTime))
    throw new Error(
      `${gnuTime} is missing: the bench reads each run's peak memory and CPU time from GNU time (Debian: apt-get install time)`,
    );
  const scratch = mkdtempSync(join(tmpdir(), "ctxembed-run-"));
  const statsFile = join(scratch, "rusage");
  const stderrFile = join(scratch, "stderr");
  return new Promise<Run>((resolve, reject) => {
    const stdout = stdoutFile === undefined ? "ignore" : openSync(stdoutFile, "w");
    const stderr = openSync(stderrFile, "w");
    const started = performance.now();
    // %e would round to 10 ms; the wall time is the parent's clock. %M is in KiB, %U and %S in seconds.
    const child = spawn(gnuTime, ["--format=%M %U %S", `--output=${statsFile}`, command, ...args], {
      stdio: ["ignore", stdout, stderr],
      env,
    });
    if (typeof stdout === "number") closeSync(stdout);
    closeSync(stderr);
    child.on("error", reject);
    child.on("close", (code) => {
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) {
        reject(new Error(`${command} exited with ${code}:\n${readFileSync(stderrFile, "utf8").slice(-4000)}`));
        return;
      }
      // GNU time prints the statistics on the last line (a line before it when the command was signalled).
      const [kibibytes, user, system] = readFileSync(statsFile, "utf8")
        .trim()
        .split("\n")
        .at(-1)!
        .split(" ")
        .map(Number);
      resolve({ seconds, peakRssBytes: kibibytes! * 1024, cpuSeconds: user! + system! });
    });
  }).finally(() => rmSync(scratch, { recursive: true, force: true }));
}

/** The fastest of `repeats` runs, the usual way to read through scheduling noise. */
export async function best(repeats: number, run: () => Promise<Run>): Promise<Run> {
  let fastest: Run | undefined;
  for (let i = 0; i < repeats; i++) {
    const current = await run();
    if (!fastest || current.seconds < fastest.seconds) fastest = current;
  }
  return fastest!;
}

/**
 * Runs every job once per round for `repeats` rounds and returns each job's run of median wall time
 * (the faster middle one of an even count). Taking turns puts a slow spell of the machine on every
 * runner alike instead of on whichever happened to be running its repeats then. A job that fails
 * is reported to `failed` once and not run again.
 */
export async function medianInRounds<Job>(
  jobs: readonly Job[],
  repeats: number,
  run: (job: Job) => Promise<Run>,
  failed: (job: Job, error: unknown) => void,
): Promise<Map<Job, Run>> {
  const runs = new Map<Job, Run[]>(jobs.map((job) => [job, []]));
  for (let round = 0; round < repeats; round++) {
    for (const [job, done] of runs) {
      try {
        done.push(await run(job));
      } catch (error) {
        runs.delete(job);
        failed(job, error);
      }
    }
  }
  const medians = new Map<Job, Run>();
  for (const [job, done] of runs) {
    done.sort((a, b) => a.seconds - b.seconds);
    medians.set(job, done[Math.floor((done.length - 1) / 2)]!);
  }
  return medians;
}

export function table(rows: Record<string, string | number>[]): string {
  const columns = Object.keys(rows[0] ?? {});
  const cell = (value: string | number | undefined) =>
    typeof value === "number" ? value.toLocaleString("en-US", { maximumFractionDigits: 2 }) : (value ?? "");
  const widths = columns.map((column) =>
    Math.max(column.length, ...rows.map((row) => String(cell(row[column])).length)),
  );
  const line = (values: string[]) => `| ${values.map((value, i) => value.padEnd(widths[i]!)).join(" | ")} |`;
  return [
    line(columns),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map((row) => line(columns.map((c) => String(cell(row[c]))))),
  ].join("\n");
}
