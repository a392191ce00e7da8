import { Command, Option } from "commander";
import type { EmbedInput, EmbedOptions } from "../../embedding/embed-options.js";
import type { EmbeddingModel } from "../../embedding/embedding-model.js";
import { candidateSettings, candidateSpans } from "../../phrases/candidates.js";
import { phraseEmbedOptions } from "../../phrases/phrase-vectors.js";
import { poolingModes } from "../../vectors/pooling.js";
import { defaultAnnThreshold, indexModelOf, type IndexSettings } from "../../vector-index/settings.js";
import type { IndexRow, VectorIndex } from "../../vector-index/vector-index.js";
import { runCorpusJob } from "../corpus-job.js";
import { openInput, recordId, type InputReader, type InputRecord } from "../inputs.js";
import type { VectorSink } from "../sinks.js";
import { note, ProgressLine } from "../terminal.js";
import { gpuLayersOption, modelOption, openModel, threadsOption, type ModelCommandOptions } from "./model-options.js";
import { addPhraseOptions, phraseSettingsOf, type PhraseCommandOptions } from "./phrase-options.js";
import {
  addPromptOptions,
  describePrompt,
  promptOptionsFor,
  readPromptChoice,
  type PromptChoice,
  type PromptCommandOptions,
} from "./prompt-options.js";
import { addInputOptions, layersOption, positiveInteger, windowOption, type SourceOptions } from "./source-options.js";

/** Flags that say how to read or embed texts: a job's parts are embedded already. */
const embeddingFlags = [
  "input",
  "text",
  "model",
  "phrases",
  "storeText",
  "metadata",
  "resume",
  "pooling",
  "dimensions",
  "layers",
  "window",
  "normalize",
  "truncate",
  "prompt",
  "role",
  "task",
  "examples",
  "retrieveExamples",
] as const;

interface IndexBuildOptions
  extends ModelCommandOptions,
    Omit<SourceOptions, "output">,
    PhraseCommandOptions,
    PromptCommandOptions {
  index: string;
  from?: string;
  table?: string;
  phrases: boolean;
  storeText: boolean;
  metadata?: string[];
  annThreshold: number;
  pooling?: NonNullable<EmbedOptions["pooling"]>;
  normalize: boolean;
  truncate: boolean;
  layers?: EmbedOptions["layers"];
  window?: EmbedOptions["window"];
  dimensions?: number;
}

/** Columns every row of a kind has; a --metadata field of the same name would overwrite them. */
const ownColumns = {
  sentences: ["id", "vector", "text"],
  phrases: ["id", "vector", "text", "passage", "start", "end"],
};

const commaList = (value: string): string[] =>
  value
    .split(",")
    .map((field) => field.trim())
    .filter((field) => field.length > 0);

/** A record read without the ids an earlier run already stored. */
function withoutStored(reader: InputReader, stored: Set<string>): InputReader {
  return {
    ...reader,
    async *records(signal) {
      for await (const record of reader.records(signal)) if (!stored.has(recordId(record))) yield record;
    },
  };
}

/** What the index stores for each record, and how the model reads it. */
interface RowPlan {
  settings: IndexSettings;
  embedOptions: EmbedOptions;
  inputOf: (record: InputRecord) => EmbedInput;
  rowsOf: (record: InputRecord, result: Awaited<ReturnType<EmbeddingModel["embed"]>>[number]) => IndexRow[];
  /** the column whose values name what a build has stored (resuming skips them) */
  storedBy: string;
}

async function rowPlan(model: EmbeddingModel, options: IndexBuildOptions, prompt?: PromptChoice): Promise<RowPlan> {
  const indexModel = await indexModelOf(model, options.model);
  const fieldsOf = (record: InputRecord) => record.fields ?? {};
  if (options.phrases) {
    const { scoring, ...phraseOptions } = phraseSettingsOf(options);
    if (scoring !== "vector")
      throw new RangeError(
        "--scoring tokens compares every token with every token and cannot be indexed: a phrase index stores one vector per span",
      );
    const candidates = candidateSettings(phraseOptions);
    const vectorOptions = {
      ...(options.layers === undefined ? {} : { layers: options.layers }),
      ...(options.spanPooling === undefined ? {} : { spanPooling: options.spanPooling }),
    };
    const embedOptions = phraseEmbedOptions(vectorOptions, "vector");
    const [probe] = await model.embed([{ text: "width", spans: [{ start: 0, end: 5 }] }], embedOptions);
    return {
      settings: {
        kind: "phrases",
        model: indexModel,
        dimensions: probe!.spans![0]!.embedding.length,
        phrases: { ...candidates, ...vectorOptions },
      },
      embedOptions,
      inputOf: (record) => ({ text: record.text, spans: candidateSpans(record.text, candidates) }),
      rowsOf: (record, result) => {
        const passage = recordId(record);
        return result.spans!.map((span) => ({
          ...fieldsOf(record),
          id: `${passage}:${span.start}-${span.end}`,
          vector: span.embedding,
          passage,
          start: span.start,
          end: span.end,
          text: record.text.slice(span.start, span.end),
        }));
      },
      storedBy: "passage",
    };
  }
  const { pooling, normalize, truncate, layers, window, dimensions } = options;
  const embedOptions: EmbedOptions = {
    // As in `embed`: without --pooling a prompt brings its preset's pooling, else the model's own.
    ...(pooling !== undefined ? { pooling } : prompt ? {} : { pooling: "model" }),
    ...(prompt ? { prompt: promptOptionsFor(prompt) } : {}),
    normalize,
    truncate,
    ...(layers === undefined ? {} : { layers }),
    ...(window === undefined ? {} : { window }),
    ...(dimensions === undefined ? {} : { dimensions }),
  };
  const [probe] = await model.embed(["width"], embedOptions);
  return {
    settings: { kind: "sentences", model: indexModel, dimensions: probe!.embedding.length, embed: embedOptions },
    embedOptions,
    inputOf: (record) => record.text,
    rowsOf: (record, result) => [
      {
        ...fieldsOf(record),
        id: recordId(record),
        vector: result.embedding,
        ...(options.storeText ? { text: record.text } : {}),
      },
    ],
    storedBy: "id",
  };
}

