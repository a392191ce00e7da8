// How the CLI talks to a person: messages on standard error, live progress only on a terminal.

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

/** Prints a failure as one line (its stack too when CTXEMBED_DEBUG is set) and returns the exit code. */
export function reportFailure(error: unknown): number {
  process.stderr.write(`ctxembed: ${error instanceof Error ? error.message : String(error)}\n`);
  if (process.env.CTXEMBED_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  return 1;
}
