import { Command } from "commander";
import { mergeParts } from "../../jobs/merge.js";
import { scalesPath } from "../sinks.js";
import { note } from "../terminal.js";

export function mergeCommand(): Command {
  return new Command("merge")
    .description("join the parts of a finished distributed job (its manifest.json) into one file, in input order")
    .argument("<dir>", "the job's output folder")
    .option("-o, --output <file>", "the merged file (JSON lines parts: default standard output)")
    .addHelpText(
      "after",
      `
JSON lines parts are concatenated; .npy and raw parts become one .npy or raw file (int8 scales in
<output>.scales.<ext>, as embed writes them). Every part is checked against the sha256 in the
manifest. A job with failed shards is refused: fix the input and run the submit again.

Examples:
  $ ctxembed merge parts/ --output vectors.jsonl
  $ ctxembed merge parts/ > vectors.jsonl
  $ ctxembed merge npy-parts/ --output corpus.npy`,
    )
    .action(async (directory: string, options: { output?: string }) => {
      const manifest = await mergeParts(
        directory,
        options.output ? { file: options.output, scales: scalesPath(options.output) } : { stream: process.stdout },
      );
      note(
        `merged ${manifest.parts.length} parts, ${manifest.rows} rows${options.output ? ` into ${options.output}` : ""}`,
      );
    });
}
