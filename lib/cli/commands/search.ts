import { Command, InvalidArgumentError, Option } from "commander";
import type { EmbeddingModel } from "../../embedding/embedding-model.js";
import type { IndexQuery } from "../../vector-index/query.js";
import { maxK } from "../../vector-index/settings.js";
import type { VectorIndex } from "../../vector-index/vector-index.js";
import { gpuLayersOption, openModel, threadsOption, type ModelCommandOptions } from "./model-options.js";
import { addPromptOptions, promptOptionsFor, readPromptChoice, type PromptCommandOptions } from "./prompt-options.js";

interface SearchCommandOptions extends Partial<ModelCommandOptions>, PromptCommandOptions {
  index: string;
  table?: string;
  phrases: boolean;
  query?: string;
  queryContext?: string;
  find?: string;
  k: number;
  filter?: string;
  exact: boolean;
}

/**
 * Loads the vector-index module, and LanceDB with it: here, not at the top of a command, since
 * every other command would pay for loading LanceDB.
 */
export function loadVectorIndex(): Promise<typeof import("../../vector-index/vector-index.js")> {
  // LanceDB's reader panics on some damaged data files before it returns the error these
  // commands report; where RUST_BACKTRACE is set (as Rust developers' shells often have it)
  // Rust would print a backtrace that tells a user nothing. Rust reads it at the first panic.
  process.env.RUST_BACKTRACE = "0";
  return import("../../vector-index/vector-index.js");
}

/** --k: a decimal whole number from 1 to maxK (Number() would also take "1e2" and "0x10"). */
function hitCount(value: string): number {
  const k = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!(k >= 1 && k <= maxK))
    throw new InvalidArgumentError(`expected a whole number from 1 to ${maxK}, got "${value}"`);
  return k;
}

/**
 * The model an index is searched with: its own (by the reference it was built with) unless
 * --model names one, which must then be the same file (checked by checksum when embedding).
 */
export function openIndexModel(index: VectorIndex, options: Partial<ModelCommandOptions>): Promise<EmbeddingModel> {
  return openModel({ ...options, model: options.model ?? index.settings.model.reference });
}

/** The query the options describe: --query, or --find inside --query-context. */
export function queryOf(
  options: Pick<SearchCommandOptions, "query" | "queryContext" | "find">,
  fail: (message: string) => never,
): IndexQuery {
  if (options.queryContext !== undefined || options.find !== undefined) {
    if (options.queryContext === undefined || options.find === undefined)
      fail("error: --query-context and --find go together: the phrase to find, and the sentence it is read in");
    if (options.query !== undefined) fail("error: give --query, or --query-context with --find, not both");
    return { text: options.queryContext, phrase: options.find };
  }
  if (options.query === undefined) fail("error: give --query, or --query-context with --find");
  return options.query;
}

export function searchCommand(): Command {
  return addPromptOptions(new Command("search"), "the query (default: the prompt the index was built with, if any)")
    .description("search an index built by `ctxembed index build`: the rows closest to a query, as JSON lines")
    .requiredOption("--index <dir>", "the index directory")
    .option("--table <name>", "the table (default: sentences, or phrases with --phrases)")
    .option("--phrases", "search the phrase table", false)
    .option("-q, --query <text>", "what to look for")
    .option("--query-context <sentence>", "phrase tables: read the query phrase (--find) inside this sentence")
    .option("--find <phrase>", "with --query-context: the phrase of the sentence to look for")
    .addOption(new Option("-k, --k <n>", `hits to print (at most ${maxK})`).argParser(hitCount).default(10))
    .option(
      "--filter <sql>",
      "only rows where this SQL predicate over the stored columns holds: \"source = 'news' AND year > 2000\"",
    )
    .option("--exact", "compare with every row (flat search) even when the table has an ANN index", false)
    .addOption(
      new Option(
        "-m, --model <name|file>",
        "the model to embed the query with (default: the index's own; another model is refused)",
      ),
    )
    .addOption(threadsOption())
    .addOption(gpuLayersOption())
    .addHelpText(
      "after",
      `
The query is embedded with the index's own model and options (recorded in the table). Output:
one JSON object per hit, best first: id, score (cosine similarity), and the stored columns
(text with --store-text, metadata fields; phrase hits: passage, start, end, text, where
[start, end) is the span's character range in its passage). Prompt flags replace the index's
own prompt for the query: an index of documents built with --role document is searched with the
preset's query form and its instruction (--prompt PRESET --task TEXT).

Examples:
  $ ctxembed search --index ./idx --query "rising interest rates" --k 5
  $ ctxembed search --index ./idx --query "tax cuts" --filter "year > 2000"
  $ ctxembed search --index ./idx --phrases --query "left the ground"
  $ ctxembed search --index ./idx --phrases --query-context "She paid the cheque into the bank." --find bank
  $ ctxembed search --index ./idx --prompt qwen3-embedding --task "Given a web search query, retrieve relevant passages" --query "tax cuts"`,
    )
    .action(async (options: SearchCommandOptions, command: Command) => {
      const query = queryOf(options, (message) => command.error(message, { exitCode: 2 }));
      const prompt = await readPromptChoice(options, command);
      const { openIndex } = await loadVectorIndex();
      const { searchIndex } = await import("../../vector-index/query.js");
      const index = await openIndex(options.index, {
        table: options.table ?? (options.phrases ? "phrases" : "sentences"),
      });
      try {
        const model = await openIndexModel(index, options);
        try {
          const hits = await searchIndex(model, index, query, {
            k: options.k,
            exact: options.exact,
            ...(options.filter === undefined ? {} : { filter: options.filter }),
            ...(prompt ? { prompt: promptOptionsFor(prompt, model) } : {}),
          });
          process.stdout.write(hits.map((hit) => `${JSON.stringify(hit)}\n`).join(""));
        } finally {
          await model.dispose();
        }
      } finally {
        await index.close();
      }
    });
}
