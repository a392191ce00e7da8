// The PiC tasks on the WordNet phrase set (docs/phrase-set.md), in context and alone, for each
// model: the set is written to the cache in PiC's file formats and read back by the same
// readers `ctxembed eval phrases` uses. Results accumulate in docs/phrases.json; --readme
// rewrites docs/accuracy.md's table from the stored results of the test split.
//   npx tsx scripts/eval/phrases.ts [--models all-minilm-l6-v2,gemma-3-270m] [--split dev|test]
//     [--limit N] [--max-words 4] [--min-words 2] [--candidates ngrams|chunks] [--scoring tokens|vector]
//     [--threads N] [--readme]
// Tune on dev; the test split is for the final table only. The defaults are the dev split's choices
// (scripts/eval/phrase-readings.ts): multiword chunks scored by token matching for PR and PSD; PS
// compares span vectors, which did better than token matching there in both readings.
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../../lib/util/atomic-file.js";
import { Command, Option } from "commander";
import { cacheDirectory } from "../../lib/hub/cache.js";
import { loadModel } from "../../lib/embedding/embedding-model.js";
import { candidateModes, phraseOccurrences, type CandidateMode } from "../../lib/phrases/candidates.js";
import { phraseForms, type PhraseForm } from "../../lib/phrases/phrase-vectors.js";
import { buildPhraseSet, phraseSetVersion, phraseSplits, type PhraseSplit } from "../../lib/eval/wordnet-phrase-set.js";
import { seededRandom, shuffle } from "../../lib/util/random.js";
import { evaluatePhraseRetrieval, evaluatePhraseSimilarity, phraseTasks, type PhraseTask } from "../../lib/eval/pic.js";
import {
  readPhraseRetrieval,
  readPhraseSimilarity,
  writePhraseRetrieval,
  writePhraseSimilarity,
} from "../../lib/eval/pic-files.js";
import { WordNet } from "../../lib/wordnet/database.js";
import { table } from "../bench/measure.js";
import { rewriteDocSection } from "./doc-section.js";

const root = join(import.meta.dirname, "..", "..");
const resultsPath = join(root, "docs", "phrases.json");

const options = new Command("phrases")
  .option("--models <names>", "comma-separated models", "all-minilm-l6-v2,gemma-3-270m")
  .addOption(new Option("--split <name>", "the split to score").choices(["dev", "test"]).default("dev"))
  .option(
    "--tasks <names>",
    "comma-separated tasks; psd-phrase is PSD with the phrase given (only its occurrences compete)",
    [...phraseTasks, "psd-phrase"].join(","),
  )
  .option(
    "--limit <n>",
    "score at most N items per task (a seeded sample; PS thresholds still use all of train)",
    (v) => Number.parseInt(v, 10),
  )
  .option("--max-words <n>", "longest candidate span", (v) => Number.parseInt(v, 10), 4)
  .option(
    "--min-words <n>",
    "shortest candidate span (every answer of the set is a multiword expression)",
    (v) => Number.parseInt(v, 10),
    2,
  )
  .addOption(new Option("--candidates <mode>", "candidate spans").choices(candidateModes).default("chunks"))
  .addOption(
    new Option("--scoring <form>", "how PR and PSD score a candidate against the query")
      .choices(phraseForms)
      .default("tokens"),
  )
  .option("--threads <n>", "threads", (v) => Number.parseInt(v, 10))
  .option("--readme", "only rewrite the docs/accuracy.md table from docs/phrases.json", false)
  .parse()
  .opts<{
    models: string;
    split: Exclude<PhraseSplit, "train">;
    tasks: string;
    limit?: number;
    maxWords: number;
    minWords: number;
    candidates: CandidateMode;
    scoring: PhraseForm;
    threads?: number;
    readme: boolean;
  }>();

type ScriptTask = PhraseTask | "psd-phrase";

interface StoredResult {
  model: string;
  task: ScriptTask;
  split: string;
  items: number;
  settings: Record<string, unknown>;
  inContext: Record<string, number>;
  alone: Record<string, number>;
}

const stored: Record<string, StoredResult> = JSON.parse(await readFile(resultsPath, "utf8").catch(() => "{}"));

/** The set in PiC's formats under the cache, one file per task and split. */
async function writeSetFiles(): Promise<string> {
  const directory = join(cacheDirectory(), "phrase-set", phraseSetVersion);
  const set = buildPhraseSet(await WordNet.open());
  for (const split of phraseSplits) {
    await mkdir(join(directory, split), { recursive: true });
    await writePhraseSimilarity(join(directory, split, "ps.jsonl"), set.ps[split]);
    await writePhraseRetrieval(join(directory, split, "pr.jsonl"), set.pr[split]);
    await writePhraseRetrieval(join(directory, split, "psd.jsonl"), set.psd[split]);
  }
  return directory;
}

