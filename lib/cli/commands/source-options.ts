import { type Command, InvalidArgumentError, Option } from "commander";
import { parseLayerOption, parseWindowOption } from "../layer-option.js";
import type { JobOptions } from "../corpus-job.js";
import { inputFormats, invalidUtf8Policies, type InputOptions } from "../inputs.js";

/** What every corpus command reads from its command line: where texts come from, where results go. */
export interface SourceOptions extends InputOptions, JobOptions {
  output?: string;
}

export function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isSafeInteger(parsed) || parsed < 1)
    throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return parsed;
}

export function nonNegativeInteger(value: string): number {
  return value.trim() === "0" ? 0 : positiveInteger(value);
}

/** Where texts come from: a file or standard input in one of the input formats, or the command line. */
export function addInputOptions(command: Command): Command {
  return command
    .option("-i, --input <file>", "input file; - reads standard input", "-")
    .addOption(
      new Option(
        "--input-format <format>",
        "input format (default: from the extension: .jsonl/.ndjson, .csv, .tsv/.tab; else text, one item per line)",
      ).choices(inputFormats),
    )
    .option("--field <name>", "JSON lines: the field that holds the text", "text")
    .option(
      "--id-field <name>",
      'JSON lines: the field carried to the output as "id" (default: id, where a record has one)',
    )
    .option(
      "--column <name|n>",
      "CSV/TSV: the text column, by header name or 0-based number (default: text, or 0 without a header)",
    )
    .option(
      "--id-column <name|n>",
      'CSV/TSV: the column carried to the output as "id" (default: id, when the header has one)',
    )
    .option("--no-header", "CSV/TSV: the first row is data, not column names")
    .option("--text <text...>", "use these texts instead of reading a file")
    .option("--skip-empty", "leave empty and whitespace-only texts out instead of failing on them", false)
    .addOption(
      new Option(
        "--invalid-utf8 <policy>",
        "text and JSON lines: refuse a line that is not valid UTF-8 (naming it), or replace its bad bytes with U+FFFD",
      )
        .choices(invalidUtf8Policies)
        .default("refuse"),
    );
}

/** Options every corpus command shares: the input and its format, the output, resuming. */
export function addSourceOptions(command: Command): Command {
  return addInputOptions(command)
    .option("-o, --output <file>", "output file (default: standard output)")
    .option(
      "--resume",
      "continue an interrupted run: keep the results already in --output, embed only the inputs after them",
      false,
    )
    .addOption(
      new Option("--chunk <n>", "inputs read ahead and embedded together").argParser(positiveInteger).default(512),
    );
}

/** Refuses option combinations that cannot work, as a usage error (exit 2). */
export function checkSourceOptions(options: SourceOptions, command: Command): void {
  if (options.resume && !options.output)
    command.error("error: --resume continues an --output file; standard output cannot be resumed", { exitCode: 2 });
  if (options.resume && options.text)
    command.error("error: --resume works on an --input file, not on --text", { exitCode: 2 });
}

export function layersOption(): Option {
  return new Option(
    "--layers <spec>",
    "hidden states to use: -1, 3,4,5,6, last4, last4:concat, 4,5,6:mix=0.2,0.3,0.5:gamma=1 (default: model output)",
  ).argParser(parseLayerOption);
}

export function windowOption(): Option {
  return new Option(
    "--window <size[:stride]>",
    "split long inputs into overlapping windows of SIZE tokens instead of truncating",
  ).argParser(parseWindowOption);
}
