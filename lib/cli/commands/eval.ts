import { Command, Option } from "commander";
import { loadDictionary } from "../../senses/dictionary-file.js";
import { wordPromptPresetNames } from "../../prompts/word-prompts.js";
import { wordNetFeatures } from "../../eval/wic-features.js";
import {
  defaultLogisticFeatures,
  describeConfiguration,
  evaluateWic,
  featureGroupsOf,
  wicMethods,
  type WicConfiguration,
  type WicMethod,
} from "../../eval/wic-methods.js";
import { wicSelection } from "../../eval/wic-selection.js";
import { WordNet, defaultWordNetDirectory } from "../../wordnet/database.js";
import type { LayerSpec } from "../../embedding/layers.js";
import { evaluatePhraseRetrieval, evaluatePhraseSimilarity, phraseTasks, type PhraseTask } from "../../eval/pic.js";
import { readPhraseRetrieval, readPhraseSimilarity } from "../../eval/pic-files.js";
import { note, ProgressLine } from "../terminal.js";
import { modelOption, openModel, threadsOption, type ModelCommandOptions } from "./model-options.js";
import { addPhraseOptions, phraseSettingsOf, type PhraseCommandOptions } from "./phrase-options.js";
import { layersOption } from "./source-options.js";

interface WicCommandOptions extends ModelCommandOptions {
  data: string;
  split: string;
  method?: WicMethod;
  l2?: number;
  promptPreset?: string;
  dict?: string;
  wordnet: string;
  cache: boolean;
}

/** The configuration to run: the named method with its settings, or the committed selection. */
function wicConfiguration(options: WicCommandOptions): { configuration: WicConfiguration; chosenBy: string } {
  if (options.method === undefined) {
    if (options.l2 !== undefined || options.promptPreset !== undefined)
      throw new Error("--l2 and --prompt-preset set a method's settings: give --method too");
    const selection = wicSelection();
    const cv = selection.crossValidation;
    return {
      configuration: selection.configuration,
      chosenBy: `the default, chosen by ${selection.folds}-fold lemma-grouped cross-validation on train with ${selection.model} (CV ${cv.mean.toFixed(1)} ± ${cv.sd.toFixed(1)})`,
    };
  }
  if (options.l2 !== undefined && options.method !== "logistic") throw new Error("--l2 is for --method logistic");
  if (options.l2 !== undefined && !(options.l2 >= 0)) throw new Error(`--l2 must be a number >= 0, got ${options.l2}`);
  const features = [...defaultLogisticFeatures, ...(options.dict ? (["dictionary"] as const) : [])];
  return {
    configuration: {
      method: options.method,
      ...(options.l2 === undefined ? {} : { l2: options.l2 }),
      ...(options.method === "logistic" ? { features } : {}),
      ...(options.promptPreset === undefined ? {} : { promptPreset: options.promptPreset }),
    },
    chosenBy: "--method",
  };
}

