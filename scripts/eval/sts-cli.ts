// STS-B dev Spearman through the command line: `ctxembed embed` with PromptEOL and one fixed
// demonstration, run as a user runs it, scored and compared with the library's figure for the
// same row in docs/sts-prompting.json (scripts/eval/sts-prompting.ts, docs/accuracy.md's table).
// Exits 1 when the two differ by more than --tolerance.
//   npx tsx scripts/eval/sts-cli.ts [--pairs 300] [--threads N] [--tolerance 0.3]
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { promptEolDemonstrations } from "../../lib/prompts/prompteol-demonstrations.js";
import { readStsBenchmark, scoreSts, stsSentences } from "../../lib/eval/sts.js";

const root = join(import.meta.dirname, "..", "..");
const libraryRow = "gemma-prompteol-fixed1";

const options = new Command("sts-cli")
  .option(
    "--pairs <n>",
    "score the first N dev pairs (the library's row was scored on 300)",
    (v) => Number.parseInt(v, 10),
    300,
  )
  .option("--threads <n>", "threads for the CLI", (v) => Number.parseInt(v, 10))
  .option("--tolerance <points>", "largest allowed difference from the library's Spearman x100", Number, 0.3)
  .parse()
  .opts<{ pairs: number; threads?: number; tolerance: number }>();

const pairs = (await readStsBenchmark(join(root, "..", "shared", "data", "stsb", "sts-dev.csv"))).slice(
  0,
  options.pairs,
);
const sentences = stsSentences(pairs);
const folder = await mkdtemp(join(tmpdir(), "ctxembed-sts-cli-"));
const input = join(folder, "sentences.jsonl");
const demo = join(folder, "demo.jsonl");
const output = join(folder, "vectors.jsonl");
await writeFile(input, sentences.map((text) => JSON.stringify({ text })).join("\n") + "\n");
await writeFile(demo, `${JSON.stringify(promptEolDemonstrations[0])}\n`);

const args = [
  "embed",
  "--model",
  "gemma-3-270m",
  "--input",
  input,
  "--prompt",
  "prompteol",
  "--examples",
  demo,
  "-o",
  output,
];
if (options.threads) args.push("--threads", String(options.threads));
console.error(`ctxembed ${args.join(" ")}`);
const started = performance.now();
const run = spawnSync(process.execPath, ["--import", "tsx", join(root, "lib", "cli", "main.ts"), ...args], {
  stdio: ["ignore", "inherit", "inherit"],
});
if (run.status !== 0) throw new Error(`ctxembed embed exited with ${run.status}`);
const seconds = (performance.now() - started) / 1000;

const vectors = (await readFile(output, "utf8"))
  .trim()
  .split("\n")
  .map((line) => Float32Array.from((JSON.parse(line) as { embedding: number[] }).embedding));
const result = scoreSts(pairs, new Map(sentences.map((sentence, index) => [sentence, vectors[index]!])));
const stored = JSON.parse(await readFile(join(root, "docs", "sts-prompting.json"), "utf8"))[libraryRow] as
  | { pairs: number; spearman: number }
  | undefined;
const comparable = stored && stored.pairs === result.pairs;
const difference = comparable ? result.spearman - stored.spearman : undefined;
console.log(
  JSON.stringify(
    {
      row: libraryRow,
      pairs: result.pairs,
      cliSpearman: Number(result.spearman.toFixed(2)),
      librarySpearman: comparable ? Number(stored.spearman.toFixed(2)) : null,
      difference: difference === undefined ? null : Number(difference.toFixed(3)),
      seconds: Math.round(seconds),
    },
    null,
    2,
  ),
);
if (!comparable)
  console.error(`docs/sts-prompting.json has no ${libraryRow} row over ${result.pairs} pairs to compare with`);
if (difference !== undefined && Math.abs(difference) > options.tolerance) process.exitCode = 1;
