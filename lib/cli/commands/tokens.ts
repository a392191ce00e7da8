import { Command } from "commander";
import { float32ToJson } from "../../output/json.js";
import type { EmbedOptions } from "../../embedding/embed-options.js";
import type { Embedding, TokenVector } from "../../embedding/embedding-model.js";
import { runCorpusJob } from "../corpus-job.js";
import { checkCorpusOutput, openInput } from "../inputs.js";
import { runIdentity } from "../run-record.js";
import { jsonLinesSink } from "../sinks.js";
import { gpuLayersOption, modelOption, openModel, threadsOption, type ModelCommandOptions } from "./model-options.js";
import {
  addPromptOptions,
  describePrompt,
  promptOptionsFor,
  promptRecord,
  readPromptChoice,
  type PromptCommandOptions,
} from "./prompt-options.js";
import {
  addSourceOptions,
  checkSourceOptions,
  layersOption,
  windowOption,
  type SourceOptions,
} from "./source-options.js";

interface TokensCommandOptions extends ModelCommandOptions, SourceOptions, PromptCommandOptions {
  normalize: boolean;
  layers?: EmbedOptions["layers"];
  window?: EmbedOptions["window"];
}

function tokenJson(token: TokenVector): string {
  const { id, text, start, end, special, embedding } = token;
  return `{"id":${id},"text":${JSON.stringify(text)},"start":${start},"end":${end},"special":${special},"embedding":${float32ToJson(embedding)}}`;
}

export function tokensCommand(): Command {
  return addPromptOptions(addSourceOptions(new Command("tokens")))
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
start/end are JavaScript string (UTF-16) indices into the input line, end exclusive. With
--prompt (docs/prompting.md) every token of the prompt is returned, and the record carries the
prompted text as "prompted": start/end index into it.

Examples:
  $ ctxembed tokens --text "The bank raised its rates."
  $ ctxembed tokens --input corpus.txt --layers last4:mean --no-normalize > tokens.jsonl
  $ ctxembed tokens --input book.txt --window 256:64
  $ ctxembed tokens --input docs.jsonl --field body -o tokens.jsonl --resume
  $ ctxembed tokens --model gemma-3-270m --prompt prompteol --examples demo.jsonl --text "The bank raised its rates."`,
    )
    .action(async (options: TokensCommandOptions, command: Command) => {
      checkSourceOptions(options, command);
      const prompt = await readPromptChoice(options, command);
      await checkCorpusOutput(options.output, options);
      const reader = await openInput(options);
      const model = await openModel(options);
      try {
        const { normalize, layers, window } = options;
        const prompted = (result: Embedding) =>
          result.promptedText === undefined ? "" : `"prompted":${JSON.stringify(result.promptedText)},`;
        const sink = jsonLinesSink(
          options.output,
          (result) => `${prompted(result)}"tokens":[${result.tokens!.map(tokenJson).join(",")}]`,
        );
        const plain = { normalize, layers, window, tokens: true };
        const embedOptions: EmbedOptions = prompt ? { ...plain, prompt: promptOptionsFor(prompt, model) } : plain;
        const recorded = prompt ? { ...plain, prompt: promptRecord(prompt) } : plain;
        const identity = await runIdentity(
          { command: "tokens", format: "jsonl", input: options, embed: recorded },
          model,
        );
        await runCorpusJob(model, reader, embedOptions, sink, options, identity, prompt && describePrompt(prompt));
      } finally {
        await model.dispose();
      }
    });
}
