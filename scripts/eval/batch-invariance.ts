// How far a text's vector moves with its batch mates: the worst cosine between each of a set of
// mixed-length texts (2 to about 150 tokens, from STS-B dev) embedded alone and the same text
// embedded in one batch with the others, per model and pooling. The tests hold these at a floor;
// this prints the figures (README, Building).
//   npx tsx scripts/eval/batch-invariance.ts [--threads N]
import { join } from "node:path";
import { Command } from "commander";
import { loadModel, type EmbeddingModel } from "../../lib/models/embedding-model.js";
import { cosineSimilarity } from "../../lib/pooling.js";
import { readStsBenchmark } from "../../lib/tasks/sts.js";

const { threads } = new Command("batch-invariance")
  .option("--threads <n>", "CPU threads", (value) => Number.parseInt(value, 10), 2)
  .parse()
  .opts<{ threads: number }>();

const sentences = (await readStsBenchmark(join(import.meta.dirname, "..", "..", "..", "shared", "data", "stsb", "sts-dev.csv"))).map((pair) => pair.sentence1);
// Four shapes in turn: a sentence, three sentences, two words, a sentence ten times.
const texts = Array.from({ length: 48 }, (_, i) => {
  const base = sentences[i]!;
  return [base, `${base} ${sentences[i + 100]!} ${sentences[i + 150]!}`, base.split(" ").slice(0, 2).join(" "), `${base} `.repeat(10)][i % 4]!;
});

async function worstCosine(model: EmbeddingModel, inputs: string[], options: Parameters<EmbeddingModel["embed"]>[1]): Promise<string> {
  const batched = await model.embed(inputs, options);
  let worst = 1;
  for (const [i, text] of inputs.entries()) worst = Math.min(worst, cosineSimilarity((await model.embed(text, options)).embedding, batched[i]!.embedding));
  return worst.toFixed(8);
}

const rows: string[] = [];
const minilm = await loadModel("all-minilm-l6-v2", { threads });
rows.push(`all-minilm-l6-v2, model's pooling, ${texts.length} texts: ${await worstCosine(minilm, texts, {})}`);
await minilm.dispose();
// gemma reads about 150 tokens/s here: half the texts.
const gemma = await loadModel("gemma-3-270m", { threads });
for (const pooling of ["mean", "last", "weighted-mean"] as const) rows.push(`gemma-3-270m, ${pooling} pooling, ${texts.length / 2} texts: ${await worstCosine(gemma, texts.slice(0, texts.length / 2), { pooling })}`);
await gemma.dispose();
console.log(rows.join("\n"));
