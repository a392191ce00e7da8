// `embed --queue`: the command line of a distributed job, checked before anything is queued, and
// handed to lib/cli/jobs. BullMQ and ioredis load only when a job is submitted: every `embed`
// imports this file, and they would add some 20 MB to a local run's memory.
import { Option, type Command } from "commander";
import { modelReferenceForWorkers } from "../../hub/pull.js";
import type { JobEmbedOptions } from "../jobs/spec.js";
import { inputFormatOf, type InputOptions } from "../inputs.js";
import type { OutputFormat } from "../sinks.js";
import type { Precision } from "../../output/quantize-vectors.js";

export interface QueueSubmitOptions {
  queue?: string;
  shardSize: number;
  attempts: number;
  detach: boolean;
}

export function queueOption(): Option {
  return new Option(
    "--queue <redis://host:port[/db]>",
    "the Redis server of a BullMQ queue: submit a distributed job instead of embedding here",
  );
}

interface SubmitCommandLine extends QueueSubmitOptions, InputOptions {
  output?: string;
  resume: boolean;
  format: OutputFormat;
  precision: Precision;
  model: string;
  chunk: number;
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
  const [{ requireRedis }, { submitEmbedJob }, { waitForJob }] = await Promise.all([
    import("../jobs/redis.js"),
    import("../jobs/submit.js"),
    import("../jobs/status.js"),
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
    { attempts: options.attempts },
  );
  if (options.detach) {
    process.stdout.write(`${id}\n`);
    return;
  }
  await waitForJob(connection, id);
}
