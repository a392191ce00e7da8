// npm run bench -- --peers: ctxembed beside the embedders people would otherwise use: llama.cpp
// (its llama-embedding, node-llama-cpp) on the same GGUF file, ONNX Runtime (transformers.js,
// onnxruntime-node, Python's onnxruntime) on ONNX weights exported from the checkpoint that file
// was converted from, and sentence-transformers on that checkpoint, whose vectors are the
// reference of the parity columns. ctxembed also runs on its reduced-precision variants and from
// its packed npm tarball in each prebuilt CPU variant. Each run is its own process and writes its
// vectors to a file.
// Writes docs/bench-peers.{md,svg}.
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { cpus, homedir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadModel } from "../../lib/embedding/embedding-model.js";
import { medianInRounds, type Run, table, timeProcess } from "./measure.js";
import { barChartSvg } from "./peers-chart.js";
import { missingInstructions, x64CpuVariants } from "../../native/cpu-baseline.mjs";
import { hasCurrentPrebuild, prebuild } from "../build/prebuild.mjs";
import {
  installNodePeer,
  installPackedCtxembed,
  llamaEmbeddingWithDefaults,
  nodePeerVersions,
  onnxModel,
  type PeersPython,
  peersPython,
} from "./peers-setup.js";

export interface PeerBenchOptions {
  modelPath: string;
  /** the model's name in the cache, which names its exported ONNX folder */
  modelName: string;
  /** the Hugging Face checkpoint the GGUF was converted from; without it the ONNX and Python peers are skipped */
  checkpointDirectory?: string;
  texts: string[];
  textsName: string;
  /** fewer texts or repeats than a measurement takes: the doc says so */
  quickCheck: boolean;
  threads: number[];
  repeats: number;
  workDirectory: string;
  /** ctxembed's reduced-precision catalogue variants of the model (empty for a --model file) */
  reducedPrecisionModels: { label: string; path: string }[];
  /** llama-embedding built with ctxembed's own CMake options */
  sameFlagsLlamaEmbedding: () => Promise<string>;
  /** the llama.cpp source ctxembed builds (its pinned release, patched) */
  llamaCppSource: string;
  /** a Python with the peers' modules; default: a virtual environment made in peersDirectory */
  python?: string;
  peersDirectory: string;
  docsDirectory: string;
  commandLine: string;
}

interface Invocation {
  command: string;
  args: string[];
  /** set on top of the parent's environment */
  env?: Record<string, string>;
}

/** One way of running a peer; a peer with several has the bench keep the fastest. */
interface Variant {
  label: string;
  args: string[];
}

interface Peer {
  name: string;
  how: string;
  variants: Variant[];
  /** llama-embedding prints its vectors as JSON; the other runners write float32 files */
  printsJson?: boolean;
  invocation(textsFile: string, vectorsFile: string, threads: number, variant: Variant): Invocation;
}

interface Measurement {
  peer: Peer;
  threads: number;
  variant: Variant;
  /** every text, median of the repeats */
  whole: Run;
  /** one text: start, load, one vector */
  first: Run;
  vectorsFile: string;
}

interface NotRun {
  name: string;
  reason: string;
}

const benchDirectory = dirname(fileURLToPath(import.meta.url));
const repositoryRoot = join(benchDirectory, "..", "..");
const plain: Variant[] = [{ label: "", args: [] }];
/** sentence-transformers' default batch size, and the ONNX runners' */
const onnxBatchSize = 32;
const referenceName = "sentence-transformers";

/** The prebuilt binary's CPU variants this CPU runs, baseline first. */
function runnableCpuVariants(): string[] {
  return x64CpuVariants.filter((variant) => missingInstructions(variant).length === 0).map(({ name }) => name);
}

/** An error in one line: its first, and for a process that failed, the last thing it printed. */
function reason(error: unknown): string {
  const lines = (error instanceof Error ? error.message : String(error))
    .split("\n")
    .filter((line) => line.trim() !== "");
  return lines.length > 1 ? `${lines[0]} ${lines.at(-1)}` : (lines[0] ?? "");
}