function sample<T>(items: T[], limit: number | undefined): T[] {
  if (limit === undefined || limit >= items.length) return items;
  return shuffle(items, seededRandom(7)).slice(0, limit);
}

if (!options.readme) {
  const directory = await writeSetFiles();
  for (const name of options.models.split(",")) {
    const model = await loadModel(name, {
      ...(options.threads === undefined ? {} : { threads: options.threads }),
      onProgress: (m) => console.error(m),
    });
    for (const task of options.tasks.split(",") as ScriptTask[]) {
      const settings =
        task === "ps"
          ? {}
          : task === "psd-phrase"
            ? { phraseGiven: true, scoring: options.scoring }
            : {
                maxWords: options.maxWords,
                minWords: options.minWords,
                mode: options.candidates,
                scoring: options.scoring,
              };
      const started = performance.now();
      const result: StoredResult = {
        model: model.info.name,
        task,
        split: options.split,
        items: 0,
        settings: { ...settings, ...(options.limit ? { limit: options.limit } : {}) },
        inContext: {},
        alone: {},
      };
      for (const context of [true, false]) {
        const onProgress = (done: number, total: number) =>
          process.stderr.write(`\r${model.info.name} ${task} ${context ? "in context" : "alone"}: ${done}/${total}`);
        const reading = { ...settings, context, onProgress };
        if (task === "ps") {
          const test = sample(await readPhraseSimilarity(join(directory, options.split, "ps.jsonl")), options.limit);
          const { count, accuracy, threshold, trainAccuracy } = await evaluatePhraseSimilarity(
            model,
            await readPhraseSimilarity(join(directory, "train", "ps.jsonl")),
            test,
            reading,
          );
          result.items = count;
          result[context ? "inContext" : "alone"] = { accuracy, threshold, trainAccuracy };
        } else {
          const file = task === "pr" ? "pr.jsonl" : "psd.jsonl";
          // With the phrase given, an item whose other passage inflects it differently has one candidate: nothing to choose.
          const readable = (await readPhraseRetrieval(join(directory, options.split, file))).filter(
            (item) => task !== "psd-phrase" || phraseOccurrences(item.context, item.answers[0]!.text).length >= 2,
          );
          const items = sample(readable, options.limit);
          const { count, ...metrics } = await evaluatePhraseRetrieval(model, task === "pr" ? "pr" : "psd", items, {
            ...reading,
            phraseGiven: task === "psd-phrase",
          });
          result.items = count;
          result[context ? "inContext" : "alone"] = metrics;
        }
      }
      process.stderr.write(`\n${model.info.name} ${task}: ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
      console.log(JSON.stringify(result));
      stored[`${result.model}|${task}|${options.split}`] = result;
      await writeFileAtomic(resultsPath, `${JSON.stringify(stored, null, 2)}\n`);
    }
    await model.dispose();
  }
}

const taskNames: Record<ScriptTask, string> = {
  ps: "PS accuracy",
  pr: "PR",
  psd: "PSD",
  "psd-phrase": "PSD, phrase given",
};
const format = (metrics: Record<string, number>, task: ScriptTask) =>
  task === "ps"
    ? metrics.accuracy!.toFixed(1)
    : `Top-1 ${metrics.top1!.toFixed(1)}, Top-3 ${metrics.top3!.toFixed(1)}, MRR@5 ${metrics.mrr5!.toFixed(1)}, EM ${metrics.exactMatch!.toFixed(1)}, F1 ${metrics.f1!.toFixed(1)}`;
const taskOrder = Object.keys(taskNames);
const rows = Object.values(stored)
  .filter((result) => result.split === (options.readme ? "test" : options.split))
  .sort((a, b) => a.model.localeCompare(b.model) || taskOrder.indexOf(a.task) - taskOrder.indexOf(b.task))
  .map((result) => ({
    model: result.model,
    task: taskNames[result.task],
    items: result.items === result.settings.limit ? `${result.items} (seeded sample)` : result.items,
    "phrase alone": format(result.alone, result.task),
    "in context": format(result.inContext, result.task),
  }));
const rendered = [
  `WordNet phrase set \`${phraseSetVersion}\` (docs/phrase-set.md), ${options.readme ? "test" : options.split} split. PS: cosine of the two span vectors, threshold fitted on train. PR and PSD: candidates are phrase-like word n-grams (chunks) of ${options.minWords} to ${options.maxWords} words, scored by ${options.scoring === "tokens" ? "token matching (BERTScore F1)" : "the cosine of span vectors"}; with the phrase given, its occurrences, on the PSD items whose two passages use the same form of it (alone, the two tie and the earlier one counts). Produced by \`npx tsx scripts/eval/phrases.ts --split test\`, then \`--readme\`.`,
  "",
  table(rows),
].join("\n");
console.log(rendered);
if (options.readme) await rewriteDocSection("phrases", rendered);
