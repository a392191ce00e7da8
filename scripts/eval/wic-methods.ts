// WiC dev accuracy of every method of `ctxembed eval wic` (fitted on train, scored on dev), as a
// table; --readme rewrites the table between the wic-methods markers in README.md.
//   npx tsx scripts/eval/wic-methods.ts [--model all-minilm-l6-v2] [--dict FILE] [--threads N] [--readme]
// The dictionary defaults to the one `npm run bench -- --senses` leaves in the cache; without
// it the dictionary method is left out (and said so). The layer and WordNet features of each
// split are kept in the cache (wic-features/), so that adding a dictionary later costs one pass.
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Command } from "commander";
import { cacheDirectory } from "../../lib/models/cache.js";
import { loadModel } from "../../lib/models/embedding-model.js";
import { loadDictionary } from "../../lib/senses/dictionary-file.js";
import type { EmbeddingModel } from "../../lib/models/embedding-model.js";
import { readWic } from "../../lib/tasks/wic.js";
import { dictionaryAgreement } from "../../lib/tasks/wic-features.js";
import { runWicMethod, wicMethods, wicSplitFeatures, wicWordNetSenses, type WicSplit } from "../../lib/tasks/wic-methods.js";
import { WordNet } from "../../lib/wordnet/database.js";
import { table } from "../bench/measure.js";
import { rewriteReadmeSection } from "./readme-section.js";

const root = join(import.meta.dirname, "..", "..");
const options = new Command("wic-methods")
  .option("--model <name|file>", "model", "all-minilm-l6-v2")
  .option("--data <dir>", "WiC folder", join(root, "..", "shared", "data", "wic"))
  .option("--dict <file>", "sense dictionary", join(cacheDirectory(), "senses", "sotu-1000000-minilm-min20.ctxsense"))
  .option("--threads <n>", "CPU threads (default: every core)", (value) => Number.parseInt(value, 10))
  .option("--readme", "rewrite the table in README.md", false)
  .parse()
  .opts<{ model: string; data: string; dict: string; threads?: number; readme: boolean }>();

const dictionary = existsSync(options.dict) ? await loadDictionary(options.dict) : undefined;
const methods = wicMethods.filter((method) => method !== "dictionary" || dictionary);
const model = await loadModel(options.model, options.threads === undefined ? {} : { threads: options.threads });
const wordnet = await WordNet.open();
const inventories = { word: wicWordNetSenses(model, wordnet, "word"), sentence: wicWordNetSenses(model, wordnet, "sentence") };

async function splitFeatures(model: EmbeddingModel, split: string): Promise<WicSplit> {
  const pairs = await readWic(options.data, split);
  // the suffix names the feature set: a new feature gets a new file
  const cachePath = join(cacheDirectory(), "wic-features", `${model.info.name}-${split}-word-sentence.json`);
  let features: WicSplit;
  if (existsSync(cachePath)) features = JSON.parse(await readFile(cachePath, "utf8")) as WicSplit;
  else {
    console.error(`wic-methods: ${split}: layer cosines and WordNet senses of ${pairs.length} pairs`);
    // train is the split the classifier is fitted on; the scored split drops all its sentences
    features = await wicSplitFeatures(model, pairs, { inventories }, split === "train" ? "pair" : "split");
    await mkdir(dirname(cachePath), { recursive: true });
    await writeFile(cachePath, JSON.stringify(features));
  }
  if (!dictionary) return features;
  console.error(`wic-methods: ${split}: dictionary senses`);
  const senses = await dictionaryAgreement(model, dictionary, pairs);
  return { ...features, features: features.features.map((f, p) => ({ ...f, ...(senses[p] ? { dictionary: senses[p] } : {}) })) };
}

const train = await splitFeatures(model, "train");
const dev = await splitFeatures(model, "dev");
const results = methods.map((method) => runWicMethod(method, train, dev));
await model.dispose();

const describe = (parameters: Record<string, unknown>) =>
  Object.entries(parameters)
    .filter(([key]) => key !== "features" && key !== "weights")
    .map(([key, value]) => `${key} ${value}`)
    .join("; ");
const rows = results.map((r) => ({ method: `\`--method ${r.method}\``, "train acc": r.trainAccuracy.toFixed(1), "dev acc": r.accuracy.toFixed(1), "fitted on train": describe(r.parameters) }));
const source = dictionary ? `dictionary ${options.dict.replace(cacheDirectory(), "<cache>")} (${dictionary.size} words, ${dictionary.settings.clustering.method})` : "no sense dictionary found: dictionary method left out";
const text = [
  `WiC dev (638 pairs), ${model.info.name}, every method fitted on train (5,428 pairs); WordNet 3.0 inventory without any sentence of the scored split (while fitting, without each train pair's own two sentences); ${source}.`,
  `Produced by \`npx tsx scripts/eval/wic-methods.ts --readme\`.`,
  "",
  table(rows),
].join("\n");
console.log(text);
const logistic = results.find((r) => r.method === "logistic");
if (logistic) console.log(`\nlogistic weights (standardised features): ${JSON.stringify(logistic.parameters.weights)}`);

if (options.readme) await rewriteReadmeSection("wic-methods", text);