function nodePeer(
  name: string,
  runner: string,
  model: string,
  how: string,
  options: PeerBenchOptions,
  env?: Record<string, string>,
): Peer {
  const script = join(benchDirectory, "peers-node-runner.ts");
  return {
    name,
    how,
    variants: plain,
    invocation: (textsFile, vectorsFile, threads) => ({
      ...(env ? { env } : {}),
      command: process.execPath,
      args: [
        "--import",
        "tsx",
        script,
        runner,
        model,
        textsFile,
        String(threads),
        vectorsFile,
        options.peersDirectory,
        String(onnxBatchSize),
        String(maxTokens(options.checkpointDirectory)),
      ],
    }),
  };
}

function pythonPeer(name: string, python: string, script: string, args: string[], how: string): Peer {
  return {
    name,
    how,
    variants: plain,
    invocation: (textsFile, vectorsFile, threads) => ({
      command: python,
      args: [join(benchDirectory, script), args[0]!, textsFile, String(threads), vectorsFile, ...args.slice(1)],
      env: {
        OMP_NUM_THREADS: String(threads),
        MKL_NUM_THREADS: String(threads),
        TOKENIZERS_PARALLELISM: "false",
        HF_HUB_OFFLINE: "1",
        TRANSFORMERS_OFFLINE: "1",
      },
    }),
  };
}

/** Both llama-embedding batch sizes are tried at each thread count; the faster is kept. */
function llamaEmbeddingPeer(name: string, binary: string, how: string, modelPath: string): Peer {
  return {
    name,
    how: `${how}; \`--embd-output-format json\` (its default output adds an n×n similarity matrix), \`--pooling mean --embd-normalize 2\`, \`-b\`/\`-ub\` 512 or 2048, whichever ran faster`,
    printsJson: true,
    variants: [512, 2048].map((batch) => ({ label: `-b ${batch}`, args: ["-b", String(batch), "-ub", String(batch)] })),
    invocation: (textsFile, _vectorsFile, threads, variant) => ({
      command: binary,
      args: [
        "-m",
        modelPath,
        "-f",
        textsFile,
        "-t",
        String(threads),
        ...variant.args,
        "--pooling",
        "mean",
        "--embd-normalize",
        "2",
        "--embd-output-format",
        "json",
      ],
    }),
  };
}

/** sentence-transformers' truncation length for the checkpoint, which the ONNX runners copy. */
function maxTokens(checkpoint: string | undefined): number {
  const config = checkpoint === undefined ? undefined : join(checkpoint, "sentence_bert_config.json");
  return config !== undefined && existsSync(config) ? JSON.parse(readFileSync(config, "utf8")).max_seq_length : 512;
}

