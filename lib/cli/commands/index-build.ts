import { realpath } from "node:fs/promises";
import { resolve } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import type { EmbedInput, EmbedOptions } from "../../embedding/embed-options.js";
import type { EmbeddingModel } from "../../embedding/embedding-model.js";
import { candidateSettings, candidateSpans } from "../../phrases/candidates.js";
import { phraseEmbedOptions } from "../../phrases/phrase-vectors.js";
import { poolingModes } from "../../vectors/pooling.js";
import { ColumnTypeInference, columnTypes, typedValue, type ColumnType } from "../../vector-index/columns.js";
import { defaultCommitRows, IndexWriter } from "../../vector-index/index-writer.js";
import { defaultAnnThreshold, indexModelOf, type IndexSettings } from "../../vector-index/settings.js";
import type { IndexRow, VectorIndex } from "../../vector-index/vector-index.js";
import { runCorpusJob } from "../corpus-job.js";
import { openInput, recordId, type InputReader, type InputRecord } from "../inputs.js";
import type { VectorSink } from "../sinks.js";
import { note, ProgressLine } from "../terminal.js";
import { gpuLayersOption, modelOption, openModel, threadsOption, type ModelCommandOptions } from "./model-options.js";
import { loadVectorIndex } from "./search.js";
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
  metadata?: MetadataField[];
  annThreshold: number;
  commitRows: number;
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

/** A --metadata field, with the column type it was declared with ("year:number"). */
interface MetadataField {
  name: string;
  type?: ColumnType;
}

/** "source,year:number" → the fields and their declared types. */
function metadataFields(value: string, previous: MetadataField[] = []): MetadataField[] {
  const fields = value
    .split(",")
    .map((field) => field.trim())
    .filter((field) => field.length > 0)
    .map((field) => {
      const at = field.lastIndexOf(":");
      if (at < 0) return { name: field };
      const type = field.slice(at + 1);
      if (!(columnTypes as readonly string[]).includes(type))
        throw new InvalidArgumentError(
          `"${field}": the type after ":" is one of ${columnTypes.join(", ")}, not "${type}"`,
        );
      return { name: field.slice(0, at), type: type as ColumnType };
    });
  return [...previous, ...fields];
}

/**
 * The column types of the --metadata fields: the declared ones, and for the others, the type of
 * their values over the whole input (read once before any embedding), so that a field empty in
 * the first rows gets the type of its later values. A field with no value anywhere is left to
 * the table (text in a new one).
 */
async function metadataColumns(
  reader: InputReader,
  fields: readonly MetadataField[],
): Promise<Record<string, ColumnType | undefined>> {
  const declared = Object.fromEntries(fields.map((field) => [field.name, field.type]));
  const undeclared = undeclaredFields(fields);
  if (undeclared.length === 0) return declared;
  const inference = new ColumnTypeInference((name) => `--metadata ${name}`);
  for await (const record of reader.records(new AbortController().signal)) {
    const values = record.fields ?? {};
    inference.add(Object.fromEntries(undeclared.map((name) => [name, values[name]])), record.where);
  }
  return { ...declared, ...inference.types() };
}

const undeclaredFields = (fields: readonly MetadataField[]) =>
  fields.filter((field) => field.type === undefined).map((field) => field.name);

/** A record's --metadata values as their columns store them (a CSV cell "1999" in a number column is 1999). */
function metadataOf(record: InputRecord, columns: Record<string, ColumnType | undefined>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(record.fields ?? {}).map(([name, value]) => {
      const type = columns[name];
      return [name, type === undefined ? value : typedValue(type, value, name, record.where)];
    }),
  );
}

/**
 * The records to index: without the ids an earlier run already stored (--resume), and checked
 * before any is skipped or embedded: a record without an id gets its line number, which names a
 * row of another file in a table that holds one.
 */
