// STS-B dev Spearman of every way ctxembed makes sentence vectors: the encoder's own pooling,
// a decoder's mean and last token, and PromptEOL with fixed or retrieved demonstrations.
// Results are kept in docs/sts-prompting.json, so rows can be computed in separate runs (the
// decoder rows take minutes each on two cores); --readme rewrites docs/accuracy.md's table from it.
//   npx tsx scripts/eval/sts-prompting.ts [--rows id,id] [--pairs N] [--readme]
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../../lib/util/atomic-file.js";
import { Command } from "commander";
import { loadModel, type EmbeddingModel } from "../../lib/embedding/embedding-model.js";
import type { EmbedOptions } from "../../lib/embedding/embed-options.js";
import type { PromptOptions } from "../../lib/prompts/prompting.js";
import type { DemonstrationSelector } from "../../lib/prompts/demonstrations.js";
import { promptEolDemonstrations } from "../../lib/prompts/prompteol-demonstrations.js";
import { evaluateSts, readStsBenchmark } from "../../lib/eval/sts.js";
import { table } from "../bench/measure.js";
import { rewriteDocSection } from "./doc-section.js";

const root = join(import.meta.dirname, "..", "..");
const resultsPath = join(root, "docs", "sts-prompting.json");

const encoder = "all-minilm-l6-v2";
const decoder = "gemma-3-270m";

interface Row {
  id: string;
  model: string;
  mode: string;
  options: (models: { retriever: () => Promise<DemonstrationSelector> }) => Promise<EmbedOptions>;
}

const fixed = (k: number) => promptEolDemonstrations.slice(0, k);
const promptEol = (examples: PromptOptions["examples"]): EmbedOptions => ({
  prompt: { template: "prompteol", examples },
});

const rows: Row[] = [
  { id: "minilm-mean", model: encoder, mode: "mean pooling (the model's own)", options: async () => ({}) },
  { id: "gemma-mean", model: decoder, mode: "mean pooling", options: async () => ({ pooling: "mean" }) },
  { id: "gemma-last", model: decoder, mode: "last token", options: async () => ({ pooling: "last" }) },
  { id: "gemma-prompteol", model: decoder, mode: "PromptEOL, no demonstration", options: async () => promptEol([]) },
  {
    id: "gemma-prompteol-fixed1",
    model: decoder,
    mode: "PromptEOL, 1 fixed demonstration",
    options: async () => promptEol(fixed(1)),
  },
  {
    id: "gemma-prompteol-fixed3",
    model: decoder,
    mode: "PromptEOL, 3 fixed demonstrations",
    options: async () => promptEol(fixed(3)),
  },
  {
    id: "gemma-prompteol-retrieved1",
    model: decoder,
    mode: "PromptEOL, 1 retrieved demonstration",
    options: async ({ retriever }) => promptEol({ selector: await retriever(), k: 1 }),
  },
  {
    id: "gemma-prompteol-retrieved3",
    model: decoder,
    mode: "PromptEOL, 3 retrieved demonstrations",
    options: async ({ retriever }) => promptEol({ selector: await retriever(), k: 3 }),
  },
];

interface Result {
  model: string;
  mode: string;
  pairs: number;
  spearman: number;
  seconds: number;
}

const options = new Command("sts-prompting")
  .option("--rows <ids>", `rows to compute, comma-separated (default: all): ${rows.map((row) => row.id).join(", ")}`)
  .option("--pairs <n>", "score the first N dev pairs only (default: all 1,500)", (v) => Number.parseInt(v, 10))
  .option("--threads <n>", "threads", (v) => Number.parseInt(v, 10))
  .option("--readme", "rewrite the docs/accuracy.md table from the stored results", false)
  .parse()
  .opts<{ rows?: string; pairs?: number; threads?: number; readme: boolean }>();

const wanted = options.rows ? options.rows.split(",") : rows.map((row) => row.id);
for (const id of wanted) if (!rows.some((row) => row.id === id)) throw new Error(`unknown row ${id}`);

const stored: Record<string, Result> = JSON.parse(await readFile(resultsPath, "utf8").catch(() => "{}"));
const allPairs = await readStsBenchmark(join(root, "..", "shared", "data", "stsb", "sts-dev.csv"));
const pairs = options.pairs ? allPairs.slice(0, options.pairs) : allPairs;

const loaded = new Map<string, Promise<EmbeddingModel>>();
const model = (name: string) => {
  if (!loaded.has(name)) loaded.set(name, loadModel(name, options.threads ? { threads: options.threads } : {}));
  return loaded.get(name)!;
};
// Demonstrations are retrieved by the encoder's similarity: cheap, and independent of the decoder under test.
let selector: DemonstrationSelector | undefined;
const retriever = async () => (selector ??= (await model(encoder)).demonstrationSelector(promptEolDemonstrations));

for (const row of rows.filter((candidate) => wanted.includes(candidate.id) && !options.readme)) {
  const started = performance.now();
  const result = await evaluateSts(await model(row.model), pairs, await row.options({ retriever }));
  const seconds = (performance.now() - started) / 1000;
  stored[row.id] = { model: row.model, mode: row.mode, pairs: result.pairs, spearman: result.spearman, seconds };
  console.error(
    `${row.id}: Spearman ${result.spearman.toFixed(2)} over ${result.pairs} pairs in ${seconds.toFixed(0)} s`,
  );
  await writeFileAtomic(resultsPath, `${JSON.stringify(stored, null, 2)}\n`);
}
for (const loading of loaded.values()) await (await loading).dispose();

const rendered = table(
  rows
    .filter((row) => stored[row.id])
    .map((row) => {
      const result = stored[row.id]!;
      return {
        model: result.model,
        "sentence vector": result.mode,
        "dev pairs": result.pairs,
        "Spearman x100": result.spearman.toFixed(2),
      };
    }),
);
console.log(rendered);
if (options.readme) await rewriteDocSection("sts-prompting", rendered);
