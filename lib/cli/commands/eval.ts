import { Command, Option } from "commander";
import { loadDictionary } from "../../senses/dictionary-file.js";
import { evaluateWic, wicMethods, type WicMethod } from "../../tasks/wic-methods.js";
import { WordNet, defaultWordNetDirectory } from "../../wordnet/database.js";
import { note } from "../terminal.js";
import { modelOption, openModel, threadsOption, type ModelCommandOptions } from "./model-options.js";

interface WicCommandOptions extends ModelCommandOptions {
  data: string;
  split: string;
  method: WicMethod;
  dict?: string;
  wordnet: string;
}

/** Which sense inventories a method reads: logistic regression uses every one it is given. */
function needs(method: WicMethod, options: WicCommandOptions): { wordnet: boolean; dictionary: boolean } {
  return { wordnet: method === "wordnet" || method === "logistic", dictionary: method === "dictionary" || (method === "logistic" && options.dict !== undefined) };
}

function wicCommand(): Command {
  return new Command("wic")
    .description("Word-in-Context: fit on the train split, score the named split, print accuracy and fitted parameters (JSON)")
    .addOption(modelOption())
    .requiredOption("--data <dir>", "folder with WiC's train.data.txt, train.gold.txt and the split's files")
    .addOption(new Option("--split <name>", "the split to score").choices(["dev", "test"]).default("dev"))
    .addOption(new Option("--method <name>", "cosine: threshold on a layer mix; dictionary: same corpus sense; wordnet: same synset; logistic: all features").choices(wicMethods).default("cosine"))
    .option("--dict <file>", "a sense dictionary from `senses build` (dictionary method; logistic uses it when given)")
    .option("--wordnet <dir>", "WordNet 3.0 database files", defaultWordNetDirectory)
    .addOption(threadsOption())
    .addHelpText("after", "\nExamples:\n  $ ctxembed eval wic --data ../shared/data/wic --split dev --method wordnet\n  $ ctxembed eval wic --data wic --method logistic --dict senses.ctxsense")
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

export function evalCommand(): Command {
  const evaluate = new Command("eval").description("evaluate a model on a benchmark task");
  evaluate.addCommand(wicCommand().exitOverride());
  return evaluate;
}
