// npm run bench: performance side by side with the peers, in one run, printed as ratios.
import { mkdtemp } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { pullModel } from "../../lib/models/pull.js";
import { buildNative } from "../build-native.mjs";
import { sentenceThroughput, stsbSentences } from "./sentences.js";
import { tokenOverhead } from "./token-overhead.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

const options = new Command("bench")
  .option("--threads <n>", "threads for every runner", (v) => Number.parseInt(v, 10), Math.min(2, availableParallelism()))
  .option("--repeats <n>", "runs per measurement (the best counts)", (v) => Number.parseInt(v, 10), 3)
  .option("--model <file>", "GGUF model (default: all-minilm-l6-v2 f32 from the cache)")
  .parse()
  .opts<{ threads: number; repeats: number; model?: string }>();

const modelPath = options.model ?? (await pullModel("all-minilm-l6-v2", { onProgress: (m) => console.error(m) }));
console.error("bench: building llama-embedding from the same source and flags (first time only)…");
await buildNative({ target: "llama-embedding" });

const stsbPath = join(root, "..", "shared", "data", "stsb", "sts-dev.csv");
const report = await sentenceThroughput({
  modelPath,
  threads: options.threads,
  repeats: options.repeats,
  workDirectory: await mkdtemp(join(tmpdir(), "ctxembed-bench-")),
  stsbPath,
  llamaEmbedding: join(root, "build", "bin", "llama-embedding"),
  cli: [process.execPath, "--import", "tsx", join(root, "lib", "cli", "main.ts")],
});
console.log(report);
console.log(await tokenOverhead(modelPath, await stsbSentences(stsbPath), options.threads, options.repeats));
