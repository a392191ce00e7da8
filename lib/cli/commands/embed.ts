import { Command, Option } from "commander";
import { poolingModes } from "../../vectors/pooling.js";
import { precisions, type Precision } from "../../output/quantize-vectors.js";
import type { EmbedOptions } from "../../embedding/embed-options.js";
import { runCorpusJob } from "../corpus-job.js";
import { checkCorpusOutput, openInput } from "../inputs.js";
import { runIdentity } from "../run-record.js";
import { embeddingSink, outputFormats, type OutputFormat } from "../sinks.js";
import { gpuLayersOption, modelOption, openModel, threadsOption, type ModelCommandOptions } from "./model-options.js";
import {
  addPromptOptions,
  describePrompt,
  jobPromptOptions,
  promptOptionsFor,
  promptRecord,
  readPromptChoice,
  type PromptCommandOptions,
} from "./prompt-options.js";
import { maxLineBytesOption, queueOption, submitFromCommandLine, type QueueSubmitOptions } from "./queue-options.js";
import {
  addSourceOptions,
  checkSourceOptions,
  layersOption,
  positiveInteger,
  windowOption,
  type SourceOptions,
} from "./source-options.js";

interface EmbedCommandOptions extends ModelCommandOptions, SourceOptions, PromptCommandOptions, QueueSubmitOptions {
  format: OutputFormat;
  precision: Precision;
  dimensions?: number;
  pooling?: NonNullable<EmbedOptions["pooling"]>;
  normalize: boolean;
  truncate: boolean;
  layers?: EmbedOptions["layers"];
  window?: EmbedOptions["window"];
}

