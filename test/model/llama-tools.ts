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
 * llama-embedding's vectors for one text, unnormalised: one pooled vector, or with pooling
 * "none" one per token. A single thread keeps its reduction order close to the library's.
 */
export function llamaEmbedding(model: string, text: string, pooling: "mean" | "cls" | "last" | "none"): Float32Array[] {
  // llama-embedding prints every number as its own entry of llama.cpp's asynchronous logger, which
  // under load sometimes drops, repeats or splices entries ("0.12361710.1236171,,"): not always
  // invalid JSON, so a single run is never trusted. Two runs that print the same valid text are.
  const seen = new Set<string>();
  for (let attempt = 0; attempt < 12; attempt++) {
    const output = execFileSync(
      llamaTool("llama-embedding"),
      [
        "-m",
        model,
        "-p",
        text,
        "--pooling",
        pooling,
        "--embd-normalize",
        "-1",
        "--embd-output-format",
        "json",
        "-t",
        "1",
      ],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 28 },
    );
    const json = output.slice(output.indexOf("{"));
    const vectors = parseEmbeddings(json);
    if (vectors === undefined) continue;
    if (seen.has(json)) return vectors;
    seen.add(json);
  }
  throw new Error(`llama-embedding printed a different output on each of 12 runs on ${model} that parsed`);
}

/** The vectors of llama-embedding's JSON, or undefined where it is garbled or its rows differ in width. */
function parseEmbeddings(json: string): Float32Array[] | undefined {
  try {
    const parsed = JSON.parse(json) as { data: { embedding: number[] }[] };
    const vectors = parsed.data.map(({ embedding }) => Float32Array.from(embedding));
    const width = vectors[0]?.length ?? 0;
    return width > 0 && vectors.every((vector) => vector.length === width) ? vectors : undefined;
  } catch {
    return undefined;
  }
}
