// The matrix kernels alone (scripts/bench/kernels.cpp): GFLOP/s of one thread at all-MiniLM-L6-v2's
// shapes for f32, bf16 and Q8_0 weights, ctxembed's repacked kernels beside llama.cpp's own, each
// against this core's measured peak for its instruction. Compiled against the static ggml libraries
// of build/ (a build from source has them), so it measures the kernels of this checkout.
//   npx tsx scripts/bench/kernels.ts [tokens] [products a round]
// On an otherwise idle machine: thread CPU time leaves out the waiting, not a sibling's share of
// the caches and the memory bus.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const build = join(root, "build");
const libraries = ["libggml.a", "libggml-cpu.a", "libggml-base.a"].map((name) =>
  join(build, "llama.cpp", "ggml", "src", name),
);
const missing = libraries.filter((path) => !existsSync(path));
if (missing.length > 0) {
  console.error(
    `kernels: build/ has no static ggml libraries (${missing.join(", ")}): build from source first (docs/building.md)`,
  );
  process.exit(1);
}
// the static OpenBLAS the build linked, if any: the CPU backend calls it for unrepacked f32 products
const cmakeCache = readFileSync(join(build, "CMakeCache.txt"), "utf8");
const openblas = /^CTXEMBED_OPENBLAS_LIBRARY:FILEPATH=(.+)$/m.exec(cmakeCache)?.[1];

const directory = mkdtempSync(join(tmpdir(), "ctxembed-kernels-"));
try {
  const program = join(directory, "kernels");
  execFileSync("c++", [
    "-std=c++17",
    "-O2",
    // the peak loops use this machine's instructions, as the build from source does
    "-march=native",
    "-I",
    join(root, "native", "llama.cpp", "ggml", "include"),
    join(root, "scripts", "bench", "kernels.cpp"),
    ...libraries,
    ...(openblas && existsSync(openblas) ? [openblas] : []),
    "-fopenmp",
    "-lpthread",
    "-lm",
    "-o",
    program,
  ]);
  execFileSync(program, process.argv.slice(2), { stdio: "inherit" });
} finally {
  rmSync(directory, { recursive: true, force: true });
}
