// Timing and process helpers shared by the benchmark scenarios.
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";

export interface Run {
  seconds: number;
  /** peak resident set size of the child process, in bytes (Linux: VmHWM, sampled until it exits) */
  peakRssBytes?: number;
}

/** The process's resident high-water mark in bytes, or undefined once it is gone (or off Linux). */
function highWaterMark(pid: number): number | undefined {
  try {
    const kilobytes = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kilobytes === undefined ? undefined : Number(kilobytes) * 1024;
  } catch {
    return undefined;
  }
}

/**
 * Runs a command and returns its wall time and peak memory; its standard output goes to
 * `stdoutFile`, else nowhere. VmHWM only grows, so the last sample before exit is the peak, short
 * of what the final few milliseconds add (an exiting process frees memory rather than taking it).
 */
export function timeProcess(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  stdoutFile?: string,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const stdout = stdoutFile === undefined ? "ignore" : openSync(stdoutFile, "w");
    const started = performance.now();
    const child = spawn(command, args, { stdio: ["ignore", stdout, "pipe"], env });
    if (typeof stdout === "number") closeSync(stdout);
    let peakRssBytes: number | undefined;
    const sample = () => {
      peakRssBytes = (child.pid === undefined ? undefined : highWaterMark(child.pid)) ?? peakRssBytes;
    };
    const sampler = setInterval(sample, 5);
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.on("error", (error) => {
      clearInterval(sampler);
      reject(error);
    });
    child.on("close", (code) => {
      clearInterval(sampler);
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) reject(new Error(`${command} exited with ${code}:\n${stderr}`));
      else resolve(peakRssBytes === undefined ? { seconds } : { seconds, peakRssBytes });
    });
  });
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
