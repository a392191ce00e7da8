// Ctrl-C (SIGINT) and SIGTERM during a long job: the first asks the job to stop after the work in
// hand, so that its output ends on a whole result and a header or sidecar is finished; a second
// one exits at once (a later --resume still recovers the output).
import { note } from "./terminal.js";

const signals = { SIGINT: 2, SIGTERM: 15 } as const;
type StopSignal = keyof typeof signals;

export interface InterruptWatch {
  readonly signal: AbortSignal;
  /** the exit code the interrupt asks for (128 + signal number), once one came */
  exitCode(): number | undefined;
  dispose(): void;
}

export function watchInterrupts(): InterruptWatch {
  const controller = new AbortController();
  let received: StopSignal | undefined;
  const handlers = Object.keys(signals).map((name) => {
    const signal = name as StopSignal;
    const handler = (): void => {
      if (received) process.exit(128 + signals[received]);
      received = signal;
      note(
        `${signal === "SIGINT" ? "interrupted" : "terminated"}: finishing the results in hand (${signal === "SIGINT" ? "Ctrl-C" : "SIGTERM"} again stops at once)`,
      );
      controller.abort();
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return {
    signal: controller.signal,
    exitCode: () => (received ? 128 + signals[received] : undefined),
    dispose() {
      for (const [signal, handler] of handlers) process.off(signal, handler);
    },
  };
}