/** The peers that can run here, a reason for each that cannot, and the versions in use. */
async function preparePeers(
  options: PeerBenchOptions,
): Promise<{ peers: Peer[]; notRun: NotRun[]; versions: string[] }> {
  const peers: Peer[] = [];
  const notRun: NotRun[] = [];
  const versions: string[] = [
    `llama.cpp: ${readFileSync(join(options.llamaCppSource, ".ctxembed-source"), "utf8").split("\n")[0]}`,
  ];
  const attempt = async (names: string[], prepare: () => Peer[] | Promise<Peer[]>) => {
    try {
      peers.push(...(await prepare()));
    } catch (error) {
      notRun.push(...names.map((name) => ({ name, reason: reason(error) })));
    }
  };
  const { modelPath } = options;

  await attempt(["llama-embedding (llama.cpp's defaults)"], () => [
    llamaEmbeddingPeer(
      "llama-embedding (llama.cpp's defaults)",
      llamaEmbeddingWithDefaults(options.peersDirectory, options.llamaCppSource),
      "llama.cpp's example from the same release without ctxembed's patches, built with llama.cpp's default CMake options (`cmake -B … -DCMAKE_BUILD_TYPE=Release`: OpenMP, `-march=native`)",
      modelPath,
    ),
  ]);
  await attempt(["llama-embedding (ctxembed's flags)"], async () => [
    llamaEmbeddingPeer(
      "llama-embedding (ctxembed's flags)",
      await options.sameFlagsLlamaEmbedding(),
      "llama.cpp's example built from ctxembed's source (patches included) with ctxembed's CMake options (no OpenMP): the native ceiling",
      modelPath,
    ),
  ]);
  peers.push(
    nodePeer(
      "ctxembed",
      "ctxembed",
      modelPath,
      "`loadModel(file, {threads})`, then one `model.embed(texts)` call (dist/, as published)",
      options,
    ),
  );
  for (const { label, path } of options.reducedPrecisionModels)
    peers.push(
      nodePeer(
        `ctxembed ${label}`,
        "ctxembed",
        path,
        `as ctxembed, on the catalogue's \`${label}\` variant (\`${basename(path)}\`, made from the same checkpoint by llama.cpp's quantizer)`,
        options,
      ),
    );
  const packageVariants = process.arch === "x64" ? runnableCpuVariants() : [];
  await attempt(
    packageVariants.map((variant) => `ctxembed, npm package (${variant})`),
    async () => {
      if (!hasCurrentPrebuild()) await prebuild();
      installPackedCtxembed(options.peersDirectory, repositoryRoot);
      return packageVariants.map((variant) =>
        nodePeer(
          `ctxembed, npm package (${variant})`,
          "ctxembed-package",
          modelPath,
          `as ctxembed, from the packed tarball installed into an empty project (its prebuilt binary, CPU variant \`${variant}\`: \`CTXEMBED_CPU_VARIANT=${variant}\`)`,
          options,
          { CTXEMBED_CPU_VARIANT: variant },
        ),
      );
    },
  );
  await attempt(["node-llama-cpp"], () => {
    installNodePeer(options.peersDirectory, "node-llama-cpp");
    return [
      nodePeer(
        "node-llama-cpp",
        "node-llama-cpp",
        modelPath,
        "its prebuilt CPU binary; `createEmbeddingContext({threads})`, one `getEmbeddingFor(text)` per text (its API)",
        options,
      ),
    ];
  });
  versions.push(...Object.entries(nodePeerVersions).map(([name, version]) => `${name} ${version}`));

  const checkpoint = options.checkpointDirectory;
  const onnxPeerNames = [
    "transformers.js fp32",
    "transformers.js q8",
    "onnxruntime-node fp32",
    "onnxruntime-node int8",
    "onnxruntime (Python) fp32",
    "onnxruntime (Python) int8",
  ];
  if (checkpoint === undefined) {
    const reason = "no Hugging Face checkpoint is known for this GGUF file (pass --checkpoint)";
    notRun.push(...[referenceName, ...onnxPeerNames].map((name) => ({ name, reason })));
    return { peers, notRun, versions };
  }
  let python: PeersPython | undefined;
  await attempt([referenceName], () => {
    python = peersPython(options.peersDirectory, options.python);
    versions.push(
      `Python: ${Object.entries(python.versions)
        .map(([name, version]) => `${name} ${version}`)
        .join(", ")}`,
    );
    if (python.versions.sentence_transformers === undefined)
      throw new Error(`${python.python} cannot import sentence_transformers`);
    return [
      pythonPeer(
        referenceName,
        python.python,
        "peers-sentence-transformers.py",
        [checkpoint],
        "CPU, `torch.set_num_threads(threads)`, `model.encode(texts)` with its defaults (batch 32, sorted by length, cut at the checkpoint's `max_seq_length`), loading the checkpoint the GGUF was converted from; the parity reference",
      ),
    ];
  });
  await attempt(onnxPeerNames, () => {
    if (python === undefined) throw new Error("no Python for the ONNX export");
    const onnx = onnxModel(options.peersDirectory, options.modelName, checkpoint, python.python);
    const precisions = [
      { file: onnx.fp32, label: "fp32", transformersJs: "fp32" },
      { file: onnx.int8, label: "int8", transformersJs: "q8" },
    ];
    const batching = `texts sorted by token count, batches of ${onnxBatchSize}, cut at ${maxTokens(checkpoint)} tokens as sentence-transformers cuts, mean pooling over the attention mask and L2 normalisation by the runner`;
    const onnxPeers: Peer[] = [];
    try {
      installNodePeer(options.peersDirectory, "@huggingface/transformers");
      installNodePeer(options.peersDirectory, "onnxruntime-node");
      for (const { file, transformersJs } of precisions)
        onnxPeers.push(
          nodePeer(
            `transformers.js ${transformersJs}`,
            "transformers.js",
            file,
            `\`pipeline("feature-extraction", …, {dtype: "${transformersJs}", session_options: {intraOpNumThreads: threads}})\` on \`${basename(file)}\`, batches of ${onnxBatchSize} in the file's order, \`{pooling: "mean", normalize: true}\`; it cuts at the tokenizer's \`model_max_length\` (${maxTokens(checkpoint)}) after adding the special tokens, so a longer text loses its final [SEP]`,
            options,
          ),
        );
      for (const { file, label } of precisions)
        onnxPeers.push(
          nodePeer(
            `onnxruntime-node ${label}`,
            "onnxruntime-node",
            file,
            `\`InferenceSession\` on \`${basename(file)}\`, \`intraOpNumThreads: threads\`, tokenized by @huggingface/tokenizers (transformers.js' tokenizer); ${batching}`,
            options,
          ),
        );
    } catch (error) {
      notRun.push(
        ...onnxPeerNames.filter((name) => !name.includes("Python")).map((name) => ({ name, reason: reason(error) })),
      );
    }
    if (python.versions.onnxruntime === undefined) throw new Error(`${python.python} cannot import onnxruntime`);
    for (const { file, label } of precisions)
      onnxPeers.push(
        pythonPeer(
          `onnxruntime (Python) ${label}`,
          python.python,
          "peers-onnxruntime.py",
          [file, String(onnxBatchSize), String(maxTokens(checkpoint))],
          `\`InferenceSession\` on \`${basename(file)}\`, \`intra_op_num_threads = threads\`, tokenized by tokenizers (Rust); ${batching}`,
        ),
      );
    return onnxPeers;
  });
  return { peers, notRun, versions };
}

