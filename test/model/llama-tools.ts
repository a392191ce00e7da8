// llama.cpp's own tools as references for parity tests, in two builds:
//  - patched: built from the same patched tree as the addon (build/). It tells whether the addon's
//    own code (batching, pooling, layers) matches llama.cpp, but it shares every patch's faults.
//    The project's CMake tree configures llama.cpp's examples under EXCLUDE_FROM_ALL, so a tool
//    is built on first use only; on a fresh clone that takes minutes.
//  - upstream: the pinned source without ctxembed's patches, with llama.cpp's CMake defaults
//    (scripts/reference/upstream-llama.ts, cached outside the repository, built on first use).
//    A patch that changes what it computes shows up against it.
// llama-probe.cpp, compiled against either build's static libraries, gives both builds' outputs
// as exact bits for the byte-for-byte comparisons.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { patchNames, readPin } from "../../scripts/build/fetch-llama.mjs";
import { toolVersion, upstreamLlama } from "../../scripts/reference/upstream-llama.js";

const repository = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const buildDirectory = join(repository, "build");

/** Path of build/bin/<target>, built with cmake when missing. */
export function llamaTool(target: "llama-embedding"): string {
  const binary = join(buildDirectory, "bin", target);
  if (existsSync(binary)) return binary;
  if (!existsSync(join(buildDirectory, "CMakeCache.txt"))) {
    throw new Error(`${buildDirectory} is not a configured CMake tree; build the addon first (npm run build:native)`);
  }
  execFileSync(
    "cmake",
    [
      "--build",
      buildDirectory,
      "--config",
      "Release",
      "--target",
      target,
      "--parallel",
      String(availableParallelism()),
    ],
    { stdio: "inherit" },
  );
  return binary;
}

/**
 * The command line that runs `binary` with stdout unbuffered: GNU coreutils' stdbuf where it
 * exists (Linux); elsewhere the binary alone, whose garbled runs the parsing below mostly rejects.
 */
function unbuffered(binary: string): [string, string[]] {
  const found = spawnSync("stdbuf", ["--version"], { stdio: "ignore" }).status === 0;
  return found ? ["stdbuf", ["-o0", binary]] : [binary, []];
}

// Prompts sent after the real one, whose rows llama-embedding prints last: see llamaEmbedding.
const TAIL_PROMPTS = Array.from({ length: 8 }, () => "the river flows past the old stone bridge");

/** The unpatched llama-embedding (built on first use: minutes). */
export async function upstreamLlamaEmbedding(): Promise<string> {
  return (await upstreamLlama()).binary;
}

/** Both builds' llama-embedding, named by version, pin and patches, for a test log. */
export async function llamaBuildVersions(): Promise<string> {
  const upstream = await upstreamLlama();
  const patched = `${toolVersion(llamaTool("llama-embedding"))}; ${readPin().pin} + ${patchNames().join(", ")}`;
  return `llama-embedding (patched, build/bin): ${patched}\nllama-embedding (upstream): ${upstream.version}`;
}

/**
 * llama-embedding's vectors for one text, unnormalised: one pooled vector, or with pooling
 * "none" one per token (`rows` of them, the text's token count). A single thread keeps its
 * reduction order close to the library's. `binary` is the patched build's tool unless given
 * (upstreamLlamaEmbedding()).
 */
export function llamaEmbedding(
  model: string,
  text: string,
  pooling: "mean" | "cls" | "last" | "none",
  rows = 1,
  binary = llamaTool("llama-embedding"),
): Float32Array[] {
  // llama-embedding returns from main while llama.cpp's asynchronous logger is still printing
  // its vectors, so the end of its output is often lost, and with buffered stdout the rest
  // garbled. Unbuffered (stdbuf -o0) only the end is lost: tail prompts after the text absorb
  // that, and their rows are dropped. A run that still cut into the text's own rows is repeated.
  const prompts = [text, ...TAIL_PROMPTS].join("\n");
  const args = ["-m", model, "-p", prompts, "--pooling", pooling, "--embd-normalize", "-1"];
  args.push("--embd-output-format", "json", "-t", "1");
  const [command, prefix] = unbuffered(binary);
  for (let attempt = 0; attempt < 10; attempt++) {
    const output = spawnSync(command, [...prefix, ...args], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      maxBuffer: 1 << 28,
    });
    if (output.status !== 0) throw new Error(`llama-embedding failed on ${model} (exit ${output.status})`);
    // Only arrays closed by "]" are complete; a cut one never matches.
    const complete = [...output.stdout.matchAll(/"embedding": \[([^\]]*)\]/g)].map(([, numbers]) =>
      Float32Array.from(numbers!.split(","), Number),
    );
    const width = complete[0]?.length ?? 0;
    const intact = complete.every((vector) => vector.length === width && vector.every(Number.isFinite));
    if (intact && complete.length >= rows) return complete.slice(0, rows);
  }
  throw new Error(`llama-embedding's output on ${model} was cut short 10 times in a row`);
}

