import { Command, InvalidArgumentError, Option } from "commander";
import { float32ToJson } from "../../output/json.js";
import type { EmbedOptions } from "../../embedding/embed-options.js";
import { spanPoolingModes, type SpanPooling, type SpanRequest } from "../../tokens/spans.js";
import { gpuLayersOption, modelOption, openModel, threadsOption, type ModelCommandOptions } from "./model-options.js";
import { addPromptOptions, promptOptionsFor, readPromptChoice, type PromptCommandOptions } from "./prompt-options.js";
import { layersOption } from "./source-options.js";

interface SpanCommandOptions extends ModelCommandOptions, PromptCommandOptions {
  text: string;
  span?: SpanRequest[];
  find?: string[];
  spanPooling: SpanPooling;
  normalize: boolean;
  layers?: EmbedOptions["layers"];
}

function parseRange(value: string, previous: SpanRequest[] = []): SpanRequest[] {
  const match = /^(\d+):(\d+)$/.exec(value);
  if (!match) throw new InvalidArgumentError(`"${value}" is not START:END (character indices, END exclusive)`);
  return [...previous, { start: Number(match[1]), end: Number(match[2]) }];
}

export function spanCommand(): Command {
  return addPromptOptions(new Command("span"), "the text")
    .description("vectors of words or phrases inside a text, from one forward pass over the whole text (JSON)")
    .addOption(modelOption())
    .requiredOption("--text <text>", "the text the spans are in")
    .option("--span <start:end>", "a character range, END exclusive (repeatable)", parseRange)
    .option("--find <phrase...>", "the first occurrence of each phrase")
    .addOption(
      new Option("--span-pooling <mode>", "how a span pools its tokens").choices(spanPoolingModes).default("mean"),
    )
    .addOption(layersOption())
    .option("--no-normalize", "keep raw vectors instead of scaling them to unit length")
    .addOption(threadsOption())
    .addOption(gpuLayersOption())
    .addHelpText(
      "after",
      `
Output: {"text", "spans": [{"start", "end", "text", "tokenStart", "tokenEnd", "embedding"}]}
start/end index into --text. With --prompt (docs/prompting.md) the text is read inside its
prompt, a phrase is found in the text itself (not in a demonstration), and "prompted" holds the
prompted text, which tokenStart/tokenEnd count in.

Examples:
  $ ctxembed span --text "She sat on the river bank." --find bank
  $ ctxembed span --text "He deposited cash at the bank." --span 25:29 --layers last4
  $ ctxembed span --model gemma-3-270m --text "She sat on the river bank." --find bank --prompt prompteol --examples demo.jsonl`,
    )
    .action(async (options: SpanCommandOptions, command: Command) => {
      const spans = [...(options.span ?? []), ...(options.find ?? []).map((find) => ({ find }))];
      if (spans.length === 0) throw new InvalidArgumentError("give at least one --span or --find");
      const prompt = await readPromptChoice(options, command);
      const model = await openModel(options);
      try {
        const { normalize, layers, spanPooling } = options;
        const embedOptions: EmbedOptions = {
          normalize,
          layers,
          spanPooling,
          ...(prompt ? { prompt: promptOptionsFor(prompt, model) } : {}),
        };
        const result = await model.embed({ text: options.text, spans }, embedOptions);
        const rendered = result.spans!.map(
          ({ start, end, text, tokenStart, tokenEnd, embedding }) =>
            `{"start":${start},"end":${end},"text":${JSON.stringify(text)},"tokenStart":${tokenStart},"tokenEnd":${tokenEnd},"embedding":${float32ToJson(embedding)}}`,
        );
        const prompted = result.promptedText === undefined ? "" : `"prompted":${JSON.stringify(result.promptedText)},`;
        process.stdout.write(`{"text":${JSON.stringify(options.text)},${prompted}"spans":[${rendered.join(",")}]}\n`);
      } finally {
        await model.dispose();
      }
    });
}