/** Builds or updates the ANN index where the table has grown past the threshold, and says what the table holds. */
async function reportIndex(
  index: VectorIndex,
  options: Pick<IndexBuildOptions, "index" | "annThreshold">,
): Promise<void> {
  const ann = await index.updateAnnIndex(options.annThreshold);
  const rows = await index.count();
  const state =
    ann === "built"
      ? "ANN index built"
      : ann === "updated"
        ? "ANN index updated"
        : `exact search (an ANN index comes at ${options.annThreshold} rows)`;
  note(`${options.index} (table "${index.tableName}"): ${rows} rows, ${state}`);
}

function indexSink(index: VectorIndex, plan: RowPlan): VectorSink {
  return {
    output: index.directory,
    resume: async () => 0,
    async write(results, records) {
      const rows = records.flatMap((record, i) => plan.rowsOf(record, results[i]!));
      // A re-read passage replaces all its spans: those its text no longer has go with the same commit.
      await index.add(
        rows,
        plan.storedBy === "passage" ? { column: "passage", values: records.map(recordId) } : undefined,
      );
    },
    close: async () => undefined,
  };
}

/** "retrieveExamples" → "--retrieve-examples"; the negated booleans as they are typed ("--no-normalize"). */
const flagName = (key: string): string =>
  `--${key === "normalize" || key === "truncate" ? "no-" : ""}${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** Loads a finished job's parts: no model is loaded, the job's model and options are recorded. */
async function buildFromParts(options: IndexBuildOptions, command: Command): Promise<void> {
  const given = embeddingFlags.filter((flag) => command.getOptionValueSource(flag) === "cli");
  if (given.length > 0)
    command.error(
      `error: --from loads vectors a job has made with its own model and options; leave out ${given.map(flagName).join(", ")}`,
      { exitCode: 2 },
    );
  const directory = options.from!;
  const { jobIndexSettings, jobRows, readIndexableManifest } = await import("../job-index.js");
  const manifest = await readIndexableManifest(directory);
  const rows = jobRows(directory, manifest);
  const first = await rows.next();
  if (first.done) throw new Error(`${directory} holds no rows to index`);
  const { openIndex } = await import("../../vector-index/vector-index.js");
  const index = await openIndex(options.index, {
    settings: jobIndexSettings(manifest, first.value.vector.length),
    ...(options.table === undefined ? {} : { table: options.table }),
  });
  try {
    let batch = [first.value];
    let added = 0;
    const progress = new ProgressLine();
    const commit = async () => {
      await index.add(batch);
      added += batch.length;
      batch = [];
      progress.update(() => `${added} of ${manifest.rows} rows from ${directory}`);
    };
    for await (const row of rows) {
      batch.push(row);
      if (batch.length >= options.chunk) await commit();
    }
    if (batch.length > 0) await commit();
    progress.clear();
    note(`loaded ${added} rows from the ${manifest.parts.length} parts of job ${manifest.job}`);
    await reportIndex(index, options);
  } finally {
    await index.close();
  }
}

export function indexCommand(): Command {
  const build = addInputOptions(new Command("build"))
    .description(
      "embed a corpus into a LanceDB index: one vector per text, or with --phrases one per candidate span read in its passage",
    )
    .requiredOption("--index <dir>", "the index directory (made when missing)")
    .option("--table <name>", "the table in the directory (default: sentences, or phrases with --phrases)")
    .option(
      "--from <dir>",
      "instead of embedding: load the parts of a finished `embed --queue` job (its --output folder, float32 JSON lines)",
    )
    .addOption(modelOption())
    .option(
      "--phrases",
      "index every candidate span of every passage, read in context (--max-words, --min-words, --candidates)",
      false,
    )
    .option("--store-text", "store each text beside its vector (phrase rows always store the span's text)", false)
    .option(
      "--metadata <fields>",
      "JSON lines fields or CSV/TSV columns stored beside the vector, comma-separated (for --filter)",
      commaList,
    )
    .addOption(
      new Option(
        "--ann-threshold <rows>",
        "build an approximate (IVF-PQ) index once the table has this many rows; below it search is exact",
      )
        .argParser(positiveInteger)
        .default(defaultAnnThreshold),
    )
    .option(
      "--resume",
      "skip the texts whose ids are already in the table (continue an interrupted build) instead of re-embedding and upserting them",
      false,
    )
    .addOption(
      new Option("--chunk <n>", "inputs read ahead and embedded together (one commit each)")
        .argParser(positiveInteger)
        .default(512),
    )
    .addOption(
      new Option(
        "--pooling <mode>",
        "sentences: pooling; model = the model's own (default: the --prompt preset's, else the model's)",
      ).choices(["model", ...poolingModes]),
    )
    .addOption(
      new Option("--dimensions <n>", "sentences: keep the first N dimensions (Matryoshka), re-normalised").argParser(
        positiveInteger,
      ),
    )
    .addOption(layersOption())
    .addOption(windowOption())
    .option("--no-normalize", "sentences: keep raw vectors (search still ranks by cosine)")
    .option("--no-truncate", "sentences: fail on inputs longer than the model's limit instead of cutting them");
  addPhraseOptions(
    addPromptOptions(build, "each text (sentence indexes; stored, so queries get it too)"),
    "with --phrases: ",
  )
    .addOption(threadsOption())
    .addOption(gpuLayersOption())
    .addHelpText(
      "after",
      `
