import { Command, InvalidArgumentError, Option } from "commander";
import { poolingModes } from "../../pooling.js";
import { precisions, type Precision } from "../../output/quantize.js";
import type { EmbedOptions } from "../../models/embed-options.js";
import { runLineJob, type LineSource } from "../line-job.js";
import { embeddingField, jsonLinesSink, npySink } from "../sinks.js";
import { modelOption, openModel, threadsOption, type ModelCommandOptions } from "./model-options.js";
import { addSourceOptions, layersOption, windowOption } from "./source-options.js";

interface EmbedCommandOptions extends ModelCommandOptions, LineSource {
  format: "jsonl" | "npy";
  precision: Precision;
  dimensions?: number;
  pooling: NonNullable<EmbedOptions["pooling"]>;
  normalize: boolean;
  truncate: boolean;
  layers?: EmbedOptions["layers"];
  window?: EmbedOptions["window"];
}

export function embedCommand(): Command {
  return addSourceOptions(new Command("embed"))
    .description("embed each line of a text file (or standard input) and write one JSON object per line")
    .addOption(modelOption())
    .addOption(new Option("-f, --format <format>", "output format (npy needs --output)").choices(["jsonl", "npy"]).default("jsonl"))
    .addOption(new Option("--precision <precision>", "stored precision; int8 keeps a scale per vector").choices(precisions).default("float32"))
    .addOption(new Option("--dimensions <n>", "keep the first N dimensions (Matryoshka), re-normalised").argParser((v) => Number.parseInt(v, 10)))
    .addOption(new Option("--pooling <mode>", "pooling; model = the model's own").choices(["model", ...poolingModes]).default("model"))
    .addOption(layersOption())
    .addOption(windowOption())
    .option("--no-normalize", "keep raw vectors instead of scaling them to unit length")
    .option("--no-truncate", "fail on inputs longer than the model's limit instead of cutting them")
    .addOption(threadsOption())
    .addHelpText(
      "after",
      `
Output: one line per input, in input order: {"index": <0-based line>, "embedding": [...]},
with "truncated": true added when an input was cut to the model's limit. With --precision the
embedding is float16 numbers, {"values": [...], "scale": s} for int8, or base64 packed sign
bits for binary. --format npy writes one row per input to --output (int8 scales beside it in
<output>.scales.npy).

Examples:
  $ ctxembed embed --input sentences.txt > vectors.jsonl
  $ cat notes.txt | ctxembed embed --model all-minilm-l6-v2 --skip-empty
  $ ctxembed embed --text "first sentence" "second sentence" --layers last4
  $ ctxembed embed --model ./my-model.gguf --input docs.txt --pooling cls --no-normalize -o out.jsonl
  $ ctxembed embed --input long-documents.txt --window 256:128
  $ ctxembed embed --input corpus.txt --format npy --precision int8 --dimensions 256 -o corpus.npy`,
    )
    .action(async (options: EmbedCommandOptions) => {
      if (options.format === "npy" && !options.output) throw new InvalidArgumentError("--format npy needs --output FILE");
      const model = await openModel(options);
      try {
        const { pooling, normalize, truncate, layers, window, precision, dimensions } = options;
        const sink = options.format === "npy" ? npySink(options.output!, precision) : jsonLinesSink(options.output, embeddingField);
        await runLineJob(model, options, { pooling, normalize, truncate, layers, window, dimensions, precision }, sink);
      } finally {
        await model.dispose();
      }
    });
}