/** One row per text: the runner's float32 file, or llama-embedding's JSON. */
async function readVectors(peer: Peer, file: string, count: number): Promise<Float32Array[]> {
  let rows: Float32Array[];
  if (peer.printsJson) {
    const text = await readFile(file, "utf8");
    const json: { data: { embedding: number[] }[] } = JSON.parse(
      text.slice(text.indexOf("{"), text.lastIndexOf("}") + 1),
    );
    rows = json.data.map((item) => Float32Array.from(item.embedding));
  } else {
    const bytes = await readFile(file);
    const matrix = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    const dimensions = matrix.length / count;
    rows = Array.from({ length: count }, (_, row) => matrix.subarray(row * dimensions, (row + 1) * dimensions));
  }
  if (rows.length !== count || !Number.isInteger(rows[0]?.length))
    throw new Error(`${file} holds ${rows.length} vectors for ${count} texts`);
  return rows;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(aa * bb);
}

/** Minimum and mean cosine, text by text, between a run's vectors and the reference's. */
function parity(vectors: Float32Array[], reference: Float32Array[]): { min: number; mean: number } {
  const cosines = vectors.map((vector, i) => cosine(vector, reference[i]!));
  return { min: Math.min(...cosines), mean: cosines.reduce((sum, value) => sum + value, 0) / cosines.length };
}

async function countTokens(modelPath: string, texts: string[]): Promise<number> {
  const model = await loadModel(modelPath, { threads: 1 });
  try {
    return texts.reduce((sum, text) => sum + model.tokenize(text).length, 0);
  } finally {
    await model.dispose();
  }
}

const megabytes = (bytes: number | undefined) => (bytes === undefined ? undefined : bytes / 2 ** 20);

/**
 * Steady-state seconds: the whole run less the one-text run (medians), i.e. without process start
 * and model load; undefined when noise made the difference meaningless (too few texts, busy machine).
 */
function computeSeconds(m: Measurement | undefined): number | undefined {
  if (m === undefined) return undefined;
  const seconds = m.whole.seconds - m.first.seconds;
  return seconds > 0.05 * m.whole.seconds ? seconds : undefined;
}

const ratio = (numerator: number | undefined, denominator: number | undefined) =>
  numerator === undefined || denominator === undefined ? "n/a" : numerator / denominator;

