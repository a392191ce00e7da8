// npm run bench -- --peers: ctxembed beside the embedders people would otherwise use: llama.cpp
// (its llama-embedding, node-llama-cpp) on the same GGUF file, ONNX Runtime (transformers.js,
// onnxruntime-node, Python's onnxruntime; transformers.js' export and the graph ONNX Runtime's
// own optimizer fuses) and OpenVINO (f32, bf16, int8 weights) on weights exported from the
// checkpoint that file was converted from, and sentence-transformers on that checkpoint, whose
// vectors are the reference of the parity columns. ctxembed also runs on its reduced-precision
// variants and from its packed npm tarball in each prebuilt CPU variant. Every workload (short
// sentences, ~240-token passages) goes through every runner. Each run is its own process, pinned
// to the same cores as every other run at that thread count, and writes its vectors to a file.
// Writes docs/bench-peers.{md,svg}.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { cpus, homedir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { writeFileAtomic } from "../../lib/util/atomic-file.js";
import { loadModel } from "../../lib/embedding/embedding-model.js";
import { medianInRounds, type Run, table, timeProcess } from "./measure.js";
import { barChartSvg } from "./peers-chart.js";
import { missingInstructions, x64CpuInfo, x64CpuVariants } from "../../native/cpu-baseline.mjs";
import { hasCurrentPrebuild, prebuild } from "../build/prebuild.mjs";
import {
  fusedOnnxModels,
  installNodePeer,
  installPackedCtxembed,
  llamaEmbeddingWithDefaults,
  nodePeerVersions,
  type OnnxModel,
  onnxModel,
  openvinoModels,
  type PeersPython,
  peersPython,
} from "./peers-setup.js";

/** One set of texts every runner embeds. */
export interface Workload {
  /** "sentences", "passages" */
  name: string;
  /** what the texts are, for the page */
  description: string;
  texts: string[];
}

