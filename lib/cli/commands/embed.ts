import { createReadStream, createWriteStream } from "node:fs";
import { once } from "node:events";
import { createInterface } from "node:readline";
import type { Writable } from "node:stream";
import { Command, Option } from "commander";
import { poolingModes } from "../../pooling.js";
import { float32ToJson } from "../../output/json.js";
import type { EmbedOptions, EmbeddingModel } from "../../models/embedding-model.js";
import { note, ProgressLine } from "../terminal.js";
import { modelOption, openModel, threadsOption, type ModelCommandOptions } from "./model-options.js";

interface EmbedCommandOptions extends ModelCommandOptions {
  input: string;
  output?: string;
  format: "jsonl";
  pooling: NonNullable<EmbedOptions["pooling"]>;
  normalize: boolean;
  truncate: boolean;
  skipEmpty: boolean;
  chunk: number;
}

interface PendingLine {
  index: number;
  text: string;
}

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, "drain");
}

export async function embedLines(model: EmbeddingModel, options: EmbedCommandOptions): Promise<void> {
  const input = options.input === "-" ? process.stdin : createReadStream(options.input);
  const out = options.output ? createWriteStream(options.output) : process.stdout;
  const lines = createInterface({ input, crlfDelay: Infinity });
  const progress = new ProgressLine();
  const started = performance.now();
  let items = 0;
  let tokens = 0;
  let truncated = 0;
  let pending: PendingLine[] = [];

  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const results = await model.embed(
      pending.map((line) => line.text),
      { pooling: options.pooling, normalize: options.normalize, truncate: options.truncate },
    );
    let text = "";
    results.forEach((result, k) => {
      const flag = result.truncated ? ',"truncated":true' : "";
      text += `{"index":${pending[k]!.index},"embedding":${float32ToJson(result.embedding)}${flag}}\n`;
      tokens += result.tokenCount;
      if (result.truncated) truncated++;
    });
    items += results.length;
    pending = [];
    await write(out, text);
    const seconds = (performance.now() - started) / 1000;
    progress.update(() => `ctxembed: ${items} embedded, ${Math.round(tokens / seconds)} tokens/s`);
  };

  let index = 0;
  for await (const line of lines) {
    const lineNumber = ++index;
    if (line.length === 0) {
      if (options.skipEmpty) continue;
      throw new RangeError(`line ${lineNumber} of ${options.input === "-" ? "standard input" : options.input} is empty; pass --skip-empty to leave empty lines out`);
    }
    pending.push({ index: lineNumber - 1, text: line });
    if (pending.length >= options.chunk) await flush();
  }
  await flush();
  progress.clear();
  if (out !== process.stdout) {
    out.end();
    await once(out, "finish");
  }
  const seconds = (performance.now() - started) / 1000;
  note(`embedded ${items} inputs (${tokens} tokens, ${truncated} truncated) in ${seconds.toFixed(1)} s with ${model.info.name}`);
}

export function embedCommand(): Command {
  return new Command("embed")
    .description("embed each line of a text file (or standard input) and write one JSON object per line")
    .addOption(modelOption())
    .option("-i, --input <file>", "input file, one text per line; - reads standard input", "-")
    .option("-o, --output <file>", "output file (default: standard output)")
    .addOption(new Option("-f, --format <format>", "output format").choices(["jsonl"]).default("jsonl"))
    .addOption(new Option("--pooling <mode>", "pooling; model = the model's own").choices(["model", ...poolingModes]).default("model"))
    .option("--no-normalize", "keep raw vectors instead of scaling them to unit length")
    .option("--no-truncate", "fail on inputs longer than the model's limit instead of cutting them")
    .option("--skip-empty", "leave empty lines out instead of failing on them", false)
    .addOption(threadsOption())
    .addOption(new Option("--chunk <lines>", "lines read ahead and embedded together").argParser((v) => Number.parseInt(v, 10)).default(512))
    .addHelpText(
      "after",
      `
Output: one line per input, in input order: {"index": <0-based line>, "embedding": [...]},
with "truncated": true added when an input was cut to the model's limit.

Examples:
  $ ctxembed embed --input sentences.txt > vectors.jsonl
  $ cat notes.txt | ctxembed embed --model all-minilm-l6-v2 --skip-empty
  $ ctxembed embed --model ./my-model.gguf --input docs.txt --pooling cls --no-normalize -o out.jsonl`,
    )
    .action(async (options: EmbedCommandOptions) => {
      const model = await openModel(options);
      try {
        await embedLines(model, options);
      } finally {
        await model.dispose();
      }
    });
}
