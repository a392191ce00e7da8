// llama.cpp's own example tools, built from the same patched tree as the addon, as references
// for parity tests. The project's CMake tree (build/) configures llama.cpp's examples under
// EXCLUDE_FROM_ALL, so a tool is built on first use only; on a fresh clone that takes minutes.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

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

/**
 * llama-embedding's vectors for one text, unnormalised: one pooled vector, or with pooling
 * "none" one per token (`rows` of them, the text's token count). A single thread keeps its
 * reduction order close to the library's.
 */
export function llamaEmbedding(
  model: string,
  text: string,
  pooling: "mean" | "cls" | "last" | "none",
  rows = 1,
): Float32Array[] {
  // llama-embedding returns from main while llama.cpp's asynchronous logger is still printing
  // its vectors, so the end of its output is often lost, and with buffered stdout the rest
  // garbled. Unbuffered (stdbuf -o0) only the end is lost: tail prompts after the text absorb
  // that, and their rows are dropped. A run that still cut into the text's own rows is repeated.
  const prompts = [text, ...TAIL_PROMPTS].join("\n");
  const args = ["-m", model, "-p", prompts, "--pooling", pooling, "--embd-normalize", "-1"];
  args.push("--embd-output-format", "json", "-t", "1");
  const [command, prefix] = unbuffered(llamaTool("llama-embedding"));
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
