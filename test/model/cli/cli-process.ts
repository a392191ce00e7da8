// The CLI run from source as a child process, for tests that signal it, write to its standard
// input while it runs, or wait for a line on its standard error.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { repositoryRoot } from "../models.js";

export const cliEntry = join(repositoryRoot, "lib", "cli", "main.ts");

export interface CliProcess {
  child: ChildProcess;
  /** standard error so far */
  stderr(): string;
  /** standard output so far */
  stdout(): string;
  /** resolves when standard error matches `pattern`, with the match; rejects if the process ends first */
  waitForStderr(pattern: RegExp): Promise<RegExpMatchArray>;
  exited: Promise<{ status: number | null; signal: NodeJS.Signals | null }>;
}

export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const child = spawn(process.execPath, ["--import", "tsx", cliEntry, ...args], {
    cwd: repositoryRoot,
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  let stdout = "";
  const listeners = new Set<() => void>();
  child.stderr!.setEncoding("utf8").on("data", (text: string) => {
    stderr += text;
    for (const listener of listeners) listener();
  });
  child.stdout!.setEncoding("utf8").on("data", (text: string) => (stdout += text));
  const exited = new Promise<{ status: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("exit", (status, signal) => {
      resolve({ status, signal });
      for (const listener of listeners) listener();
    });
  });
  return {
    child,
    stderr: () => stderr,
    stdout: () => stdout,
    exited,
    waitForStderr(pattern) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = pattern.exec(stderr);
          if (match) {
            listeners.delete(check);
            resolve(match);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            listeners.delete(check);
            reject(new Error(`the process ended before ${pattern}: ${stderr}`));
          }
        };
        listeners.add(check);
        check();
      });
    },
  };
}