Rows are upserted by id (the input's id, else the 0-based line or data row): building twice
leaves one row per id, and a re-read passage replaces all its spans. One process writes an
index at a time (a lock file in the directory). The table records the model (name and sha256)
and every option that changes the vectors; adding with other options is refused, and so is
searching with another model. A --prompt is stored with the table: \`search\` embeds queries
with it unless given prompt flags of its own (for models that prompt queries and documents
differently). Ctrl-C stops after the chunk in hand (exit 130): run the same
command with --resume to skip what is stored. Progress shows on standard error.

Examples:
  $ ctxembed index build --input docs.jsonl --field body --id-field doc_id --index ./idx --store-text
  $ ctxembed index build --input news.csv --column text --metadata source,year --index ./idx
  $ ctxembed index build --input passages.jsonl --index ./idx --phrases --max-words 4 --min-words 2
  $ ctxembed index build --input docs.jsonl --index ./idx --resume        # after Ctrl-C
  $ ctxembed index build --from ./job-parts --index ./idx                 # an embed --queue job's output
  $ ctxembed index build --model ./qwen3-embedding.gguf --prompt qwen3-embedding --role document --input passages.txt --index ./idx`,
    )
    .action(async (options: IndexBuildOptions, command: Command) => {
      if (options.from !== undefined) return buildFromParts(options, command);
      const kind = options.phrases ? "phrases" : "sentences";
      const clash = options.metadata?.find((field) => ownColumns[kind].includes(field));
      if (clash !== undefined)
        command.error(
          `error: --metadata ${clash}: "${clash}" is a column every ${kind} row has already; rename the field`,
          { exitCode: 2 },
        );
      if (options.text && options.resume)
        command.error("error: --resume works on an --input file, not on --text", { exitCode: 2 });
      const prompt = await readPromptChoice(options, command);
      if (prompt && options.phrases)
        command.error(
          "error: --prompt shapes sentence vectors; a phrase index reads its spans in their passages as they are",
          { exitCode: 2 },
        );
      // The table records how its vectors were made, as JSON: fixed demonstrations can be stored, a retrieval pool cannot.
      if (prompt?.retrieve !== undefined)
        command.error("error: --retrieve-examples cannot be recorded in an index: give fixed --examples", {
          exitCode: 2,
        });
      const reader = await openInput({
        ...options,
        ...(options.phrases ? { skipEmpty: true } : {}),
        ...(options.metadata ? { fields: options.metadata } : {}),
      });
      const model = await openModel(options);
      try {
        const plan = await rowPlan(model, options, prompt);
        if (prompt) note(describePrompt(prompt));
        // Loaded here, not at the top: every other command would otherwise pay for loading LanceDB.
        const { openIndex } = await import("../../vector-index/vector-index.js");
        const index = await openIndex(options.index, {
          settings: plan.settings,
          ...(options.table === undefined ? {} : { table: options.table }),
        });
        try {
          const stored = options.resume ? await index.values(plan.storedBy) : new Set<string>();
          if (stored.size > 0)
            note(
              `resuming: ${stored.size} ${plan.storedBy === "id" ? "texts" : "passages"} already in ${options.index} are skipped`,
            );
          await runCorpusJob(
            model,
            withoutStored(reader, stored),
            plan.embedOptions,
            indexSink(index, plan),
            { chunk: options.chunk, resume: false, inputOf: plan.inputOf },
            undefined,
          );
          await reportIndex(index, options);
        } finally {
          await index.close();
        }
      } finally {
        await model.dispose();
      }
    });
  return new Command("index")
    .description("build a vector index (LanceDB) for `ctxembed search` and `serve --index`")
    .addCommand(build.exitOverride());
}
