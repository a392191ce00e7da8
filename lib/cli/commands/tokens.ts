import { Command } from "commander";
import { float32ToJson } from "../../output/json.js";
import type { EmbedOptions } from "../../models/embed-options.js";
import type { TokenVector } from "../../models/embedding-model.js";
import { runCorpusJob } from "../corpus-job.js";
import { openInput } from "../inputs.js";
import { runIdentity } from "../run-record.js";
import { jsonLinesSink } from "../sinks.js";
import { gpuLayersOption, modelOption, openModel, threadsOption, type ModelCommandOptions } from "./model-options.js";
import { addSourceOptions, checkSourceOptions, layersOption, windowOption, type SourceOptions } from "./source-options.js";

interface TokensCommandOptions extends ModelCommandOptions, SourceOptions {
  normalize: boolean;
  layers?: EmbedOptions["layers"];
  window?: EmbedOptions["window"];
}

function tokenJson(token: TokenVector): string {
  const { id, text, start, end, special, embedding } = token;
  return `{"id":${id},"text":${JSON.stringify(text)},"start":${start},"end":${end},"special":${special},"embedding":${float32ToJson(embedding)}}`;
}

export function tokensCommand(): Command {
  return addSourceOptions(new Command("tokens"))
    .description("every token's vector with its id, text and character range (JSON lines, one per input)")
    .addOption(modelOption())
    .addOption(layersOption())
    .addOption(windowOption())
    .option("--no-normalize", "keep raw vectors instead of scaling them to unit length")
    .addOption(threadsOption())
    .addOption(gpuLayersOption())
    .addHelpText(
      "after",
      `
Output: {"index": i, "tokens": [{"id", "text", "start", "end", "special", "embedding"}]} per input;
start/end are JavaScript string (UTF-16) indices into the input line, end exclusive.

Examples:
  $ ctxembed tokens --text "The bank raised its rates."
  $ ctxembed tokens --input corpus.txt --layers last4:mean --no-normalize > tokens.jsonl
  $ ctxembed tokens --input book.txt --window 256:64
  $ ctxembed tokens --input docs.jsonl --field body -o tokens.jsonl --resume`,
    )
    .action(async (options: TokensCommandOptions, command: Command) => {
      checkSourceOptions(options, command);
      const reader = await openInput(options);
      const model = await openModel(options);
      try {
        const { normalize, layers, window } = options;
        const sink = jsonLinesSink(options.output, (result) => `"tokens":[${result.tokens!.map(tokenJson).join(",")}]`);
        const embedOptions = { normalize, layers, window, tokens: true };
        const identity = await runIdentity({ command: "tokens", format: "jsonl", input: options, embed: embedOptions }, model);
        await runCorpusJob(model, reader, embedOptions, sink, options, identity);
      } finally {
        await model.dispose();
      }
    });
}
