// llama.cpp's own llama-embedding built from the pinned source WITHOUT ctxembed's patches, with
// llama.cpp's own CMake defaults: the reference that the architecture matrix, the tokenizer
// families and the MiniLM/gemma parity compare ctxembed against, so that a regression in one of
// scripts/build/llama-patches/ cannot pass by agreeing with a tool built from the same tree.
//
//   npx tsx scripts/reference/upstream-llama.ts [--jobs N]    prints the binary's path and version
//
// It is built once per pinned bundle into <ctxembed cache>/llama.cpp-upstream/<sha256 prefix>/ (the
// cache of lib/hub/cache.ts, outside the repository), which the tests call on first use
// (test/model/llama-tools.ts), so a fresh machine builds it itself (~3 minutes on 2 idle cores).
// Two options differ from llama.cpp's defaults, neither of which touches arithmetic: static
// libraries, so that the one binary can move into the cache whole, and no OpenSSL (model
// downloads). GGML_NATIVE, GGML_LLAMAFILE, GGML_OPENMP and the rest are llama.cpp's.
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { lock } from "proper-lockfile";
import { cacheDirectory } from "../../lib/hub/cache.js";
import { cloneLlamaSource, readPin } from "../build/fetch-llama.mjs";

export interface UpstreamLlama {
  /** path of the unpatched llama-embedding */
  binary: string;
  /** llama.h and ggml's headers, and the static libraries to link a program against (llama first) */
  include: string;
  libraries: string[];
  /** what it is: llama.cpp's version line, the pin, and "unpatched, llama.cpp's CMake defaults" */
  version: string;
}

const DEVIATIONS = ["-DBUILD_SHARED_LIBS=OFF", "-DLLAMA_OPENSSL=OFF"];
/** where each static library lies in llama.cpp's build tree, in link order */
const LIBRARIES = ["src/libllama.a", "ggml/src/libggml.a", "ggml/src/libggml-cpu.a", "ggml/src/libggml-base.a"];

/** A finished build: its version.txt (written last) says what it was built from. */
function layout(directory: string): UpstreamLlama {
  const binary = join(directory, "llama-embedding");
  return {
    binary,
    include: join(directory, "include"),
    libraries: LIBRARIES.map((library) => join(directory, "lib", basename(library))),
    version: `${toolVersion(binary)}; ${readFileSync(join(directory, "version.txt"), "utf8").trim()}`,
  };
}

function upstreamDirectory(): string {
  return join(cacheDirectory(), "llama.cpp-upstream", readPin().sha256.slice(0, 16));
}

/** llama-embedding's own version line ("version: … (build …, commit …)") and compiler line. */
export function toolVersion(binary: string): string {
  // printed on stderr
  const run = spawnSync(binary, ["--version"], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`${binary} --version failed (exit ${run.status}): ${run.stderr}`);
  return run.stderr.trim().split("\n").join("; ");
}

/** The unpatched llama-embedding, built on the first call for this pin (minutes), then cached. */
export async function upstreamLlama({ jobs = availableParallelism() } = {}): Promise<UpstreamLlama> {
  const directory = upstreamDirectory();
  const versionFile = join(directory, "version.txt");
  if (existsSync(versionFile)) return layout(directory);

  // Built beside its final place and renamed onto it, so that an unfinished build never looks
  // finished; one process at a time, and a build that was interrupted resumes where it stopped.
  mkdirSync(dirname(directory), { recursive: true });
  // The build blocks the event loop that refreshes the lock, so it counts as stale only after an
  // hour, longer than a build takes.
  const release = await lock(dirname(directory), {
    lockfilePath: `${directory}.lock`,
    stale: 3_600_000,
    update: 600_000,
    retries: { forever: true, minTimeout: 2_000, maxTimeout: 10_000 },
  });
  try {
    if (existsSync(versionFile)) return layout(directory);
    const work = `${directory}.partial`;
    const source = join(work, "source");
    const cloned = join(work, "source-cloned");
    if (!existsSync(cloned)) {
      await cloneLlamaSource(source);
      writeFileSync(cloned, `${readPin().pin}\n`);
    }
    const build = join(work, "build");
    console.error(`ctxembed: building the unpatched reference llama-embedding in ${build} (-j${jobs})…`);
    execFileSync("cmake", ["-S", source, "-B", build, ...DEVIATIONS], { stdio: ["ignore", "inherit", "inherit"] });
    execFileSync("cmake", ["--build", build, "--target", "llama-embedding", "--parallel", String(jobs)], {
      stdio: ["ignore", "inherit", "inherit"],
    });
    const finished = join(work, "finished");
    rmSync(finished, { recursive: true, force: true });
    mkdirSync(join(finished, "lib"), { recursive: true });
    const built = join(finished, "llama-embedding");
    copyFileSync(join(build, "bin", "llama-embedding"), built);
    for (const library of LIBRARIES) copyFileSync(join(build, library), join(finished, "lib", basename(library)));
    cpSync(join(source, "include"), join(finished, "include"), { recursive: true });
    cpSync(join(source, "ggml", "include"), join(finished, "include"), { recursive: true });
    const origin = `${readPin().pin}, unpatched, llama.cpp's CMake defaults but ${DEVIATIONS.join(" ")}`;
    writeFileSync(join(finished, "version.txt"), `${origin}\n`);
    rmSync(directory, { recursive: true, force: true });
    renameSync(finished, directory);
    rmSync(work, { recursive: true, force: true });
    return layout(directory);
  } finally {
    await release();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { jobs: { type: "string" } } });
  const jobs = values.jobs === undefined ? undefined : Number(values.jobs);
  if (jobs !== undefined && !(Number.isInteger(jobs) && jobs > 0)) {
    console.error(`--jobs must be a positive integer, got ${JSON.stringify(values.jobs)}`);
    process.exit(2);
  }
  upstreamLlama({ jobs }).then(
    ({ binary, version }) => console.log(`${binary}\n${version}`),
    (error: Error) => {
      console.error(`ctxembed: ${error.message}`);
      process.exit(1);
    },
  );
}
