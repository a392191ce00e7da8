// How the CLI talks to a person: messages on standard error, live progress only on a terminal,
// and exit codes a script can rely on.

export function note(message: string): void {
  process.stderr.write(`ctxembed: ${message}\n`);
}

/** A one-line status that rewrites itself on a terminal and stays silent when stderr is a file or pipe. */
export class ProgressLine {
  private readonly live = process.stderr.isTTY === true;
  private lastDraw = 0;

  update(render: () => string): void {
    const now = Date.now();
    if (!this.live || now - this.lastDraw < 200) return;
    this.lastDraw = now;
    process.stderr.write(`\r\x1b[2K${render()}`);
  }

  clear(): void {
    if (this.live && this.lastDraw > 0) process.stderr.write("\r\x1b[2K");
  }
}

/** 75 s → "1m15s", 4000 s → "1h06m" */
export function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  if (whole < 60) return `${whole}s`;
  if (whole < 3600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, "0")}s`;
  return `${Math.floor(whole / 3600)}h${String(Math.floor((whole % 3600) / 60)).padStart(2, "0")}m`;
}

/** A failure that ends the process with its own exit code rather than 1 (an interrupt: 128 + signal). */
export class ExitError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = "ExitError";
  }
}

/** Prints a failure as one line (its stack too when CTXEMBED_DEBUG is set) and returns the exit code. */
export function reportFailure(error: unknown): number {
  process.stderr.write(`ctxembed: ${error instanceof Error ? error.message : String(error)}\n`);
  if (process.env.CTXEMBED_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  return error instanceof ExitError ? error.exitCode : 1;
}
