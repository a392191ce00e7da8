// Chooses the default WiC method by cross-validation on train with folds grouped by lemma (no
// lemma is fitted and scored in one round), then scores dev once per final configuration.
//   npx tsx scripts/eval/wic-select.ts [--folds 10] [--gemma-pairs 600] [--write]
// Prints the table; --write also rewrites lib/eval/wic-selection.json (what `eval wic` runs
// without --method) and the table in docs/wic.md. Every feature group of every split is kept in
// the ctxembed cache (wic-features/<model checksum>/), so a second run only fits.
import { join } from "node:path";
import { writeFileAtomic } from "../../lib/util/atomic-file.js";
import { Command } from "commander";
import { loadModel, type EmbeddingModel } from "../../lib/embedding/embedding-model.js";
import { readWic, type WicPair } from "../../lib/eval/wic.js";
import { crossValidate, lemmaFolds, subsetOf, type CrossValidation } from "../../lib/eval/wic-cv.js";
import type { WicFeatureGroup } from "../../lib/eval/wic-features.js";
import {
  accuracy,
  describeConfiguration,
  featureGroupsOf,
  fitWicMethod,
  wicSplitFeatures,
  wicWordNetInventories,
  type WicConfiguration,
  type WicFeatureSources,
  type WicSplit,
} from "../../lib/eval/wic-methods.js";
import { WordNet } from "../../lib/wordnet/database.js";
import { wordPromptPresetNames } from "../../lib/prompts/word-prompts.js";
import { table } from "../bench/measure.js";
import { rewriteDocSection } from "./doc-section.js";

const root = join(import.meta.dirname, "..", "..");
const options = new Command("wic-select")
  .option("--model <name|file>", "the model the default method runs with", "all-minilm-l6-v2")
  .option("--data <dir>", "WiC folder", join(root, "..", "shared", "data", "wic"))
  .option("--folds <k>", "cross-validation folds", (value) => Number.parseInt(value, 10), 10)
  .option("--seed <n>", "seed of the fold assignment", (value) => Number.parseInt(value, 10), 1)
  .option(
    "--gemma-pairs <n>",
    "gemma-3-270m: prompted sense vectors against span vectors on about this many train pairs (whole lemmas); 0 skips",
    (value) => Number.parseInt(value, 10),
    0,
  )
  .option("--threads <n>", "CPU threads (default: every core)", (value) => Number.parseInt(value, 10))
  .option("--write", "rewrite lib/eval/wic-selection.json and the table in docs/wic.md", false)
  .parse()
  .opts<{
    model: string;
    data: string;
    folds: number;
    seed: number;
    gemmaPairs: number;
    threads?: number;
    write: boolean;
  }>();

const progress = (message: string) => console.error(`wic-select: ${message}`);
const loadOptions = options.threads === undefined ? {} : { threads: options.threads };
const trainPairs = await readWic(options.data, "train");
const devPairs = await readWic(options.data, "dev");
const wordnet = await WordNet.open();

interface Row {
  model: string;
  configuration: WicConfiguration;
  cv: CrossValidation;
  trainPairs: number;
  dev?: number;
}

/** Both splits' features for `groups` (cached), train read with each pair's own sentences left out of WordNet, dev with all of dev's. */
async function splits(
  model: EmbeddingModel,
  train: readonly WicPair[],
  groups: WicFeatureGroup[],
  sources: WicFeatureSources,
  withDev: boolean,
) {
  const shared = {
    ...sources,
    cache: true,
    onProgress: (message: string) => progress(`${model.info.name}: ${message}`),
  };
  const trainSplit = await wicSplitFeatures(model, train, groups, shared, "pair");
  return {
    train: trainSplit,
    dev: withDev ? await wicSplitFeatures(model, devPairs, groups, shared, "split") : undefined,
  };
}

function devAccuracy(configuration: WicConfiguration, train: WicSplit, dev: WicSplit): number {
  return accuracy(fitWicMethod(configuration, train).predict(dev.features), dev.labels);
}

