import { Command, Option } from "commander";
import { loadDictionary } from "../../senses/dictionary-file.js";
import { evaluateWic, wicMethods, wordNetReadingsOf, type WicMethod } from "../../tasks/wic-methods.js";
import { WordNet, defaultWordNetDirectory } from "../../wordnet/database.js";
import type { LayerSpec } from "../../layers.js";
import { evaluatePhraseRetrieval, evaluatePhraseSimilarity, phraseTasks, type PhraseTask } from "../../tasks/pic.js";
import { readPhraseRetrieval, readPhraseSimilarity } from "../../tasks/pic-files.js";
import { note, ProgressLine } from "../terminal.js";
import { modelOption, openModel, threadsOption, type ModelCommandOptions } from "./model-options.js";
import { addPhraseOptions, phraseSettingsOf, type PhraseCommandOptions } from "./phrase-options.js";
import { layersOption } from "./source-options.js";

interface WicCommandOptions extends ModelCommandOptions {
  data: string;
  split: string;
  method: WicMethod;
  dict?: string;
  wordnet: string;
}

/** Which sense inventories a method reads: logistic regression uses every one it is given. */
function needs(method: WicMethod, options: WicCommandOptions): { wordnet: boolean; dictionary: boolean } {
  return { wordnet: wordNetReadingsOf(method).length > 0, dictionary: method === "dictionary" || (method === "logistic" && options.dict !== undefined) };
}

function wicCommand(): Command {
  return new Command("wic")
    .description("Word-in-Context: fit on the train split, score the named split, print accuracy and fitted parameters (JSON)")
    .addOption(modelOption())
    .requiredOption("--data <dir>", "folder with WiC's train.data.txt, train.gold.txt and the split's files")
    .addOption(new Option("--split <name>", "the split to score").choices(["dev", "test"]).default("dev"))
    .addOption(new Option("--method <name>", "cosine: threshold on a layer mix; dictionary: same corpus sense; wordnet: same synset (word vectors); wordnet-sentence: same synset (whole sentences against definitions and examples); logistic: all features").choices(wicMethods).default("cosine"))
    .option("--dict <file>", "a sense dictionary from `senses build` (dictionary method; logistic uses it when given)")
    .option("--wordnet <dir>", "WordNet 3.0 database files", defaultWordNetDirectory)
    .addOption(threadsOption())
    .addHelpText("after", "\nExamples:\n  $ ctxembed eval wic --data ../shared/data/wic --split dev --method wordnet-sentence\n  $ ctxembed eval wic --data wic --method logistic --dict senses.ctxsense")
    .action(async (options: WicCommandOptions) => {
      const use = needs(options.method, options);
      if (use.dictionary && !options.dict) throw new Error("--method dictionary needs --dict");
      const sources = {
        ...(use.wordnet ? { wordnet: await WordNet.open(options.wordnet) } : {}),
        ...(use.dictionary ? { dictionary: await loadDictionary(options.dict!) } : {}),
        onProgress: note,
      };
      const model = await openModel(options);
      try {
        const [result] = await evaluateWic(model, options.data, options.split, [options.method], sources);
        process.stdout.write(`${JSON.stringify({ task: "wic", model: model.info.name, split: options.split, ...result }, null, 2)}\n`);
      } finally {
        await model.dispose();
      }
    });
}

interface PhrasesCommandOptions extends ModelCommandOptions, PhraseCommandOptions {
  task: PhraseTask;
  data: string;
  train?: string;
  alone: boolean;
  phraseGiven: boolean;
  layers?: LayerSpec;
}

function phrasesCommand(): Command {
  const command = new Command("phrases")
    .description("PiC phrase tasks (similarity, retrieval, sense disambiguation) on PiC's files: metrics in context and alone (JSON)")
    .addOption(modelOption())
    .addOption(new Option("--task <name>", "ps: phrase similarity; pr: phrase retrieval; psd: phrase sense disambiguation").choices(phraseTasks).makeOptionMandatory())
    .requiredOption("--data <file>", "the split to score: PS JSON lines (phrase1, phrase2, sentence1, sentence2, label); PR/PSD SQuAD-style (context, query, answers)")
    .option("--train <file>", "ps: the training pairs the threshold is fitted on");
  return addPhraseOptions(command, "pr, psd: ")
    .option("--phrase-given", "psd: only the occurrences of the answer's phrase compete (which occurrence has the queried sense?)", false)
    .option("--no-alone", "skip the phrase-alone baseline")
    .addOption(layersOption())
    .addOption(threadsOption())
    .addHelpText(
      "after",
      "\nExamples:\n  $ ctxembed eval phrases --task ps --train PS/train.jsonl --data PS/dev.jsonl\n  $ ctxembed eval phrases --task pr --data PR-pass/dev.json --min-words 2 --scoring tokens",
    )
    .action(async (options: PhrasesCommandOptions, command: Command) => {
      if (options.task === "ps" && !options.train) command.error("error: --task ps needs --train (the threshold is fitted on it)", { exitCode: 2 });
      if (options.phraseGiven && options.task !== "psd") command.error("error: --phrase-given is for --task psd", { exitCode: 2 });
      const model = await openModel(options);
      try {
        const readings = options.alone ? [true, false] : [true];
        const shared = { ...phraseSettingsOf(options), ...(options.layers === undefined ? {} : { layers: options.layers }) };
        const results: Record<string, unknown> = {};
        const progress = new ProgressLine();
        const pairs = options.task === "ps" ? { train: await readPhraseSimilarity(options.train!), test: await readPhraseSimilarity(options.data) } : undefined;
        const items = pairs ? [] : await readPhraseRetrieval(options.data);
        for (const context of readings) {
          const reading = { ...shared, context, onProgress: (done: number, total: number) => progress.update(() => `${options.task} ${context ? "in context" : "alone"}: ${done}/${total}`) };
          results[context ? "inContext" : "alone"] = pairs
            ? await evaluatePhraseSimilarity(model, pairs.train, pairs.test, reading)
            : await evaluatePhraseRetrieval(model, options.task as "pr" | "psd", items, { ...reading, phraseGiven: options.phraseGiven });
        }
        progress.clear();
        process.stdout.write(`${JSON.stringify({ task: options.task, model: model.info.name, data: options.data, settings: shared, ...results }, null, 2)}\n`);
      } finally {
        await model.dispose();
      }
    });
}

export function evalCommand(): Command {
  const evaluate = new Command("eval").description("evaluate a model on a benchmark task");
  evaluate.addCommand(wicCommand().exitOverride());
  evaluate.addCommand(phrasesCommand().exitOverride());
  return evaluate;
}
