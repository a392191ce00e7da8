import { basename } from "node:path";
import { Command, Option } from "commander";
import type { PartWriter, WrittenPart } from "../../jobs/commit.js";
import type { WorkerOptions } from "../../jobs/work.js";
import { embedRecords } from "../corpus-job.js";
import { openInput, type InputReader } from "../inputs.js";
import { embeddingSink } from "../sinks.js";
import { note } from "../terminal.js";
import { gpuLayersOption, threadsOption } from "./model-options.js";
import { queueOption } from "./queue-options.js";
import { positiveInteger } from "./source-options.js";

/** Records a shard's input yields: its lines, less the empty ones --skip-empty leaves out. */
async function countRecords(reader: InputReader, signal: AbortSignal): Promise<number> {
  let records = 0;
  for await (const _ of reader.records(signal)) records++;
  return records;
}

/**
 * A shard's byte range read as `embed` reads its input, written as `embed` writes its output,
 * every file hashed from its bytes as they are written (one pass: the commit never reads a part
 * back). An .npy header states its row count before the rows, so it is written with the shard's
 * line count pinned at submit; with --skip-empty the records are counted first (a second read of
 * the shard's input bytes, a small fraction of its vectors' bytes).
 */
export const writePart: PartWriter = async ({ spec, shard, model, options, path, signal }) => {
  const { input } = spec;
  const open = (): Promise<InputReader> =>
    openInput({
      input: input.path,
      inputFormat: input.format,
      field: input.field,
      idField: input.idField,
      skipEmpty: input.skipEmpty,
      header: false,
      range: shard,
    });
  const expectedRows =
    spec.output.format !== "npy" ? undefined : input.skipEmpty ? await countRecords(await open(), signal) : shard.lines;
  const hashed: NonNullable<WrittenPart["hashed"]> = {};
  const sink = embeddingSink(
    spec.output.format,
    path,
    spec.output.precision,
    { model: model.info.name, options: spec.options },
    {
      ...(expectedRows === undefined ? {} : { rows: expectedRows }),
      hashed: ({ path, bytes, sha256 }) => (hashed[basename(path)] = { bytes, sha256 }),
    },
  );
  let written = 0;
  let complete = false;
  try {
    await embedRecords(model, (await open()).records(signal), options, sink, {
      chunk: spec.chunk,
      signal,
      onWritten: (results) => (written += results.length),
    });
    complete = true;
  } finally {
    await sink.close(complete);
  }
  return { rows: written, hashed };
};

export function workerCommand(): Command {
  return new Command("worker")
    .description(
      "embed the shards of distributed jobs (ctxembed embed --queue) from a BullMQ queue on Redis, until stopped",
    )
    .addOption(queueOption().makeOptionMandatory())
    .addOption(
      new Option("--concurrency <n>", "shards embedded at once (they share the model and its threads)")
        .argParser(positiveInteger)
        .default(1),
    )
    .addOption(
      new Option(
        "--allow-dir <dir>",
        "a folder whose files jobs may read and write (inputs, output folders, model files); repeatable; anything else is refused",
      )
        .argParser((value: string, previous: string[]) => [...previous, value])
        .default([]),
    )
    .addOption(threadsOption())
    .addOption(gpuLayersOption())
    .addOption(
      new Option(
        "--lock-duration <ms>",
        "lock on a shard in hand, renewed while it runs; a killed worker's shard is taken over after it lapses",
      )
        .argParser(positiveInteger)
        .default(30_000),
    )
    .addOption(
      new Option("--stalled-interval <ms>", "how often to look for shards whose worker died")
        .argParser(positiveInteger)
        .default(30_000),
    )
    .addHelpText(
      "after",
      `
A worker loads the model each job names (pulled on first use, then kept), reads the shard's byte
range from the job's input path and writes its part into the job's output folder: both paths must
be the same on every machine (a shared filesystem: NFS, CephFS, a cloud file share). Whoever can
write to the Redis database can queue jobs: a worker refuses any job whose data does not fit the
job schema, and any job whose input, output folder or model file lies outside its --allow-dir
folders (the model cache is allowed). Run Redis with a password and TLS (docs/distributed.md).

SIGTERM or SIGINT: the shards in hand are finished and committed, then the worker exits 0 (a second
signal exits at once; its shard is taken over by another worker once its lock lapses). Exit 1 when
Redis cannot be reached at start. See docs/distributed.md.

Examples:
  $ ctxembed worker --queue redis://:PASSWORD@queue-host:6379 --allow-dir /shared
  $ ctxembed worker --queue rediss://ctxembed:PASSWORD@queue-host:6380/2 --allow-dir /corpora --allow-dir /vectors --threads 4
  $ ctxembed worker --queue redis://127.0.0.1:6379 --allow-dir /tmp --lock-duration 5000 --stalled-interval 2000`,
    )
    .action(async (options: WorkerOptions) => {
      // BullMQ loads with the worker, not with every command of the CLI.
      const { runWorker } = await import("../../jobs/work.js");
      await runWorker(options, { writePart, log: note });
    });
}