// The default model: every method, logistic regression over a grid of penalties and feature sets.
const model = await loadModel(options.model, loadOptions);
const base = await splits(
  model,
  trainPairs,
  ["layers", "wordnet", "wordnetMean", "wordnetSentence"],
  { inventories: wicWordNetInventories(model, wordnet) },
  true,
);
const folds = lemmaFolds(
  trainPairs.map((pair) => pair.word.toLowerCase()),
  options.folds,
  options.seed,
);
const penalties = [0.01, 0.1, 1, 10, 100, 1000];
const featureSets: WicConfiguration["features"][] = [
  ["wordnet", "wordnetSentence"],
  ["wordnetMean", "wordnetSentence"],
  ["wordnet", "wordnetMean", "wordnetSentence"],
];
const grid: WicConfiguration[] = [
  { method: "cosine" },
  { method: "wordnet" },
  { method: "wordnet-mean" },
  { method: "wordnet-sentence" },
  ...featureSets.flatMap((features) => penalties.map((l2) => ({ method: "logistic" as const, l2, features }))),
];
const rows: Row[] = grid.map((configuration) => ({
  model: model.info.name,
  configuration,
  cv: crossValidate(configuration, base.train, folds),
  trainPairs: trainPairs.length,
}));
const modelName = model.info.name;
await model.dispose();

/** The best row by CV mean among those of one method (the final configuration of that method). */
function finalRows(candidates: Row[]): Row[] {
  const best = new Map<string, Row>();
  for (const row of candidates) {
    const key = `${row.model}:${row.configuration.method}:${row.configuration.promptPreset ?? ""}`;
    if (!best.has(key) || row.cv.mean > best.get(key)!.cv.mean) best.set(key, row);
  }
  return [...best.values()];
}

for (const row of finalRows(rows)) row.dev = devAccuracy(row.configuration, base.train, base.dev!);
const chosen = rows.reduce((a, b) => (b.cv.mean > a.cv.mean ? b : a));

// Robustness of the chosen configuration: part of speech (out-of-fold predictions on train, and
// dev), and dev's lemmas seen in train against those not.
const seen = new Set(trainPairs.map((pair) => pair.word.toLowerCase()));
const chosenDev = fitWicMethod(chosen.configuration, base.train).predict(base.dev!.features);
const breakdown = (name: string, keep: (pair: WicPair) => boolean) => {
  const trainIndices = trainPairs.flatMap((pair, i) => (keep(pair) ? [i] : []));
  const devIndices = devPairs.flatMap((pair, i) => (keep(pair) ? [i] : []));
  const pick = (values: readonly boolean[], indices: number[]) => indices.map((i) => values[i]!);
  const score = (predictions: readonly boolean[], labels: readonly boolean[], indices: number[]) =>
    indices.length === 0
      ? "-"
      : `${accuracy(pick(predictions, indices), pick(labels, indices)).toFixed(1)} (${indices.length})`;
  return {
    pairs: name,
    "train CV (pairs)": score(chosen.cv.predictions, base.train.labels, trainIndices),
    "dev (pairs)": score(chosenDev, base.dev!.labels, devIndices),
  };
};
const robustness = [
  breakdown("all", () => true),
  breakdown("nouns", (pair) => pair.partOfSpeech === "N"),
  breakdown("verbs", (pair) => pair.partOfSpeech === "V"),
  breakdown("lemma seen in train", (pair) => seen.has(pair.word.toLowerCase())),
  breakdown("lemma unseen in train", (pair) => !seen.has(pair.word.toLowerCase())),
];

