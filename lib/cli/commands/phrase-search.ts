import { Command } from "commander";
import type { LayerSpec } from "../../embedding/layers.js";
import { searchPhrases, type PhraseMatch } from "../../phrases/search.js";
import { inputFormatOf, openInput, type InputOptions, type InputRecord } from "../inputs.js";
import { watchInterrupts } from "../interrupt.js";
import { ProgressLine, note } from "../terminal.js";
import { gpuLayersOption, modelOption, openModel, threadsOption, type ModelCommandOptions } from "./model-options.js";
import { addPhraseOptions, phraseSettingsOf, type PhraseCommandOptions } from "./phrase-options.js";
import { addInputOptions, layersOption, positiveInteger } from "./source-options.js";

interface PhraseSearchCommandOptions extends ModelCommandOptions, InputOptions, PhraseCommandOptions {
  query: string;
  queryContext?: string;
  top: number;
  alone: boolean;
  layers?: LayerSpec;
  json: boolean;
}

/** Where a match is, for people: "line 12" for text and JSON lines, "row 3" for CSV and TSV. */
function located(
  match: PhraseMatch,
  record: Pick<InputRecord, "index" | "id">,
  format: "line" | "row",
): Record<string, unknown> {
  return {
    score: Number(match.score.toFixed(6)),
    [format]: record.index + 1,
    ...(record.id === undefined ? {} : { id: record.id }),
    start: match.start,
    end: match.end,
    text: match.text,
  };
}

export function phraseSearchCommand(): Command {
  const command = addInputOptions(new Command("phrase-search"))
    .description("find the spans of a corpus closest in meaning to a query phrase, each read in its context")
    .addOption(modelOption())
    .requiredOption("-q, --query <phrase>", "what to look for: a phrase, or a short definition")
    .option("--query-context <sentence>", "read the query inside this sentence (it must contain the query)")
    .option("-k, --top <n>", "matches to print", positiveInteger, 10);
  return addPhraseOptions(command)
    .option(
      "--alone",
      "score each candidate embedded alone (the context-free baseline) instead of in its passage",
      false,
    )
    .addOption(layersOption())
    .option("--json", "print JSON lines instead of a table", false)
    .addOption(threadsOption())
    .addOption(gpuLayersOption())
    .addHelpText(
      "after",
      `
Every passage (a line, a JSON lines field, a CSV/TSV column) is read once; all its word n-grams
from --min-words to --max-words are scored against the query, by the cosine of their in-context
vector with the query's vector, or with --scoring tokens by matching their tokens' vectors.
Output: the best --top spans, best first: score, where (line or row, 1-based), the character
range [start, end) in that passage, and the span's text.

Examples:
  $ ctxembed phrase-search --query "left the ground" --input news.txt
  $ ctxembed phrase-search --query "financial institution" --input corpus.jsonl --field body --top 20 --json
  $ ctxembed phrase-search --query "the first flight of an aircraft" --input news.txt --min-words 2 --scoring tokens
  $ ctxembed phrase-search --query "bank" --query-context "She paid the cheque into the bank." --input notes.txt`,
    )
    .action(async (options: PhraseSearchCommandOptions) => {
      const reader = await openInput({ ...options, skipEmpty: true });
      const model = await openModel(options);
      const interrupts = watchInterrupts();
      const progress = new ProgressLine();
      const started = Date.now();
      const records: Pick<InputRecord, "index" | "id">[] = [];
      async function* passages() {
        for await (const record of reader.records(interrupts.signal)) {
          records.push(record.id === undefined ? { index: record.index } : { index: record.index, id: record.id });
          yield record.text;
        }
      }
      try {
        const query =
          options.queryContext === undefined ? options.query : { text: options.queryContext, phrase: options.query };
        const matches = await searchPhrases(model, query, passages(), {
          ...phraseSettingsOf(options),
          top: options.top,
          context: !options.alone,
          ...(options.layers === undefined ? {} : { layers: options.layers }),
          onProgress: (read) =>
            progress.update(
              () =>
                `phrase-search: ${read} passages, ${(read / Math.max(1e-3, (Date.now() - started) / 1000)).toFixed(1)}/s`,
            ),
        });
        progress.clear();
        const format = inputFormatOf(options);
        const unit = format === "csv" || format === "tsv" ? "row" : "line";
        const rows = matches.map((match) => located(match, records[match.passage]!, unit));
        if (options.json) process.stdout.write(rows.map((row) => `${JSON.stringify(row)}\n`).join(""));
        else
          process.stdout.write(
            rows
              .map(
                (row) =>
                  `${(row.score as number).toFixed(4)}  ${unit} ${row[unit]}  [${row.start}, ${row.end})  ${row.text}\n`,
              )
              .join(""),
          );
        note(
          `phrase-search: ${records.length} passages in ${((Date.now() - started) / 1000).toFixed(1)} s${interrupts.signal.aborted ? " (interrupted: the best of the passages read)" : ""}`,
        );
        process.exitCode = interrupts.exitCode() ?? 0;
      } finally {
        interrupts.dispose();
        await model.dispose();
      }
    });
}
