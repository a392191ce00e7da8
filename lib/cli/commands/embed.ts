import { Command, Option } from "commander";
import { poolingModes } from "../../pooling.js";
import { float32ToJson } from "../../output/json.js";
import type { EmbedOptions } from "../../models/embed-options.js";
import { runLineJob, type LineSource } from "../line-job.js";
import { modelOption, openModel, threadsOption, type ModelCommandOptions } from "./model-options.js";
import { addSourceOptions, layersOption, windowOption } from "./source-options.js";

interface EmbedCommandOptions extends ModelCommandOptions, LineSource {
  format: "jsonl";
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
    .addOption(new Option("-f, --format <format>", "output format").choices(["jsonl"]).default("jsonl"))
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
with "truncated": true added when an input was cut to the model's limit.

Examples:
  $ ctxembed embed --input sentences.txt > vectors.jsonl
  $ cat notes.txt | ctxembed embed --model all-minilm-l6-v2 --skip-empty
  $ ctxembed embed --text "first sentence" "second sentence" --layers last4
  $ ctxembed embed --model ./my-model.gguf --input docs.txt --pooling cls --no-normalize -o out.jsonl
  $ ctxembed embed --input long-documents.txt --window 256:128`,
    )
    .action(async (options: EmbedCommandOptions) => {
      const model = await openModel(options);
      try {
        const { pooling, normalize, truncate, layers, window } = options;
        await runLineJob(model, options, { pooling, normalize, truncate, layers, window }, (result) => `"embedding":${float32ToJson(result.embedding)}`);
      } finally {
        await model.dispose();
      }
    });
}