// gemma-3-270m: the prompted sense vector of the word against its span vectors, on a subset of
// train made of whole lemmas (gemma on two cores reads about five prompts a second).
const gemmaRows: Row[] = [];
if (options.gemmaPairs > 0) {
  const gemma = await loadModel("gemma-3-270m", loadOptions);
  const subsetFold = lemmaFolds(
    trainPairs.map((pair) => pair.word.toLowerCase()),
    Math.max(2, Math.round(trainPairs.length / options.gemmaPairs)),
    options.seed,
  );
  const subset = trainPairs.filter((_, i) => subsetFold[i] === 0);
  const subsetFolds = lemmaFolds(
    subset.map((pair) => pair.word.toLowerCase()),
    5,
    options.seed,
  );
  const perPreset = new Map<string, WicSplit>();
  for (const preset of wordPromptPresetNames)
    perPreset.set(preset, (await splits(gemma, subset, ["layers", "prompted"], { promptPreset: preset }, false)).train);
  const configurations = wordPromptPresetNames.flatMap((promptPreset) => [
    { method: "prompted" as const, promptPreset },
    { method: "logistic" as const, features: ["prompted" as const], promptPreset, l2: 1 },
  ]);
  const layerRow: Row = {
    model: gemma.info.name,
    configuration: { method: "cosine" as const },
    cv: crossValidate({ method: "cosine" }, perPreset.get(wordPromptPresetNames[0]!)!, subsetFolds),
    trainPairs: subset.length,
  };
  const promptedRows = configurations.map(
    (configuration): Row => ({
      model: gemma.info.name,
      configuration,
      cv: crossValidate(configuration, perPreset.get(configuration.promptPreset)!, subsetFolds),
      trainPairs: subset.length,
    }),
  );
  gemmaRows.push(layerRow, ...promptedRows);
  // dev once: the span vectors' method and the best prompted one
  const bestPrompted = promptedRows
    .filter((row) => row.configuration.method === "prompted")
    .reduce((a, b) => (b.cv.mean > a.cv.mean ? b : a));
  for (const row of [layerRow, bestPrompted] as Row[]) {
    const preset = row.configuration.promptPreset ?? wordPromptPresetNames[0]!;
    const both = await splits(gemma, subset, featureGroupsOf(row.configuration), { promptPreset: preset }, true);
    row.dev = devAccuracy(row.configuration, both.train, both.dev!);
  }
  await gemma.dispose();
}

const format = (row: Row) => ({
  model: row.model,
  configuration: `${row === chosen ? "**" : ""}${describeConfiguration(row.configuration)}${row === chosen ? "** (default)" : ""}`,
  "train pairs": row.trainPairs,
  "train CV mean ± sd": `${row.cv.mean.toFixed(1)} ± ${row.cv.sd.toFixed(1)}`,
  "dev (once)": row.dev === undefined ? "" : row.dev.toFixed(1),
});
const standardError = chosen.cv.standardError;
const devStandardError = Math.sqrt(((chosen.dev! / 100) * (1 - chosen.dev! / 100)) / devPairs.length) * 100;
// The same command in docs/wic.md and in the selection file, with the options that change the result.
const producedBy = `npx tsx scripts/eval/wic-select.ts --gemma-pairs ${options.gemmaPairs} --write`;
const text = [
  `Produced by \`${producedBy}\`: ${options.folds}-fold cross-validation on WiC train, folds grouped by lemma (seed ${options.seed}); dev (${devPairs.length} pairs) scored once, only for each method's configuration with the best CV mean. The WordNet 3.0 inventory drops each train pair's own sentences while fitting and every dev sentence while scoring dev.`,
  "",
  table([...rows, ...gemmaRows].map(format)),
  "",
  `Default: ${describeConfiguration(chosen.configuration)} with ${modelName}: train CV ${chosen.cv.mean.toFixed(1)} ± ${chosen.cv.sd.toFixed(1)} (standard error of the mean ${standardError.toFixed(1)}), dev ${chosen.dev!.toFixed(1)} (standard error ${devStandardError.toFixed(1)}); they differ by ${(chosen.dev! - chosen.cv.mean).toFixed(1)} points, ${(Math.abs(chosen.dev! - chosen.cv.mean) / Math.hypot(standardError, devStandardError)).toFixed(1)} combined standard errors.`,
  "",
  "The default method by part of speech and by whether train has the lemma (train: out-of-fold predictions, so every train lemma is unseen by its fit):",
  "",
  table(robustness),
].join("\n");
console.log(text);

if (options.write) {
  const selection = {
    producedBy,
    model: options.model,
    configuration: chosen.configuration,
    folds: options.folds,
    seed: options.seed,
    crossValidation: {
      mean: Number(chosen.cv.mean.toFixed(2)),
      sd: Number(chosen.cv.sd.toFixed(2)),
      standardError: Number(standardError.toFixed(2)),
    },
    dev: Number(chosen.dev!.toFixed(2)),
  };
  await writeFileAtomic(join(root, "lib", "eval", "wic-selection.json"), `${JSON.stringify(selection, null, 2)}\n`);
  await rewriteDocSection("wic-selection", text, join(root, "docs", "wic.md"));
  const finals = [...rows, ...gemmaRows].filter((row) => row.dev !== undefined).map(format);
  await rewriteDocSection(
    "wic-methods",
    `${table(finals)}\n\nEvery configuration tried, by part of speech and seen or unseen lemma: [wic.md](wic.md).`,
  );
}