export type LlamaBuild = "patched" | "upstream";

/** The static OpenBLAS the patched build linked, if any (its CPU backend calls it for f32 products). */
function patchedOpenblas(): string[] {
  const cache = readFileSync(join(buildDirectory, "CMakeCache.txt"), "utf8");
  const library = /^CTXEMBED_OPENBLAS_LIBRARY:FILEPATH=(.+)$/m.exec(cache)?.[1];
  return library && existsSync(library) ? [library] : [];
}

/** llama-probe.cpp compiled against one build's static libraries (seconds); returns its path. */
export function llamaProbe(build: LlamaBuild): Promise<string> {
  return compileAgainst(build, join(repository, "test", "model", "upstream", "llama-probe.cpp"));
}

/** A C++ program compiled against one build's llama.cpp and ggml static libraries; returns its path. */
export async function compileAgainst(build: LlamaBuild, source: string): Promise<string> {
  const output = join(mkdtempSync(join(tmpdir(), "ctxembed-llama-program-")), `${basename(source, ".cpp")}-${build}`);
  let link: string[];
  if (build === "upstream") {
    const upstream = await upstreamLlama();
    // llama.cpp's default build threads with OpenMP
    link = ["-I", upstream.include, ...upstream.libraries, "-fopenmp"];
  } else {
    // the addon links these statically, so a build from source has them
    const llama = join(repository, "native", "llama.cpp");
    const libraries = ["src/libllama.a", "ggml/src/libggml.a", "ggml/src/libggml-cpu.a", "ggml/src/libggml-base.a"];
    link = [
      ...["include", "ggml/include"].flatMap((folder) => ["-I", join(llama, folder)]),
      ...libraries.map((library) => join(buildDirectory, "llama.cpp", library)),
      ...patchedOpenblas(),
    ];
  }
  execFileSync("c++", ["-std=c++17", "-O2", source, ...link, "-lpthread", "-lm", "-o", output], { stdio: "inherit" });
  return output;
}

function runProbe(probe: string, args: string[], texts: readonly string[]): string {
  const file = join(mkdtempSync(join(tmpdir(), "ctxembed-llama-probe-texts-")), "texts");
  writeFileSync(file, texts.map((text) => `${Buffer.from(text, "utf8").toString("hex")}\n`).join(""));
  const [mode, model, ...rest] = args;
  return execFileSync(probe, [mode!, model!, file, ...rest], { encoding: "utf8", maxBuffer: 1 << 28 });
}

/** Each text's ids as llama.cpp tokenizes it (add_special and parse_special off). */
export function probeTokens(probe: string, model: string, texts: readonly string[]): number[][] {
  const lines = runProbe(probe, ["tokens", model], texts).split("\n").slice(0, texts.length);
  return lines.map((line) => line.trim().split(" ").filter(Boolean).map(Number));
}

/**
 * Every token's output vector, the texts in one batch, as lines of the hex of each value's f32
 * bits: one line a token, in the order of the texts.
 */
export function probeEmbeddings(
  probe: string,
  model: string,
  texts: readonly string[],
  flashAttention: boolean,
): string[] {
  return runProbe(probe, ["embed", model, flashAttention ? "1" : "0"], texts)
    .trimEnd()
    .split("\n");
}

/** The values of one line of probeEmbeddings. */
export function probeVector(line: string): Float32Array {
  return new Float32Array(Uint32Array.from(line.split(" "), (word) => Number.parseInt(word, 16)).buffer);
}