function recordsToIndex(
  reader: InputReader,
  stored: Set<string>,
  requireLineIds: (record: InputRecord) => void,
): InputReader {
  return {
    ...reader,
    async *records(signal) {
      let checked = false;
      for await (const record of reader.records(signal)) {
        if (!checked && (record.id === undefined || record.id === null)) {
          requireLineIds(record);
          checked = true;
        }
        if (!stored.has(recordId(record))) yield record;
      }
    },
  };
}

/**
 * What a table's line-number ids are relative to: the input file, by its real path. Standard
 * input has no name to tell one stream from another.
 */
async function originOf(options: Pick<IndexBuildOptions, "input" | "text">): Promise<string | undefined> {
  if (options.text) return "the command line";
  return options.input === "-" ? undefined : fileOrigin(options.input);
}

/** Rows read from a file: its real path where the file is there, else the (absolute) path a job recorded. */
async function fileOrigin(path: string): Promise<string> {
  return `file ${await realpath(path).catch(() => resolve(path))}`;
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

async function rowPlan(
  model: EmbeddingModel,
  options: IndexBuildOptions,
  columns: Record<string, ColumnType | undefined>,
  prompt?: PromptChoice,
): Promise<RowPlan> {
  const indexModel = await indexModelOf(model, options.model);
  const fieldsOf = (record: InputRecord) => metadataOf(record, columns);
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

/**
 * Commits what is queued, compacts the table, builds or updates the ANN index where the table
 * has grown past the threshold, and says what the table holds and which inputs came twice.
 */
async function finishIndex(
  writer: IndexWriter,
  options: Pick<IndexBuildOptions, "index" | "annThreshold">,
  inputs?: { name: string; unit: string },
): Promise<void> {
  const { rows, fragments, ann, duplicates } = await writer.finish(options.annThreshold);
  if (inputs && duplicates.inputs > 0)
    note(
      `warning: ${duplicates.inputs} ${inputs.unit} appear more than once in ${inputs.name} (${duplicates.rows} extra rows): ` +
        `the last of each is kept, e.g. ${JSON.stringify(duplicates.example)}`,
    );
  const state =
    ann === "built"
      ? "ANN index built"
      : ann === "updated"
        ? "ANN index updated"
        : `exact search (an ANN index comes at ${options.annThreshold} rows)`;
  note(
    `${options.index} (table "${writer.index.tableName}"): ${rows} rows, ${state}; ${fragments} data fragment${fragments === 1 ? "" : "s"} after compaction`,
  );
}

const reportIndex = (index: VectorIndex, options: Pick<IndexBuildOptions, "index" | "annThreshold">) =>
  finishIndex(new IndexWriter(index), options);

function indexSink(writer: IndexWriter, plan: RowPlan): VectorSink {
  return {
    output: writer.index.directory,
    resume: async () => 0,
    async write(results, records) {
      for (const [i, record] of records.entries())
        await writer.write(recordId(record), plan.rowsOf(record, results[i]!));
    },
    // What is queued is committed even when the run stops early: those rows are whole.
    close: () => writer.flush(),
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
    origin: await fileOrigin(manifest.input.path),
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
      `JSON lines fields or CSV/TSV columns stored beside the vector, comma-separated (for --filter); NAME:TYPE declares a column's type (${columnTypes.join(", ")}), else it is inferred from all the input's values`,
      metadataFields,
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
      new Option("--chunk <n>", "inputs read ahead and embedded together").argParser(positiveInteger).default(512),
    )
    .addOption(
      new Option("--commit-rows <n>", "rows written to the table in one commit (the table is compacted every 16)")
        .argParser(positiveInteger)
        .default(defaultCommitRows),
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
leaves one row per id (ids repeated in the input are counted in a warning), and a re-read
passage replaces all its spans. Records without ids from a second file are refused into a table
that holds another file's rows: their line numbers would replace those rows. --metadata types
are declared (year:number) or inferred from all the input's values before embedding starts. Rows
are committed --commit-rows at a time and the table compacted every 16 commits and at the end.
One process writes an index at a time (a lock file in the directory). The table records the
model (name and sha256) and every option that changes the vectors; adding with other options is
refused, and so is searching with another model. A --prompt is stored with the table: \`search\`
embeds queries with it unless given prompt flags of its own (for models that prompt queries and
documents differently). Ctrl-C stops after the chunk in hand (exit 130): run the same command
with --resume to skip what is stored. Progress shows on standard error.

Examples:
  $ ctxembed index build --input docs.jsonl --field body --id-field doc_id --index ./idx --store-text
  $ ctxembed index build --input news.csv --column text --metadata source,year:number --index ./idx
  $ ctxembed index build --input passages.jsonl --index ./idx --phrases --max-words 4 --min-words 2
  $ ctxembed index build --input docs.jsonl --index ./idx --resume        # after Ctrl-C
  $ ctxembed index build --from ./job-parts --index ./idx                 # an embed --queue job's output
  $ ctxembed index build --model ./qwen3-embedding.gguf --prompt qwen3-embedding --role document --input passages.txt --index ./idx`,
    )
    .action(async (options: IndexBuildOptions, command: Command) => {
      if (options.from !== undefined) return buildFromParts(options, command);
      const kind = options.phrases ? "phrases" : "sentences";
      const clash = options.metadata?.find((field) => ownColumns[kind].includes(field.name))?.name;
      if (clash !== undefined)
        command.error(
          `error: --metadata ${clash}: "${clash}" is a column every ${kind} row has already; rename the field`,
          { exitCode: 2 },
        );
      if (options.text && options.resume)
        command.error("error: --resume works on an --input file, not on --text", { exitCode: 2 });
      const undeclared = undeclaredFields(options.metadata ?? []);
      if (options.input === "-" && !options.text && undeclared.length > 0)
        command.error(
          `error: standard input can be read only once, so the types of --metadata ${undeclared.join(", ")} cannot be inferred from all its values: declare them (--metadata ${undeclared[0]}:number, say)`,
          { exitCode: 2 },
        );
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
        ...(options.metadata ? { fields: options.metadata.map((field) => field.name) } : {}),
      });
      const columns = await metadataColumns(reader, options.metadata ?? []);
      const origin = await originOf(options);
      const model = await openModel(options);
      try {
        const plan = await rowPlan(model, options, columns, prompt);
        if (prompt) note(describePrompt(prompt));
        const { openIndex } = await loadVectorIndex();
        const index = await openIndex(options.index, {
          settings: plan.settings,
          columns,
          ...(origin === undefined ? {} : { origin }),
          ...(options.table === undefined ? {} : { table: options.table }),
        });
        try {
          const heldBefore = await index.count();
          const requireLineIds = (record: InputRecord) => {
            if (heldBefore === 0 || (origin !== undefined && index.origin === origin)) return;
            throw new Error(
              `${record.where} has no id, so ids are line numbers, but ${options.index} (table "${index.tableName}") already holds rows from ${index.origin ?? "an input it did not record (made by an earlier version, or from standard input)"}: ` +
                `its line numbers would name those rows (and --resume would skip lines as if done). Give every record an id (--id-field, --id-column), or build into another --table`,
            );
          };
          const stored = options.resume ? await index.values(plan.storedBy) : new Set<string>();
          if (stored.size > 0)
            note(
              `resuming: ${stored.size} ${plan.storedBy === "id" ? "texts" : "passages"} already in ${options.index} are skipped`,
            );
          const writer = new IndexWriter(index, {
            commitRows: options.commitRows,
            ...(plan.storedBy === "passage" ? { replaceBy: "passage" } : {}),
          });
          await runCorpusJob(
            model,
            recordsToIndex(reader, stored, requireLineIds),
            plan.embedOptions,
            indexSink(writer, plan),
            { chunk: options.chunk, resume: false, inputOf: plan.inputOf },
            undefined,
          );
          await finishIndex(writer, options, {
            name: reader.name,
            unit: plan.storedBy === "id" ? "ids" : "passages",
          });
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