function wicCommand(): Command {
  return new Command("wic")
    .description(
      "Word-in-Context: fit on the train split, score the named split, print accuracy and fitted parameters (JSON)",
    )
    .addOption(modelOption())
    .requiredOption("--data <dir>", "folder with WiC's train.data.txt, train.gold.txt and the split's files")
    .addOption(new Option("--split <name>", "the split to score").choices(["dev", "test"]).default("dev"))
    .addOption(
      new Option(
        "--method <name>",
        "cosine: threshold on a layer mix; dictionary: same corpus sense; wordnet: same synset (word vectors); wordnet-mean: the same, definition and examples averaged as cosines; wordnet-sentence: same synset (whole sentences against definitions and examples); prompted: threshold on the cosine of prompted sense vectors (decoders); logistic: regression over the features (default: the method lib/eval/wic-selection.json names)",
      ).choices(wicMethods),
    )
    .option("--l2 <n>", "logistic: L2 penalty (default 1)", Number)
    .addOption(
      new Option("--prompt-preset <name>", "prompted: the word prompt (default word-meaning)").choices(
        wordPromptPresetNames,
      ),
    )
    .option("--dict <file>", "a sense dictionary from `senses build` (dictionary method; logistic uses it when given)")
    .option("--wordnet <dir>", "WordNet 3.0 database files", defaultWordNetDirectory)
    .option("--no-cache", "compute every feature again instead of reading the ctxembed cache (wic-features/)")
    .addOption(threadsOption())
    .addHelpText(
      "after",
      "\nExamples:\n  $ ctxembed eval wic --data ../shared/data/wic --split dev\n  $ ctxembed eval wic --data wic --method logistic --l2 10 --dict senses.ctxsense\n  $ ctxembed eval wic --data wic --model gemma-3-270m --method prompted --prompt-preset word-meaning-eol",
    )
    .action(async (options: WicCommandOptions) => {
      const { configuration, chosenBy } = wicConfiguration(options);
      const groups = featureGroupsOf(configuration);
      if (groups.includes("dictionary") && !options.dict)
        throw new Error(`--method ${configuration.method} needs --dict`);
      note(`wic: ${describeConfiguration(configuration)}: ${chosenBy}`);
      const sources = {
        ...(groups.some((group) => (wordNetFeatures as readonly string[]).includes(group))
          ? { wordnet: await WordNet.open(options.wordnet) }
          : {}),
        ...(options.dict ? { dictionary: await loadDictionary(options.dict) } : {}),
        cache: options.cache,
        onProgress: note,
      };
      const model = await openModel(options);
      try {
        const [result] = await evaluateWic(model, options.data, options.split, [configuration], sources);
        process.stdout.write(
          `${JSON.stringify({ task: "wic", model: model.info.name, split: options.split, chosenBy, ...result }, null, 2)}\n`,
        );
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
    .description(
      "PiC phrase tasks (similarity, retrieval, sense disambiguation) on PiC's files: metrics in context and alone (JSON)",
    )
    .addOption(modelOption())
    .addOption(
      new Option("--task <name>", "ps: phrase similarity; pr: phrase retrieval; psd: phrase sense disambiguation")
        .choices(phraseTasks)
        .makeOptionMandatory(),
    )
    .requiredOption(
      "--data <file>",
      "the split to score: PS JSON lines (phrase1, phrase2, sentence1, sentence2, label); PR/PSD SQuAD-style (context, query, answers)",
    )
    .option("--train <file>", "ps: the training pairs the threshold is fitted on");
  return addPhraseOptions(command, "pr, psd: ")
    .option(
      "--phrase-given",
      "psd: only the occurrences of the answer's phrase compete (which occurrence has the queried sense?)",
      false,
    )
    .option("--no-alone", "skip the phrase-alone baseline")
    .addOption(layersOption())
    .addOption(threadsOption())
    .addHelpText(
      "after",
      "\nExamples:\n  $ ctxembed eval phrases --task ps --train PS/train.jsonl --data PS/dev.jsonl\n  $ ctxembed eval phrases --task pr --data PR-pass/dev.json --min-words 2 --scoring tokens",
    )
    .action(async (options: PhrasesCommandOptions, command: Command) => {
      if (options.task === "ps" && !options.train)
        command.error("error: --task ps needs --train (the threshold is fitted on it)", { exitCode: 2 });
      if (options.phraseGiven && options.task !== "psd")
        command.error("error: --phrase-given is for --task psd", { exitCode: 2 });
      const model = await openModel(options);
      try {
        const readings = options.alone ? [true, false] : [true];
        const shared = {
          ...phraseSettingsOf(options),
          ...(options.layers === undefined ? {} : { layers: options.layers }),
        };
        const results: Record<string, unknown> = {};
        const progress = new ProgressLine();
        const pairs =
          options.task === "ps"
            ? { train: await readPhraseSimilarity(options.train!), test: await readPhraseSimilarity(options.data) }
            : undefined;
        const items = pairs ? [] : await readPhraseRetrieval(options.data);
        for (const context of readings) {
          const reading = {
            ...shared,
            context,
            onProgress: (done: number, total: number) =>
              progress.update(() => `${options.task} ${context ? "in context" : "alone"}: ${done}/${total}`),
          };
          results[context ? "inContext" : "alone"] = pairs
            ? await evaluatePhraseSimilarity(model, pairs.train, pairs.test, reading)
            : await evaluatePhraseRetrieval(model, options.task as "pr" | "psd", items, {
                ...reading,
                phraseGiven: options.phraseGiven,
              });
        }
        progress.clear();
        process.stdout.write(
          `${JSON.stringify({ task: options.task, model: model.info.name, data: options.data, settings: shared, ...results }, null, 2)}\n`,
        );
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
