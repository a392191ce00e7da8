// The peers the peer benchmark compares with, installed on first use into ctxembed's cache,
// outside the repository's dependencies: node-llama-cpp from npm, sentence-transformers in a
// Python virtual environment.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const nodeLlamaCppVersion = "3.21.1";
export const sentenceTransformersVersion = "5.1.0";

export function installNodeLlamaCpp(peersDirectory: string): void {
  const manifest = join(peersDirectory, "node_modules", "node-llama-cpp", "package.json");
  if (existsSync(manifest) && JSON.parse(readFileSync(manifest, "utf8")).version === nodeLlamaCppVersion) return;
  mkdirSync(peersDirectory, { recursive: true });
  const project = join(peersDirectory, "package.json");
  if (!existsSync(project))
    writeFileSync(project, `${JSON.stringify({ name: "ctxembed-bench-peers", private: true })}\n`);
  console.error(`bench: installing node-llama-cpp@${nodeLlamaCppVersion} into ${peersDirectory}…`);
  // Its prebuilt binaries come as optional dependencies, so its own install script is not needed.
  execFileSync("npm", ["install", "--save-exact", "--no-audit", "--no-fund", `node-llama-cpp@${nodeLlamaCppVersion}`], {
    cwd: peersDirectory,
    stdio: "inherit",
  });
}

const versionProbe =
  "import torch, sentence_transformers as st; print(f'sentence-transformers {st.__version__}, torch {torch.__version__}')";

function pythonVersions(python: string): string | undefined {
  const probe = spawnSync(python, ["-c", versionProbe], { encoding: "utf8" });
  return probe.status === 0 ? probe.stdout.trim() : undefined;
}

/** A Python with sentence-transformers: the interpreter given, else a virtual environment in the peers directory made on first use. */
export function pythonWithSentenceTransformers(
  peersDirectory: string,
  given?: string,
): { python: string; versions: string } {
  const python = given ?? join(peersDirectory, "python", "bin", "python");
  let versions = pythonVersions(python);
  if (versions === undefined && given === undefined) {
    console.error(
      `bench: installing sentence-transformers==${sentenceTransformersVersion} into ${join(peersDirectory, "python")}…`,
    );
    if (!existsSync(python))
      execFileSync("python3", ["-m", "venv", join(peersDirectory, "python")], { stdio: "inherit" });
    // PyPI's Linux torch wheel brings its CUDA libraries along (gigabytes); the CPU-only wheel
    // index is not reachable everywhere, and the benchmark runs torch on the CPU either way.
    execFileSync(python, ["-m", "pip", "install", "--quiet", `sentence-transformers==${sentenceTransformersVersion}`], {
      stdio: "inherit",
    });
    versions = pythonVersions(python);
  }
  if (versions === undefined) throw new Error(`${python} cannot import torch and sentence_transformers`);
  return { python, versions };
}

/** transformers.js runs ONNX weights only: the .onnx files the model package carries, if any. */
export function onnxFiles(directory: string): string[] {
  if (!existsSync(directory)) return [];
  return readdirSync(directory, { recursive: true, encoding: "utf8" }).filter((file) => file.endsWith(".onnx"));
}
