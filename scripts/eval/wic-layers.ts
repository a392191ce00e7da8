// The word-meaning baseline: WiC dev accuracy of cosine-thresholded word vectors per layer
// choice, threshold fitted on train. Prints the table in docs/accuracy.md.
//   npx tsx scripts/eval/wic-layers.ts [--model all-minilm-l6-v2]
import { join } from "node:path";
import { Command } from "commander";
import { loadModel } from "../../lib/embedding/embedding-model.js";
import { accuracyAt, fitThreshold, pairCosines, readWic, wicWordVectors } from "../../lib/eval/wic.js";
import { table } from "../bench/measure.js";

const { model: modelName, data } = new Command("wic-layers")
  .option("--model <name|file>", "model", "all-minilm-l6-v2")
  .option("--data <dir>", "WiC folder", join(import.meta.dirname, "..", "..", "..", "shared", "data", "wic"))
  .parse()
  .opts<{ model: string; data: string }>();

const model = await loadModel(modelName);
const layers = Array.from({ length: model.info.layerCount + 1 }, (_, i) => i);
const train = await readWic(data, "train");
const dev = await readWic(data, "dev");
const [trainVectors, devVectors] = [
  await wicWordVectors(model, train, layers),
  await wicWordVectors(model, dev, layers),
];
const trainLabels = train.map((pair) => pair.same!);
const devLabels = dev.map((pair) => pair.same!);

function score(slots: number[]) {
  const fitted = fitThreshold(pairCosines(trainVectors, slots), trainLabels);
  return { ...fitted, dev: accuracyAt(pairCosines(devVectors, slots), devLabels, fitted.threshold) };
}

const top = model.info.layerCount;
const single = layers.map((layer) => ({ layer, ...score([layer]) }));
const bestOnTrain = single.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
const rows = [
  { method: `last layer (${top})`, ...score([top]) },
  { method: `mean of last four (${top - 3}-${top})`, ...score([top - 3, top - 2, top - 1, top]) },
  { method: `best single layer on train (${bestOnTrain.layer})`, ...score([bestOnTrain.layer]) },
].map((row) => ({
  method: row.method,
  threshold: row.threshold.toFixed(3),
  "train acc": row.accuracy.toFixed(1),
  "dev acc": row.dev.toFixed(1),
}));

console.log(
  `WiC, ${model.info.name}: cosine of the target word's in-context vector (mean of its tokens), threshold fitted on train (${train.length} pairs), scored on dev (${dev.length} pairs)\n`,
);
console.log(table(rows));
console.log(`\nevery layer (dev acc): ${single.map((s) => `${s.layer}: ${s.dev.toFixed(1)}`).join(", ")}`);
await model.dispose();