export function embedCommand(): Command {
  return addPromptOptions(addSourceOptions(new Command("embed")))
    .description(
      "embed each text of a corpus (text lines, JSON lines, CSV, TSV, or standard input): JSON lines, .npy or raw rows out",
    )
    .addOption(modelOption())
    .addOption(
      new Option("-f, --format <format>", "output format (npy and raw need --output)")
        .choices(outputFormats)
        .default("jsonl"),
    )
    .addOption(
      new Option("--precision <precision>", "stored precision; int8 keeps a scale per vector")
        .choices(precisions)
        .default("float32"),
    )
    .addOption(
      new Option("--dimensions <n>", "keep the first N dimensions (Matryoshka), re-normalised").argParser(
        positiveInteger,
      ),
    )
    .addOption(
      new Option(
        "--pooling <mode>",
        "pooling; model = the model's own (default: the --prompt preset's, else the model's)",
      ).choices(["model", ...poolingModes]),
    )
    .addOption(layersOption())
    .addOption(windowOption())
    .option("--no-normalize", "keep raw vectors instead of scaling them to unit length")
    .option("--no-truncate", "fail on inputs longer than the model's limit instead of cutting them")
    .addOption(threadsOption())
    .addOption(gpuLayersOption())
    .addOption(queueOption())
    .addOption(
      new Option("--shard-size <n>", "with --queue: texts per shard job").argParser(positiveInteger).default(1000),
    )
    .addOption(
      new Option("--attempts <n>", "with --queue: tries per shard before it is marked failed")
        .argParser(positiveInteger)
        .default(3),
    )
    .addOption(maxLineBytesOption())
    .option("--detach", "with --queue: print the job id and return instead of waiting (see ctxembed jobs)", false)
    .addHelpText(
      "after",
      `
Input: plain text has one item per line; JSON lines give the text in --field and an id in
--id-field; CSV and TSV (with a header row unless --no-header) in --column and --id-column.
The input is streamed: a corpus of any size is read, embedded and written a chunk at a time.

Output: one result per input, in input order. JSON lines: {"index": i, "id"?: ..., "embedding":
[...], "truncated"?: true}, where index is the 0-based line (the data row for CSV/TSV) and id is
carried from the input. With --precision the embedding is float16 numbers, {"values", "scale"}
for int8, or base64 packed sign bits for binary. --format npy writes one row per input to
--output; --format raw writes bare little-endian rows and a sidecar <output>.json with shape,
dtype (NumPy's name), model and options. int8 scales go beside, in <name>.scales.<ext>.

Progress (inputs, tokens/s, ETA) shows on standard error when it is a terminal; a summary line
always ends the run. Exit codes: 0 done, 1 failed (message on standard error), 2 wrong command
line, 130 interrupted by Ctrl-C after writing the results in hand: run the same command with
--resume to continue without duplicating or losing a result. Every output file gets a run record
<output>.meta.json (input, model, options; "complete" only once every input is written) and
<output>.meta.digests (what each result was made from, checked by --resume); a
partial .npy keeps a 0-row header, a partial raw sidecar says "complete": false, and --resume
refuses an output another run made, naming what differs. Docs: docs/cli.md.

Prompts (docs/prompting.md): --prompt puts every input in a preset's or your own template; the
preset's pooling applies unless --pooling is given. --examples holds demonstrations as JSON lines
{"query": "...", "response": "..."}: all of them go before every input, or with
--retrieve-examples K the K nearest to each input. The summary line (and a raw sidecar) records
the prompt options.

Reduced precision: --model NAME:VARIANT picks a catalogue variant (all-minilm-l6-v2: f32, f16,
bf16, q8_0); \`ctxembed info\` names the one this CPU runs fastest at min cosine >= 0.999 to
sentence-transformers, as measured (fastestVariant; docs/performance.md). f32 stays the default.

Examples:
  $ ctxembed embed --input sentences.txt > vectors.jsonl
  $ ctxembed embed --model all-minilm-l6-v2:q8_0 --input corpus.txt -o vectors.jsonl   # q8_0: 8-bit weights and activations
  $ cat notes.txt | ctxembed embed --model all-minilm-l6-v2 --skip-empty
  $ ctxembed embed --text "first sentence" "second sentence" --layers last4
  $ ctxembed embed --input docs.jsonl --field body --id-field doc_id -o vectors.jsonl
  $ ctxembed embed --input reviews.csv --column review --id-column review_id -o vectors.jsonl
  $ ctxembed embed --input corpus.txt --format npy --precision int8 --dimensions 256 -o corpus.npy
  $ ctxembed embed --input corpus.txt --format raw -o corpus.f32     # + corpus.f32.json
  $ ctxembed embed --input corpus.txt --format raw -o corpus.f32 --resume   # after Ctrl-C
  $ ctxembed embed --model ./my-model.gguf --input docs.txt --pooling cls --no-normalize -o out.jsonl
  $ ctxembed embed --input long-documents.txt --window 256:128
  $ ctxembed embed --model gemma-3-270m --prompt prompteol --examples demo.jsonl --input sentences.txt
  $ ctxembed embed --model gemma-3-270m --prompt prompteol --examples pool.jsonl --retrieve-examples 3 --input sentences.txt
  $ ctxembed embed --model ./qwen3-embedding.gguf --prompt qwen3-embedding --task "Given a web search query, retrieve relevant passages" --input queries.txt
  $ ctxembed embed --model ./qwen3-embedding.gguf --prompt qwen3-embedding --role document --input passages.txt
  $ ctxembed embed --input corpus.txt --output parts/ --queue redis://queue-host:6379   # on workers: ctxembed worker

With --queue the input is cut into shards of --shard-size lines and embedded by any number of
\`ctxembed worker\` processes; --output is a folder that receives part-00000.jsonl... and, last,
manifest.json; \`ctxembed merge\` joins the parts. Running the same command again resumes the job.
See docs/distributed.md.`,
    )
    .action(async (options: EmbedCommandOptions, command: Command) => {
      checkSourceOptions(options, command);
      const prompt = await readPromptChoice(options, command);
      const { pooling, normalize, truncate, layers, window, precision, dimensions } = options;
      const plain: Omit<EmbedOptions, "prompt"> = {
        ...(pooling === undefined ? {} : { pooling }),
        normalize,
        truncate,
        layers,
        window,
        dimensions,
        precision,
      };
      if (options.queue) {
        // Workers get the options as JSON: a retrieval pool goes as its demonstrations, embedded by each worker's model.
        return submitFromCommandLine(options, prompt ? { ...plain, prompt: jobPromptOptions(prompt) } : plain, command);
      }
      if (options.format !== "jsonl" && !options.output)
        command.error(`error: --format ${options.format} needs --output FILE`, { exitCode: 2 });
      await checkCorpusOutput(options.output, options);
      const reader = await openInput(options);
      const model = await openModel(options);
      try {
        const embedOptions: EmbedOptions = prompt ? { ...plain, prompt: promptOptionsFor(prompt, model) } : plain;
        const recorded = prompt
          ? { ...plain, prompt: promptRecord(prompt) }
          : { ...plain, pooling: pooling ?? "model" };
        const sink = embeddingSink(options.format, options.output, precision, {
          model: model.info.name,
          options: recorded,
        });
        const identity = await runIdentity(
          { command: "embed", format: options.format, input: options, embed: recorded },
          model,
        );
        await runCorpusJob(model, reader, embedOptions, sink, options, identity, prompt && describePrompt(prompt));
      } finally {
        await model.dispose();
      }
    });
}
