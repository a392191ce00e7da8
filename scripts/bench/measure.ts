// Timing and process helpers shared by the benchmark scenarios.
import { spawn } from "node:child_process";

export interface Run {
  seconds: number;
  /** peak resident set size of the child process, in bytes (from GNU time when available) */
  peakRssBytes?: number;
}

/** Runs a command with its output discarded and returns its wall time. */
export function timeProcess(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"], env });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) reject(new Error(`${command} exited with ${code}:\n${stderr}`));
      else resolve({ seconds });
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

export function table(rows: Record<string, string | number>[]): string {
  const columns = Object.keys(rows[0] ?? {});
  const cell = (value: string | number | undefined) => (typeof value === "number" ? value.toLocaleString("en-US", { maximumFractionDigits: 2 }) : (value ?? ""));
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => String(cell(row[column])).length)));
  const line = (values: string[]) => `| ${values.map((value, i) => value.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(columns), line(widths.map((w) => "-".repeat(w))), ...rows.map((row) => line(columns.map((c) => String(cell(row[c])))))].join("\n");
}
