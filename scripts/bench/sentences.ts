// Sentence throughput: ctxembed against llama-embedding built from the same llama.cpp source
// with the same flags, on the same model file and texts, same threads.
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { loadModel } from "../../lib/embedding/embedding-model.js";
import { readStsBenchmark } from "../../lib/eval/sts.js";
import { best, table, timeProcess, type Run } from "./measure.js";

export interface SentenceBenchOptions {
  modelPath: string;
  threads: number;
  repeats: number;
  workDirectory: string;
  stsbPath: string;
  llamaEmbedding: string;
  cli: string[];
}

export async function stsbSentences(path: string): Promise<string[]> {
  const pairs = await readStsBenchmark(path);
  return [...new Set(pairs.flatMap((pair) => [pair.sentence1, pair.sentence2]))];
}

/**
 * Passages of about `tokens` tokens, as search services embed them: consecutive sentences joined
 * with a space while the passage stays within `tokens` (special tokens included, so under the
 * model's limit nothing is cut), the first `count` of them. Joining held-out sentences keeps
 * every engine on text none was tuned on, with more attention work a token than a sentence has.
 */
export function joinIntoPassages(
  sentences: readonly string[],
  tokenCount: (text: string) => number,
  tokens: number,
  count: number,
): string[] {
  const passages: string[] = [];
  let current = "";
  for (const sentence of sentences) {
    if (passages.length === count) break;
    const joined = current === "" ? sentence : `${current} ${sentence}`;
    if (current !== "" && tokenCount(joined) > tokens) {
      passages.push(current);
      current = sentence;
    } else current = joined;
  }
  if (passages.length < count)
    throw new Error(`${sentences.length} sentences make ${passages.length} passages of ${tokens} tokens, not ${count}`);
  return passages;
}

export async function sentenceThroughput(options: SentenceBenchOptions): Promise<string> {
  const sentences = await stsbSentences(options.stsbPath);
  const inputFile = join(options.workDirectory, "stsb-dev-sentences.txt");
  await writeFile(inputFile, `${sentences.join("\n")}\n`);

  const model = await loadModel(options.modelPath, { threads: options.threads });
  const tokens = sentences.reduce((sum, sentence) => sum + model.tokenize(sentence).length, 0);
  const library = await best(options.repeats, async () => {
    const started = performance.now();
    await model.embed(sentences);
    return { seconds: (performance.now() - started) / 1000 };
  });
  await model.dispose();

  if (!existsSync(options.llamaEmbedding)) throw new Error(`${options.llamaEmbedding} is missing`);
  const threads = String(options.threads);
  const baselines: { batch: number; run: Run }[] = [];
  for (const batch of [256, 512]) {
    const args = [
      "-m",
      options.modelPath,
      "-f",
      inputFile,
      "-t",
      threads,
      "-b",
      String(batch),
      "-ub",
      String(batch),
      "--pooling",
      "mean",
      "--embd-normalize",
      "2",
    ];
    baselines.push({ batch, run: await best(options.repeats, () => timeProcess(options.llamaEmbedding, args)) });
  }
  const baseline = baselines.reduce((a, b) => (a.run.seconds <= b.run.seconds ? a : b));
  const cli = await best(options.repeats, () =>
    timeProcess(options.cli[0]!, [
      ...options.cli.slice(1),
      "embed",
      "--model",
      options.modelPath,
      "--input",
      inputFile,
      "--threads",
      threads,
    ]),
  );

  const rate = (seconds: number) => tokens / seconds;
  const rows = [
    {
      runner: `llama-embedding (-b ${baseline.batch}, whole process)`,
      seconds: baseline.run.seconds,
      "tokens/s": rate(baseline.run.seconds),
      "vs llama-embedding": 1,
    },
    {
      runner: "ctxembed embed CLI (whole process)",
      seconds: cli.seconds,
      "tokens/s": rate(cli.seconds),
      "vs llama-embedding": baseline.run.seconds / cli.seconds,
    },
    {
      runner: "ctxembed model.embed() (in process)",
      seconds: library.seconds,
      "tokens/s": rate(library.seconds),
      "vs llama-embedding": baseline.run.seconds / library.seconds,
    },
  ];
  return `Sentence embedding: ${sentences.length} STS-B dev sentences, ${tokens} tokens, ${options.threads} threads, best of ${options.repeats}\nmodel: ${options.modelPath}\n\n${table(rows)}\n`;
}
