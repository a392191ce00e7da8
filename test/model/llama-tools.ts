// llama.cpp's own example tools, built from the same patched tree as the addon, as references
// for parity tests. The project's CMake tree (build/) configures llama.cpp's examples under
// EXCLUDE_FROM_ALL, so a tool is built on first use only; on a fresh clone that takes minutes.
import { execFileSync } from "node:child_process";
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
    ["--build", buildDirectory, "--config", "Release", "--target", target, "--parallel", String(availableParallelism())],
    { stdio: "inherit" },
  );
  return binary;
}

/**
 * llama-embedding's vectors for one text, unnormalised: one pooled vector, or with pooling
 * "none" one per token. A single thread keeps its reduction order close to the library's.
 */
export function llamaEmbedding(model: string, text: string, pooling: "mean" | "cls" | "last" | "none"): Float32Array[] {
  const output = execFileSync(
    llamaTool("llama-embedding"),
    ["-m", model, "-p", text, "--pooling", pooling, "--embd-normalize", "-1", "--embd-output-format", "json", "-t", "1"],
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 28 },
  );
  const parsed = JSON.parse(output.slice(output.indexOf("{"))) as { data: { embedding: number[] }[] };
  return parsed.data.map(({ embedding }) => Float32Array.from(embedding));
}