export interface PeerBenchOptions {
  modelPath: string;
  /** the model's name in the cache, which names its exported ONNX folder */
  modelName: string;
  /** the Hugging Face checkpoint the GGUF was converted from; without it the ONNX and Python peers are skipped */
  checkpointDirectory?: string;
  workloads: Workload[];
  /** only the peers whose names match; ctxembed's own modes always run, and the page names the subset */
  runners?: RegExp;
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

/**
 * ctxembed's own modes (the native build), ctxembed from its npm package (the same modes as a
 * user installs them, kept out of the mode comparisons), or another engine.
 */
type Role = "ctxembed" | "package" | "peer";

/** One way of running a peer; a peer with several has the bench keep the fastest. */
interface Variant {
  label: string;
  args: string[];
}

interface Peer {
  name: string;
  how: string;
  role: Role;
  variants: Variant[];
  /** llama-embedding prints its vectors as JSON; the other runners write float32 files */
  printsJson?: boolean;
  invocation(textsFile: string, vectorsFile: string, threads: number, variant: Variant): Invocation;
}

interface Measurement {
  peer: Peer;
  workload: Workload;
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
/** The Python packages the page names with their versions; the rest of the pins are counted. */
const enginePackages = [
  "sentence-transformers",
  "transformers",
  "torch",
  "onnxruntime",
  "openvino",
  "nncf",
  "optimum-onnx",
  "onnxslim",
];

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
  const script = join(options.workDirectory, plainNodeRunner);
  const roles: Record<string, Role> = { ctxembed: "ctxembed", "ctxembed-package": "package" };
  return {
    name,
    how,
    role: roles[runner] ?? "peer",
    variants: plain,
    invocation: (textsFile, vectorsFile, threads) => ({
      env: { CTXEMBED_REPOSITORY: repositoryRoot, ...env },
      command: process.execPath,
      args: [
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

/**
 * The Node runner as JavaScript in the work directory. Run through tsx, each Node runner's process
 * also paid for tsx's loader and its transpiling of the runner (0.3-0.5 s of CPU and of wall time
 * a process on the 2-core EPYC), which no other runner pays, in the whole-run and first-vector
 * columns.
 */
const plainNodeRunner = "peers-node-runner.mjs";

async function writePlainNodeRunner(workDirectory: string): Promise<void> {
  const source = await readFile(join(benchDirectory, "peers-node-runner.ts"), "utf8");
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  await writeFile(join(workDirectory, plainNodeRunner), outputText);
}

/** A Python script run as `script ...leading <texts> <threads> <vectors> ...trailing`. */
function pythonPeer(
  name: string,
  python: string,
  script: string,
  leading: string[],
  trailing: string[],
  how: string,
): Peer {
  return {
    name,
    how,
    role: "peer",
    variants: plain,
    invocation: (textsFile, vectorsFile, threads) => ({
      command: python,
      args: [join(benchDirectory, script), ...leading, textsFile, String(threads), vectorsFile, ...trailing],
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
    role: "peer",
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
    const { runners } = options;
    // The reference always runs: every parity column needs it.
    if (runners !== undefined && !names.some((name) => name === referenceName || runners.test(name))) {
      notRun.push(...names.map((name) => ({ name, reason: `left out by --runners ${runners.source}` })));
      return;
    }
    try {
      const prepared = await prepare();
      const wanted = (peer: Peer) => runners === undefined || peer.name === referenceName || runners.test(peer.name);
      peers.push(...prepared.filter(wanted));
      notRun.push(
        ...prepared
          .filter((peer) => !wanted(peer))
          .map(({ name }) => ({ name, reason: `left out by --runners ${runners?.source}` })),
      );
    } catch (error) {
      notRun.push(...names.map((name) => ({ name, reason: reason(error) })));
    }
  };
  const { modelPath } = options;
  await writePlainNodeRunner(options.workDirectory);

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
  const cpuFlags = x64CpuInfo()?.flags ?? new Set<string>();
  // VNNI's vpdpbusd adds u8 x s8 products without saturating, so 8-bit weights need no reduced range.
  const vnni = ["avx512_vnni", "avx_vnni", "amx_int8"].some((flag) => cpuFlags.has(flag));
  const onnxPeerNames = [
    "transformers.js fp32",
    "transformers.js q8",
    ...["onnxruntime-node", "onnxruntime (Python)"].flatMap((binding) =>
      ["fp32", "int8", "fp32, fused graph", "int8, fused graph"].map((form) => `${binding} ${form}`),
    ),
  ];
  const openvinoPeerNames = ["OpenVINO f32", "OpenVINO bf16", "OpenVINO int8 weights"];
  if (checkpoint === undefined) {
    const reason = "no Hugging Face checkpoint is known for this GGUF file (pass --checkpoint)";
    notRun.push(...[referenceName, ...onnxPeerNames, ...openvinoPeerNames].map((name) => ({ name, reason })));
    return { peers, notRun, versions };
  }
  let python: PeersPython | undefined;
  await attempt([referenceName], () => {
    python = peersPython(options.peersDirectory, options.python);
    const named = Object.entries(python.versions).filter(([name]) => enginePackages.includes(name));
    versions.push(
      `Python: ${named.map(([name, version]) => `${name} ${version ?? "missing"}`).join(", ")} and ${Object.keys(python.versions).length - named.length} more packages as pinned in scripts/bench/peers-requirements.txt`,
    );
    if (!python.versions["sentence-transformers"]) throw new Error(`${python.python} has no sentence-transformers`);
    return [
      pythonPeer(
        referenceName,
        python.python,
        "peers-sentence-transformers.py",
        [checkpoint],
        [],
        "CPU, `torch.set_num_threads(threads)`, `model.encode(texts)` with its defaults (batch 32, sorted by length, cut at the checkpoint's `max_seq_length`), loading the checkpoint the GGUF was converted from; the parity reference",
      ),
    ];
  });
  const batching = `texts sorted by token count, batches of ${onnxBatchSize}, cut at ${maxTokens(checkpoint)} tokens as sentence-transformers cuts, mean pooling over the attention mask and L2 normalisation by the runner`;
  const pythonRunner = (name: string, engine: string, file: string, how: string, precision: string[] = []) =>
    pythonPeer(
      name,
      python!.python,
      "peers-python-runner.py",
      [engine, file],
      [String(onnxBatchSize), String(maxTokens(checkpoint)), ...precision],
      `${how}, tokenized by tokenizers (Rust); ${batching}`,
    );
  let onnx: OnnxModel | undefined;
  await attempt(onnxPeerNames, () => {
    if (python === undefined) throw new Error("no Python for the ONNX export");
    onnx = onnxModel(options.peersDirectory, options.modelName, checkpoint, python.python);
    const fused = fusedOnnxModels(onnx, checkpoint, python.python, vnni);
    const int8Note = vnni
      ? "`quantize_dynamic` without reduce_range (this CPU has VNNI)"
      : "`quantize_dynamic` with reduce_range (this CPU has no VNNI)";
    const forms = [
      { file: onnx.fp32, label: "fp32", what: "transformers.js' export" },
      { file: onnx.int8, label: "int8", what: "transformers.js' q8 of its export" },
      { file: fused.full, label: "fp32, fused graph", what: "ONNX Runtime's transformer optimizer's fused graph" },
      { file: fused.int8, label: "int8, fused graph", what: `the fused graph's dynamic int8, ${int8Note}` },
    ];
    const onnxPeers: Peer[] = [];
    try {
      installNodePeer(options.peersDirectory, "@huggingface/transformers");
      installNodePeer(options.peersDirectory, "onnxruntime-node");
      for (const { file, transformersJs } of [
        { file: onnx.fp32, transformersJs: "fp32" },
        { file: onnx.int8, transformersJs: "q8" },
      ])
        onnxPeers.push(
          nodePeer(
            `transformers.js ${transformersJs}`,
            "transformers.js",
            file,
            `\`pipeline("feature-extraction", …, {dtype: "${transformersJs}", session_options: {intraOpNumThreads: threads}})\` on \`${basename(file)}\`, texts sorted by token count in batches of ${onnxBatchSize}, \`{pooling: "mean", normalize: true}\`; it cuts at the tokenizer's \`model_max_length\` (${maxTokens(checkpoint)}) after adding the special tokens, so a longer text loses its final [SEP]`,
            options,
          ),
        );
      for (const { file, label, what } of forms)
        onnxPeers.push(
          nodePeer(
            `onnxruntime-node ${label}`,
            "onnxruntime-node",
            file,
            `\`InferenceSession\` on \`${basename(file)}\` (${what}), \`intraOpNumThreads: threads\`, tokenized by @huggingface/tokenizers (transformers.js' tokenizer); ${batching}`,
            options,
          ),
        );
    } catch (error) {
      notRun.push(
        ...onnxPeerNames.filter((name) => !name.includes("Python")).map((name) => ({ name, reason: reason(error) })),
      );
    }
    for (const { file, label, what } of forms)
      onnxPeers.push(
        pythonRunner(
          `onnxruntime (Python) ${label}`,
          "onnxruntime",
          file,
          `\`InferenceSession\` on \`${basename(file)}\` (${what}), \`intra_op_num_threads = threads\``,
        ),
      );
    return onnxPeers;
  });
  await attempt(openvinoPeerNames, () => {
    if (python === undefined) throw new Error("no Python for the OpenVINO conversion");
    onnx ??= onnxModel(options.peersDirectory, options.modelName, checkpoint, python.python);
    const ir = openvinoModels(onnx, checkpoint, python.python);
    const defaultPrecision = execFileSync(
      python.python,
      ["-c", "import openvino; print(openvino.Core().get_property('CPU', 'INFERENCE_PRECISION_HINT').get_type_name())"],
      { encoding: "utf8" },
    ).trim();
    const settings = "`INFERENCE_NUM_THREADS` = threads, one stream (`NUM_STREAMS` 1, `PERFORMANCE_HINT` LATENCY)";
    const openvinoPeers = [
      pythonRunner(
        "OpenVINO f32",
        "openvino",
        ir.full,
        `\`compile_model\` on \`${basename(ir.full)}\` (converted from the optimum export without onnxslim, f32 weights), \`INFERENCE_PRECISION_HINT\` f32, ${settings}`,
        ["f32"],
      ),
      pythonRunner(
        "OpenVINO int8 weights",
        "openvino",
        ir.int8,
        `\`compile_model\` on \`${basename(ir.int8)}\` (NNCF \`compress_weights\`, INT8_ASYM), activations in OpenVINO's default precision on this CPU (${defaultPrecision}), ${settings}`,
        ["default"],
      ),
    ];
    if (["avx512_bf16", "amx_bf16"].some((flag) => cpuFlags.has(flag)))
      openvinoPeers.splice(
        1,
        0,
        pythonRunner(
          "OpenVINO bf16",
          "openvino",
          ir.full,
          `as OpenVINO f32 with \`INFERENCE_PRECISION_HINT\` bf16 (its default on this CPU: ${defaultPrecision})`,
          ["bf16"],
        ),
      );
    else
      notRun.push({
        name: "OpenVINO bf16",
        reason: "this CPU has no bf16 instructions (AVX512_BF16, AMX), so OpenVINO runs f32",
      });
    versions.push(`OpenVINO's default inference precision on this CPU: ${defaultPrecision}`);
    return openvinoPeers;
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

/** Each workload's tokens by ctxembed's count, special tokens included. */
async function countTokens(modelPath: string, workloads: Workload[]): Promise<Map<Workload, number>> {
  const model = await loadModel(modelPath, { threads: 1 });
  try {
    return new Map(
      workloads.map((workload) => [
        workload,
        workload.texts.reduce((sum, text) => sum + model.tokenize(text).length, 0),
      ]),
    );
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

/** The measurement of least compute time, among those that have one. */
function fastest(candidates: Measurement[]): Measurement | undefined {
  return candidates
    .filter((m) => computeSeconds(m) !== undefined)
    .sort((a, b) => computeSeconds(a)! - computeSeconds(b)!)[0];
}

const ratio = (numerator: number | undefined, denominator: number | undefined) =>
  numerator === undefined || denominator === undefined ? "n/a" : numerator / denominator;

const orNa = (value: number | undefined) => value ?? "n/a";

const rowName = (m: Measurement) => (m.variant.label === "" ? m.peer.name : `${m.peer.name}, ${m.variant.label}`);

const slug = (text: string) => text.replace(/[^A-Za-z0-9.]+/g, "-");

const taskset = "/usr/bin/taskset";

/**
 * The first `threads` CPUs this process may run on, as taskset's list, or undefined without
 * taskset or enough CPUs. Every run at a thread count is pinned to the same CPUs, so that no engine
 * gets more cores than its thread count through helper threads (V8's, OpenVINO's, spinning pools).
 */
function cpuList(threads: number): string | undefined {
  const allowed = existsSync(taskset)
    ? /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1]
    : undefined;
  if (allowed === undefined) return undefined;
  const cpus = allowed.split(",").flatMap((range) => {
    const [first, last = first] = range.split("-").map(Number);
    return Array.from({ length: last! - first! + 1 }, (_, i) => first! + i);
  });
  return cpus.length >= threads ? cpus.slice(0, threads).join(",") : undefined;
}

function pinned(invocation: Invocation, cpus: string | undefined): Invocation {
  return cpus === undefined
    ? invocation
    : { ...invocation, command: taskset, args: ["--cpu-list", cpus, invocation.command, ...invocation.args] };
}

/** A command line as a reader would type it from the repository: the cache as ~, the scratch folder as $WORK. */
function shellLine(invocation: Invocation, workDirectory: string): string {
  const env = Object.entries(invocation.env ?? {}).map(([name, value]) => `${name}=${value}`);
  return [...env, invocation.command, ...invocation.args]
    .map((word) => (word === process.execPath ? "node" : word))
    .map((word) => (word.endsWith(`=${repositoryRoot}`) ? `${word.slice(0, -repositoryRoot.length)}.` : word))
    .map((word) =>
      word.replaceAll(`${repositoryRoot}/`, "").replaceAll(workDirectory, "$WORK").replaceAll(homedir(), "~"),
    )
    .map((word) => (/^[\w@%+=:,./~$-]+$/.test(word) ? word : `'${word}'`))
    .join(" ");
}

const bf16Label = "ctxembed bf16";
const fidelityBar = 0.999;

/** Whether this CPU has an AVX2 path without AVX-512 to measure item 4 of issue #37 on. */
function avx2OnlyCpu(): { avx2Only: boolean; why: string } {
  const cpu = x64CpuInfo();
  if (cpu === null) return { avx2Only: false, why: "this is not an x86-64 Linux CPU" };
  if (cpu.flags.has("avx512f"))
    return {
      avx2Only: false,
      why: "this CPU has AVX-512, and ONNX Runtime and ctxembed both pick their AVX-512 kernels on it at run time, so there is no AVX2-only path to measure here",
    };
  if (!cpu.flags.has("avx2")) return { avx2Only: false, why: "this CPU has no AVX2" };
  return { avx2Only: true, why: "" };
}

export async function peerBenchmark(options: PeerBenchOptions): Promise<string> {
  const { workDirectory, repeats } = options;
  const tokensOf = await countTokens(options.modelPath, options.workloads);
  const { peers, notRun, versions } = await preparePeers(options);
  const cpusFor = new Map(options.threads.map((threads) => [threads, cpuList(threads)]));

  const run = (peer: Peer, textsFile: string, vectorsFile: string, threads: number, variant: Variant) => {
    const { command, args, env } = pinned(
      peer.invocation(textsFile, vectorsFile, threads, variant),
      cpusFor.get(threads),
    );
    return timeProcess(command, args, { ...process.env, ...env }, peer.printsJson ? vectorsFile : undefined);
  };
  const measurements: Measurement[] = [];
  for (const workload of options.workloads) {
    const allTexts = join(workDirectory, `${workload.name}.txt`);
    const firstText = join(workDirectory, `${workload.name}-first.txt`);
    await writeFile(allTexts, `${workload.texts.join("\n")}\n`);
    await writeFile(firstText, `${workload.texts[0]}\n`);
    const vectorsFileOf = (peer: Peer, threads: number, variant: Variant) =>
      join(workDirectory, slug(`${workload.name}-${peer.name}-${threads}-${variant.label}.vectors`));
    for (const threads of options.threads) {
      const failedPeers = new Set<Peer>();
      const failed = ({ peer }: { peer: Peer }, error: unknown) => {
        if (failedPeers.has(peer)) return;
        failedPeers.add(peer);
        notRun.push({ name: `${peer.name} on ${workload.name} at ${threads} thread(s)`, reason: reason(error) });
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
          kept.set(peer, {
            peer,
            workload,
            threads,
            variant,
            whole,
            vectorsFile: vectorsFileOf(peer, threads, variant),
          });
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
          `bench: ${rowName(measurement)}, ${workload.name}, ${threads} thread(s): ${measurement.whole.seconds.toFixed(2)} s for every text, ${first.seconds.toFixed(2)} s for one`,
        );
        measurements.push(measurement);
      }
    }
  }

  const find = (name: string, threads: number, workload: Workload) =>
    measurements.find((m) => m.peer.name === name && m.threads === threads && m.workload === workload);
  const vectorsOf = new Map<Measurement, Float32Array[]>();
  for (const m of measurements) {
    try {
      vectorsOf.set(m, await readVectors(m.peer, m.vectorsFile, m.workload.texts.length));
    } catch (error) {
      notRun.push({
        name: `${rowName(m)}'s vectors on ${m.workload.name} at ${m.threads} thread(s)`,
        reason: reason(error),
      });
    }
  }
  const agreementOf = (m: Measurement | undefined) => {
    const vectors = m === undefined ? undefined : vectorsOf.get(m);
    const referenceRun = m === undefined ? undefined : find(referenceName, m.threads, m.workload);
    const reference = referenceRun === undefined ? undefined : vectorsOf.get(referenceRun);
    if (m !== undefined && m === referenceRun && reference !== undefined) return { min: 1, mean: 1 };
    return vectors === undefined || reference === undefined ? undefined : parity(vectors, reference);
  };
  const minCosine = (m: Measurement | undefined) => {
    if (m !== undefined && m.peer.name === referenceName) return "reference";
    return agreementOf(m)?.min.toFixed(6) ?? "n/a";
  };
  const cellsOf = (workload: Workload) =>
    measurements
      .filter((m) => m.workload === workload)
      .map((m) => {
        const ours = find("ctxembed", m.threads, workload);
        const seconds = computeSeconds(m);
        const agreement = m.peer.name === referenceName ? undefined : agreementOf(m);
        const noAgreement = m.peer.name === referenceName ? "reference" : "n/a";
        return {
          runner: rowName(m),
          threads: m.threads,
          "tokens/s": seconds === undefined ? "n/a" : tokensOf.get(workload)! / seconds,
          "texts/s": seconds === undefined ? "n/a" : workload.texts.length / seconds,
          "compute / ctxembed's": ratio(seconds, computeSeconds(ours)),
          "whole run (s)": m.whole.seconds,
          "whole / ctxembed's": ratio(m.whole.seconds, ours?.whole.seconds),
          "CPU / wall": m.whole.cpuSeconds === undefined ? "n/a" : m.whole.cpuSeconds / m.whole.seconds,
          "first vector (s)": m.first.seconds,
          "peak memory (MB)": orNa(megabytes(m.whole.peakRssBytes)),
          "memory / ctxembed's": ratio(m.whole.peakRssBytes, ours?.whole.peakRssBytes),
          "min cosine": agreement === undefined ? noAgreement : agreement.min.toFixed(6),
          "mean cosine": agreement === undefined ? noAgreement : agreement.mean.toFixed(6),
        };
      });
  const formatted = (value: number | "n/a") => (typeof value === "number" ? value.toFixed(2) : value);
  const targetsOf = (workload: Workload) =>
    options.threads.flatMap((threads) => {
      const at = (name: string) => find(name, threads, workload);
      const ours = at("ctxembed");
      const native = at("llama-embedding (ctxembed's flags)");
      const extra = megabytes(
        ours?.whole.peakRssBytes === undefined || native?.whole.peakRssBytes === undefined
          ? undefined
          : ours.whole.peakRssBytes - native.whole.peakRssBytes,
      );
      const ortFp32 = at("onnxruntime-node fp32");
      const ortInt8 = at("onnxruntime-node int8");
      const reduced = options.reducedPrecisionModels
        .map(({ label }) => at(`ctxembed ${label}`))
        .filter((m) => m !== undefined)
        .sort((a, b) => (computeSeconds(a) ?? a.whole.seconds) - (computeSeconds(b) ?? b.whole.seconds))[0];
      const packaged = measurements
        .filter((m) => m.threads === threads && m.workload === workload && m.peer.role === "package")
        .at(-1);
      return [
        {
          threads,
          target: "ctxembed / onnxruntime-node fp32 (transformers.js' export), compute, >= 1.0 (stretch 1.25)",
          measured: ratio(computeSeconds(ortFp32), computeSeconds(ours)),
        },
        {
          threads,
          target: `${reduced ? rowName(reduced) : "ctxembed reduced precision"} / onnxruntime-node int8 (transformers.js' q8), compute, >= 1.0 with a higher min cosine`,
          measured:
            reduced === undefined
              ? "n/a"
              : `${formatted(ratio(computeSeconds(ortInt8), computeSeconds(reduced)))} (min cosine ${minCosine(reduced)} against ${minCosine(ortInt8)})`,
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
          measured: ratio(computeSeconds(at("node-llama-cpp")), computeSeconds(ours)),
        },
        {
          threads,
          target: "ctxembed peak memory - llama-embedding (ctxembed's flags)'s <= 100 MB",
          measured: extra === undefined ? "n/a" : `${extra.toFixed(0)} MB`,
        },
      ];
    });

  /** Issue #37's report: each comparison a speed-up (the peer's compute time over ctxembed's) against its target. */
  const reducedPrecisionOf = (workload: Workload) =>
    options.threads.flatMap((threads) => {
      const here = measurements.filter((m) => m.threads === threads && m.workload === workload);
      const faithful = (m: Measurement) => m.peer.name === referenceName || (agreementOf(m)?.min ?? 0) >= fidelityBar;
      const ourModes = here.filter((m) => m.peer.role === "ctxembed");
      const peerModes = here.filter((m) => m.peer.role === "peer");
      const oursFaithful = fastest(ourModes.filter(faithful));
      const comparisons: {
        ours: Measurement | undefined;
        peer: Measurement | undefined;
        what: string;
        target: number;
        stretch?: number;
      }[] = [
        {
          ours: find(bf16Label, threads, workload),
          peer: find("ctxembed", threads, workload),
          what: "ctxembed bf16 against ctxembed f32",
          target: 1.8,
        },
        {
          ours: find(bf16Label, threads, workload),
          peer: find("OpenVINO bf16", threads, workload),
          what: "ctxembed bf16 against OpenVINO bf16",
          target: 1.0,
          stretch: 1.2,
        },
        {
          ours: oursFaithful,
          peer: fastest(peerModes.filter(faithful)),
          what: `ctxembed's fastest mode at min cosine >= ${fidelityBar} against the fastest peer mode at >= ${fidelityBar}`,
          target: 1.3,
        },
        {
          ours: oursFaithful,
          peer: fastest(peerModes),
          what: `ctxembed's fastest mode at min cosine >= ${fidelityBar} against the fastest peer mode of any accuracy`,
          target: 1.0,
        },
      ];
      return comparisons.map(({ ours, peer, what, target, stretch }) => {
        const speed = ratio(computeSeconds(peer), computeSeconds(ours));
        return {
          threads,
          comparison: what,
          runners: `${ours ? rowName(ours) : "n/a"} / ${peer ? rowName(peer) : "n/a"}`,
          "speed-up": formatted(speed),
          target: `>= ${target.toFixed(1)}${stretch ? ` (stretch ${stretch.toFixed(1)})` : ""}`,
          met: typeof speed === "number" ? (speed >= target ? "yes" : "no") : "n/a",
          "min cosine (ctxembed / peer)": `${minCosine(ours)} / ${minCosine(peer)}`,
        };
      });
    });
  const avx2 = avx2OnlyCpu();
  const avx2Line = (workload: Workload) => {
    if (!avx2.avx2Only)
      return `AVX2 (item 4: ctxembed f32 >= 1.0x ONNX Runtime fp32, q8_0 >= 1.0x its int8, on an AVX2-only CPU): not measured: ${avx2.why}.`;
    const onnxRuntime = (precision: string) =>
      measurements.filter(
        (m) => m.workload === workload && m.peer.name.startsWith("onnxruntime") && m.peer.name.includes(precision),
      );
    return `AVX2 (item 4, this CPU has AVX2 and no AVX-512): ${options.threads
      .map((threads) => {
        const fastestAt = (candidates: Measurement[]) => fastest(candidates.filter((m) => m.threads === threads));
        const pairs: [Measurement | undefined, Measurement | undefined][] = [
          [find("ctxembed", threads, workload), fastestAt(onnxRuntime("fp32"))],
          [find("ctxembed q8_0", threads, workload), fastestAt(onnxRuntime("int8"))],
        ];
        return `${threads} thread(s): ${pairs
          .map(
            ([ours, peer]) =>
              `${ours ? rowName(ours) : "ctxembed"} / ${peer ? rowName(peer) : "ONNX Runtime"} ${formatted(ratio(computeSeconds(peer), computeSeconds(ours)))} (target >= 1.0)`,
          )
          .join(", ")}`;
      })
      .join("; ")}.`;
  };

  const invocations = peers.map((peer) => {
    const m = measurements.find((candidate) => candidate.peer === peer);
    const variant = m?.variant ?? peer.variants[0]!;
    const threads = m?.threads ?? options.threads[0]!;
    const line = shellLine(
      pinned(
        peer.invocation(
          join(workDirectory, `${options.workloads[0]!.name}.txt`),
          join(workDirectory, "vectors"),
          threads,
          variant,
        ),
        cpusFor.get(threads),
      ),
      workDirectory,
    );
    return `- **${peer.name}**: ${peer.how}.\n\n  \`${line}${peer.printsJson ? " > $WORK/vectors" : ""}\``;
  });
  const pinning = options.threads
    .map((threads) => {
      const cpus = cpusFor.get(threads);
      return cpus === undefined
        ? `${threads} thread(s): not pinned (no taskset or too few CPUs)`
        : `${threads} thread(s) on CPUs ${cpus}`;
    })
    .join(", ");

  const machine = `${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} logical cores visible, Node ${process.version}, ${process.platform}-${process.arch}`;
  const workloadSections = options.workloads.flatMap((workload) => [
    `## ${workload.name[0]!.toUpperCase()}${workload.name.slice(1)}: ${workload.texts.length} ${workload.description}, ${tokensOf.get(workload)} tokens`,
    "",
    table(cellsOf(workload)),
    "",
    `### Issue #37's targets on ${workload.name}`,
    "",
    table(reducedPrecisionOf(workload)),
    "",
    avx2Line(workload),
    "",
    `### Earlier targets on ${workload.name}`,
    "",
    table(targetsOf(workload)),
    "",
  ]);
  const markdown = [
    "# Peer benchmark",
    "",
    ...(options.quickCheck
      ? [
          `**A quick check (${options.workloads.map((w) => `${w.texts.length} ${w.name}`).join(", ")}, ${repeats} run(s) per cell), not a measurement: its figures are not results.**`,
          "",
        ]
      : []),
    ...(options.runners === undefined
      ? []
      : [
          `**Only the peers matching \`${options.runners.source}\` ran, beside ctxembed's own modes: a peer missing from a table was not run, and a target whose peer is missing reads n/a.**`,
          "",
        ]),
    `Written by \`${options.commandLine}\` (scripts/bench/peers.ts) on ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC. Machine: ${machine}. Every figure on this page comes from that one run of this benchmark on that machine.`,
    "",
    `Versions: ${versions.join("; ")}.`,
    "",
    `Model: \`${basename(options.modelPath)}\` for the llama.cpp runners (llama-embedding, ctxembed, node-llama-cpp); the checkpoint it was converted from for sentence-transformers, and weights exported from that checkpoint for ONNX Runtime (scripts/reference/export-onnx.py as transformers.js' convert.py exports: fp32, and its q8 dynamic int8 quantization; scripts/bench/peers-export.py: the graph ONNX Runtime's transformer optimizer fuses and its int8) and OpenVINO (peers-export.py: IR with f32 weights, and with NNCF's int8 weight compression). Median of ${repeats} run(s) per cell, taken in turns (each round runs every runner once, so that a slow spell of the machine falls on all of them alike); every run is a fresh process that writes its vectors to a file, pinned with taskset to the same CPUs as every other run at its thread count (${pinning}), while the bench itself waits without sampling it (GNU time reads its peak memory and CPU time at exit).`,
    "",
    "- **tokens/s, texts/s**: the texts over the compute time, i.e. the whole run less the one-text run (medians), so process start and model load are taken out (`n/a` when that difference is under 5% of the whole run: too few texts or too much noise).",
    "- **… / ctxembed's**: the runner's compute time, whole run or peak memory over ctxembed's at the same thread count (above 1: ctxembed is faster or smaller).",
    "- **CPU / wall**: user and system CPU time over the whole run's wall time: the cores a runner kept busy on average; above its thread count means work outside the threads it was given.",
    "- **first vector**: a whole process that embeds one text: start, model load, one vector.",
    "- **peak memory**: the process's resident high-water mark (its rusage's maxrss).",
    `- **min / mean cosine**: text by text, between the runner's vectors and ${referenceName}' at the same thread count.`,
    `- **speed-up** (issue #37's targets): the peer's compute time over ctxembed's (above 1: ctxembed is faster); "ctxembed's modes" are the native build's f32, bf16 and q8_0, "peer modes" every other engine's rows (sentence-transformers, the reference, counts as min cosine 1).`,
    "",
    ...workloadSections,
    "![tokens per second](bench-peers.svg)",
    "",
    "## Runners",
    "",
    `Each as run on the first workload at its first thread count, from the repository's root; \`$WORK\` is the run's scratch folder.`,
    "",
    ...invocations,
    "",
    ...(notRun.length === 0
      ? []
      : ["## Not run", "", ...notRun.map(({ name, reason }) => `- **${name}**: not run: ${reason}`), ""]),
  ].join("\n");

  await mkdir(options.docsDirectory, { recursive: true });
  await writeFileAtomic(join(options.docsDirectory, "bench-peers.md"), markdown);
  const bars = measurements.flatMap((m) => {
    const seconds = computeSeconds(m);
    return seconds === undefined
      ? []
      : [
          {
            group: m.peer.name,
            series: `${m.workload.name}, ${m.threads} thread${m.threads === 1 ? "" : "s"}`,
            value: tokensOf.get(m.workload)! / seconds,
          },
        ];
  });
  await writeFileAtomic(
    join(options.docsDirectory, "bench-peers.svg"),
    barChartSvg(
      `${basename(options.modelPath)}, ${options.workloads.map((w) => `${w.texts.length} ${w.name}`).join(" and ")}`,
      "tokens/s",
      bars,
    ),
  );
  return markdown;
}
