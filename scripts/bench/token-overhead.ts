// What token-level output costs: per-token vectors and four captured layers against pooled-only
// sentence embedding, same model, same texts, same threads, in one process.
import { loadModel } from "../../lib/embedding/embedding-model.js";
import type { EmbedOptions } from "../../lib/embedding/embed-options.js";
import { timeEmbedVariants } from "./embed-variants.js";
import { table } from "./measure.js";

export async function tokenOverhead(
  modelPath: string,
  sentences: string[],
  threads: number,
  repeats: number,
): Promise<string> {
  const model = await loadModel(modelPath, { threads });
  const variants: [string, EmbedOptions][] = [
    ["pooled sentence vectors only", {}],
    ["+ per-token vectors with offsets", { tokens: true }],
    ["+ 4 layers (last four, mean)", { layers: { layers: [-4, -3, -2, -1] } }],
    ["+ per-token vectors of 4 layers", { tokens: true, layers: { layers: [-4, -3, -2, -1] } }],
  ];
  const timings = await timeEmbedVariants(model, sentences, variants, repeats);
  const rows = timings.map((timing) => ({
    output: timing.name,
    seconds: timing.seconds,
    "vs pooled only": timing.ratio,
  }));
  await model.dispose();
  return `Token-level output overhead: ${sentences.length} sentences, ${threads} threads, best of ${repeats}\n\n${table(rows)}\n`;
}