const orNa = (value: number | undefined) => value ?? "n/a";

const rowName = (m: Measurement) => (m.variant.label === "" ? m.peer.name : `${m.peer.name}, ${m.variant.label}`);

const slug = (text: string) => text.replace(/[^A-Za-z0-9.]+/g, "-");

/** A command line as a reader would type it from the repository: the cache as ~, the scratch folder as $WORK. */
function shellLine(invocation: Invocation, workDirectory: string): string {
  const env = Object.entries(invocation.env ?? {}).map(([name, value]) => `${name}=${value}`);
  const command = invocation.command === process.execPath ? "node" : invocation.command;
  return [...env, command, ...invocation.args]
    .map((word) =>
      word.replaceAll(`${repositoryRoot}/`, "").replaceAll(workDirectory, "$WORK").replaceAll(homedir(), "~"),
    )
    .map((word) => (/^[\w@%+=:,./~$-]+$/.test(word) ? word : `'${word}'`))
    .join(" ");
}

export async function peerBenchmark(options: PeerBenchOptions): Promise<string> {
  const { workDirectory, repeats } = options;
  const allTexts = join(workDirectory, "texts.txt");
  const firstText = join(workDirectory, "first-text.txt");
  await writeFile(allTexts, `${options.texts.join("\n")}\n`);
  await writeFile(firstText, `${options.texts[0]}\n`);
  const tokens = await countTokens(options.modelPath, options.texts);
  const { peers, notRun, versions } = await preparePeers(options);

  const run = (peer: Peer, textsFile: string, vectorsFile: string, threads: number, variant: Variant) => {
    const { command, args, env } = peer.invocation(textsFile, vectorsFile, threads, variant);
    return timeProcess(command, args, { ...process.env, ...env }, peer.printsJson ? vectorsFile : undefined);
  };
  const vectorsFileOf = (peer: Peer, threads: number, variant: Variant) =>
    join(workDirectory, slug(`${peer.name}-${threads}-${variant.label}.vectors`));
  const measurements: Measurement[] = [];
  for (const threads of options.threads) {
    const failedPeers = new Set<Peer>();
    const failed = ({ peer }: { peer: Peer }, error: unknown) => {
      if (failedPeers.has(peer)) return;
      failedPeers.add(peer);
      notRun.push({ name: `${peer.name} at ${threads} thread(s)`, reason: reason(error) });
    };
    const variantJobs = peers.flatMap((peer) => peer.variants.map((variant) => ({ peer, variant })));
    const wholeRuns = await medianInRounds(
      variantJobs,
      repeats,
      ({ peer, variant }) =>
        failedPeers.has(peer)
          ? Promise.reject(new Error("another variant failed"))
          : run(peer, allTexts, vectorsFileOf(peer, threads, variant), threads, variant),
      failed,
    );
    const kept = new Map<Peer, Omit<Measurement, "first">>();
    for (const [{ peer, variant }, whole] of wholeRuns) {
      if (failedPeers.has(peer)) continue;
      const best = kept.get(peer);
      if (best === undefined || whole.seconds < best.whole.seconds)
        kept.set(peer, { peer, threads, variant, whole, vectorsFile: vectorsFileOf(peer, threads, variant) });
    }
    const firstRuns = await medianInRounds(
      [...kept.values()],
      repeats,
      ({ peer, variant }) => run(peer, firstText, join(workDirectory, "first-text.vectors"), threads, variant),
      failed,
    );
    for (const [partial, first] of firstRuns) {
      const measurement = { ...partial, first };
      console.error(
        `bench: ${rowName(measurement)}, ${threads} thread(s): ${measurement.whole.seconds.toFixed(2)} s for every text, ${first.seconds.toFixed(2)} s for one`,
      );
      measurements.push(measurement);
    }
  }

  const find = (name: string, threads: number) =>
    measurements.find((m) => m.peer.name === name && m.threads === threads);
  const vectorsOf = new Map<Measurement, Float32Array[]>();
  for (const m of measurements) {
    try {
      vectorsOf.set(m, await readVectors(m.peer, m.vectorsFile, options.texts.length));
    } catch (error) {
      notRun.push({ name: `${rowName(m)}'s vectors at ${m.threads} thread(s)`, reason: reason(error) });
    }
  }
  const agreementOf = (m: Measurement | undefined) => {
    const vectors = m === undefined ? undefined : vectorsOf.get(m);
    const referenceRun = m === undefined ? undefined : find(referenceName, m.threads);
    const reference = referenceRun === undefined ? undefined : vectorsOf.get(referenceRun);
    return vectors === undefined || reference === undefined || m === referenceRun
      ? undefined
      : parity(vectors, reference);
  };
  const rows = measurements.map((m) => {
    const ours = find("ctxembed", m.threads);
    const seconds = computeSeconds(m);
    const agreement = agreementOf(m);
    const noAgreement = m === find(referenceName, m.threads) ? "reference" : "n/a";
    return {
      runner: rowName(m),
      threads: m.threads,
      "tokens/s": seconds === undefined ? "n/a" : tokens / seconds,
      "sentences/s": seconds === undefined ? "n/a" : options.texts.length / seconds,
      "compute / ctxembed's": ratio(seconds, computeSeconds(ours)),
      "whole run (s)": m.whole.seconds,
      "whole / ctxembed's": ratio(m.whole.seconds, ours?.whole.seconds),
      "first vector (s)": m.first.seconds,
      "peak memory (MB)": orNa(megabytes(m.whole.peakRssBytes)),
      "memory / ctxembed's": ratio(m.whole.peakRssBytes, ours?.whole.peakRssBytes),
      "min cosine": agreement === undefined ? noAgreement : agreement.min.toFixed(6),
      "mean cosine": agreement === undefined ? noAgreement : agreement.mean.toFixed(6),
    };
  });
  const targets = options.threads.flatMap((threads) => {
    const ours = find("ctxembed", threads);
    const native = find("llama-embedding (ctxembed's flags)", threads);
    const node = find("node-llama-cpp", threads);
    const extra = megabytes(
      ours?.whole.peakRssBytes === undefined || native?.whole.peakRssBytes === undefined
        ? undefined
        : ours.whole.peakRssBytes - native.whole.peakRssBytes,
    );
    const ortFp32 = find("onnxruntime-node fp32", threads);
    const ortInt8 = find("onnxruntime-node int8", threads);
    const reduced = options.reducedPrecisionModels
      .map(({ label }) => find(`ctxembed ${label}`, threads))
      .filter((m) => m !== undefined)
      .sort((a, b) => a.whole.seconds - b.whole.seconds)[0];
    const packaged = measurements
      .filter((m) => m.threads === threads && m.peer.name.startsWith("ctxembed, npm package"))
      .at(-1);
    const minCosine = (m: Measurement | undefined) => agreementOf(m)?.min.toFixed(6) ?? "n/a";
    const reducedPrecisionFigure = (m: Measurement) => {
      const speed = ratio(ortInt8?.whole.seconds, m.whole.seconds);
      return `${typeof speed === "number" ? speed.toFixed(2) : speed} (min cosine ${minCosine(m)} against ${minCosine(ortInt8)})`;
    };
    return [
      {
        threads,
        target: "ctxembed / onnxruntime-node fp32, whole run, >= 1.0 (stretch 1.25)",
        measured: ratio(ortFp32?.whole.seconds, ours?.whole.seconds),
      },
      {
        threads,
        target: `${reduced ? rowName(reduced) : "ctxembed reduced precision"} / onnxruntime-node int8, whole run, >= 1.0 with a higher min cosine`,
        measured: reduced === undefined ? "n/a" : reducedPrecisionFigure(reduced),
      },
      {
        threads,
        target: `${packaged ? rowName(packaged) : "ctxembed, npm package"}, whole run / ctxembed's (native build) <= 1.10`,
        measured: ratio(packaged?.whole.seconds, ours?.whole.seconds),
      },
      {
        threads,
        target: "ctxembed peak memory / onnxruntime-node fp32's <= 1.25",
        measured: ratio(ours?.whole.peakRssBytes, ortFp32?.whole.peakRssBytes),
      },
      {
        threads,
        target: "ctxembed / llama-embedding (ctxembed's flags) tokens/s >= 1.0",
        measured: ratio(computeSeconds(native), computeSeconds(ours)),
      },
      {
        threads,
        target: "ctxembed / node-llama-cpp tokens/s >= 3",
        measured: ratio(computeSeconds(node), computeSeconds(ours)),
      },
      {
        threads,
        target: "ctxembed peak memory - llama-embedding (ctxembed's flags)'s <= 100 MB",
        measured: extra === undefined ? "n/a" : `${extra.toFixed(0)} MB`,
      },
    ];
  });
  const invocations = peers.map((peer) => {
    const m = measurements.find((candidate) => candidate.peer === peer);
    const variant = m?.variant ?? peer.variants[0]!;
    const vectorsFile = join(workDirectory, "vectors");
    const line = shellLine(
      peer.invocation(allTexts, vectorsFile, m?.threads ?? options.threads[0]!, variant),
      workDirectory,
    );
    return `- **${peer.name}**: ${peer.how}.\n\n  \`${line}${peer.printsJson ? " > $WORK/vectors" : ""}\``;
  });

  const machine = `${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} logical cores visible, Node ${process.version}, ${process.platform}-${process.arch}`;
  const markdown = [
    "# Peer benchmark",
    "",
    ...(options.quickCheck
      ? [
          `**A quick check (${options.texts.length} texts, ${repeats} run(s) per cell), not a measurement: its figures are not results.**`,
          "",
        ]
      : []),
    `Written by \`${options.commandLine}\` (scripts/bench/peers.ts) on ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC. Machine: ${machine}. Every figure on this page comes from that one run of this benchmark on that machine.`,
    "",
    `Versions: ${versions.join("; ")}.`,
    "",
    `Model: \`${basename(options.modelPath)}\` for the llama.cpp runners (llama-embedding, ctxembed, node-llama-cpp); the checkpoint it was converted from for sentence-transformers, and ONNX weights exported from that checkpoint by scripts/reference/export-onnx.py (as transformers.js' convert.py exports: fp32, and its q8 dynamic int8 quantization) for the ONNX Runtime runners. Texts: ${options.texts.length} ${options.textsName}, ${tokens} tokens (ctxembed's count, special tokens included). Median of ${repeats} run(s) per cell, taken in turns (each round runs every runner once, so that a slow spell of the machine falls on all of them alike); every run is a fresh process that writes its vectors to a file.`,
    "",
    "- **tokens/s, sentences/s**: the texts over the compute time, i.e. the whole run less the one-text run (medians), so process start and model load are taken out (`n/a` when that difference is under 5% of the whole run: too few texts or too much noise).",
    "- **… / ctxembed's**: the runner's compute time, whole run or peak memory over ctxembed's at the same thread count (above 1: ctxembed is faster or smaller).",
    "- **first vector**: a whole process that embeds one text: start, model load, one vector.",
    "- **peak memory**: the process's resident high-water mark (VmHWM) over the whole run.",
    `- **min / mean cosine**: text by text, between the runner's vectors and ${referenceName}' at the same thread count.`,
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
    "Each as run at its first thread count, from the repository's root; `$WORK` is the run's scratch folder.",
    "",
    ...invocations,
    "",
    ...(notRun.length === 0
      ? []
      : ["## Not run", "", ...notRun.map(({ name, reason }) => `- **${name}**: not run: ${reason}`), ""]),
  ].join("\n");

  await mkdir(options.docsDirectory, { recursive: true });
  await writeFile(join(options.docsDirectory, "bench-peers.md"), markdown);
  const bars = measurements.flatMap((m) => {
    const seconds = computeSeconds(m);
    return seconds === undefined
      ? []
      : [{ group: m.peer.name, series: `${m.threads} thread${m.threads === 1 ? "" : "s"}`, value: tokens / seconds }];
  });
  await writeFile(
    join(options.docsDirectory, "bench-peers.svg"),
    barChartSvg(`${basename(options.modelPath)}, ${options.texts.length} ${options.textsName}`, "tokens/s", bars),
  );
  return markdown;
}
