// `embed --queue`: the command line of a distributed job, checked before anything is queued, and
// handed to lib/jobs. BullMQ and ioredis load only when a job is submitted: every `embed`
// imports this file, and they would add some 20 MB to a local run's memory.
import { Option, type Command } from "commander";
import { modelReferenceForWorkers } from "../../hub/pull.js";
import { positiveInteger } from "./source-options.js";
import { inputFormatOf, type InputOptions } from "../inputs.js";
import type { OutputFormat } from "../sinks.js";
import type { Precision } from "../../output/quantize-vectors.js";
import type { RedisOptions } from "bullmq";
import type { JobStatus } from "../../jobs/status.js";
import type { JobEmbedOptions, JobResult } from "../../jobs/wire.js";
import { formatDuration, note, ProgressLine } from "../terminal.js";

export interface QueueSubmitOptions {
  queue?: string;
  shardSize: number;
  attempts: number;
  maxLineBytes: number;
  detach: boolean;
}

export function queueOption(): Option {
  return new Option(
    "--queue <redis://host:port[/db]>",
    "the Redis server of a BullMQ queue: submit a distributed job instead of embedding here",
  );
}

/** Lines a worker may hold whole: a longer one would block its event loop past its lock. */
export function maxLineBytesOption(): Option {
  return new Option(
    "--max-line-bytes <n>",
    "with --queue: refuse the input if a line is longer than this many bytes (checked at submit and by every worker)",
  )
    .argParser(positiveInteger)
    .default(4 * 1024 * 1024);
}

interface SubmitCommandLine extends QueueSubmitOptions, InputOptions {
  output?: string;
  resume: boolean;
  format: OutputFormat;
  precision: Precision;
  model: string;
  chunk: number;
}

function progressText(status: JobStatus, rate: number): string {
  const { shards, texts } = status;
  const parts = [
    `${shards.done}/${shards.total} shards`,
    `${texts.done.toLocaleString("en-US")}/${texts.total.toLocaleString("en-US")} texts`,
  ];
  if (rate > 0)
    parts.push(
      `${Math.round(rate).toLocaleString("en-US")} texts/s`,
      `ETA ${formatDuration((texts.total - texts.done) / rate)}`,
    );
  if (shards.failed > 0) parts.push(`${shards.failed} failed`);
  return `ctxembed: job ${status.id} · ${parts.join(" · ")}`;
}

/** How often a progress line is written when stderr is not a terminal. */
const logEveryMs = 10_000;

/** Waits for the job with progress on stderr (failed shards named as they fail); throws (exit 1) when any failed. */
export async function waitWithProgress(connection: RedisOptions, id: string): Promise<JobResult> {
  const { describeFailure, waitForJob } = await import("../../jobs/status.js");
  const progress = new ProgressLine();
  const live = process.stderr.isTTY === true;
  const reported = new Set<number>();
  let first: JobStatus | undefined;
  const started = performance.now();
  let lastLog = started;
  try {
    const result = await waitForJob(connection, id, {
      onStatus(status) {
        first ??= status;
        for (const failure of status.failed)
          if (!reported.has(failure.index) && reported.add(failure.index))
            note(`failed every attempt: ${describeFailure(failure)}`);
        const rate = (status.texts.done - first.texts.done) / ((performance.now() - started) / 1000);
        progress.update(() => progressText(status, rate));
        if (!live && performance.now() - lastLog >= logEveryMs) {
          lastLog = performance.now();
          note(progressText(status, rate).replace(/^ctxembed: /, ""));
        }
      },
    });
    progress.clear();
    note(
      `job ${id} complete: ${result.rows.toLocaleString("en-US")} rows in ${result.parts} parts, ${result.manifest}`,
    );
    return result;
  } finally {
    progress.clear();
  }
}

export async function submitFromCommandLine(
  options: SubmitCommandLine,
  embedOptions: JobEmbedOptions,
  command: Command,
): Promise<void> {
  const usage = (message: string): never => command.error(`error: ${message}`, { exitCode: 2 });
  if (options.text || options.input === "-")
    usage("--queue embeds a file that every worker can read: give --input FILE");
  if (!options.output)
    usage("--queue needs --output DIR, the folder (on a filesystem the workers share) that receives the parts");
  if (options.resume) usage("--queue jobs resume by themselves: run the same command again, without --resume");
  const format = inputFormatOf(options);
  if (format !== "text" && format !== "jsonl")
    usage(
      `--queue shards text and JSON lines files by line; ${format} input is not supported (convert it to JSON lines)`,
    );
  const model = await modelReferenceForWorkers(options.model);
  const [{ requireRedis }, { submitEmbedJob }] = await Promise.all([
    import("../../jobs/redis.js"),
    import("../../jobs/submit.js"),
  ]);
  const connection = await requireRedis(options.queue!);
  const { id } = await submitEmbedJob(
    connection,
    {
      input: {
        path: options.input,
        format: format as "text" | "jsonl",
        field: options.field,
        idField: options.idField,
        skipEmpty: options.skipEmpty,
      },
      output: { directory: options.output!, format: options.format, precision: options.precision },
      model,
      options: embedOptions,
      shardSize: options.shardSize,
      chunk: options.chunk,
    },
    { attempts: options.attempts, maxLineBytes: options.maxLineBytes, onProgress: note },
  );
  if (options.detach) {
    process.stdout.write(`${id}\n`);
    return;
  }
  await waitWithProgress(connection, id);
}
