#!/usr/bin/env node
// Release binaries: a portable CPU build of the addon, placed as
// prebuilds/<platform>-<arch>/ctxembed.napi[.glibc|.musl].node, the layout prebuildify writes
// and node-gyp-build reads (prebuildify itself cannot drive cmake-js). On x86-64 that is the
// x86-64-v3 baseline, and each wider CPU variant of native/cpu-baseline.mjs goes beside it in
// prebuilds/linux-x64/<variant>/, built in build-prebuild-<variant>/; the library loads the widest
// one the CPU runs.
//
//   node scripts/build/prebuild.mjs
//
// It builds in build-prebuild/, apart from the development build in build/ (which may use every
// instruction of this machine), unless build/ was itself configured as a portable CPU build
// (CTXEMBED_PORTABLE=1 npm install): then that tree is brought up to date and copied, which saves
// CI a second compile of llama.cpp.
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { addonIn, buildNative, cmakeOptions, defaultBuildDirectory } from "./build-native.mjs";
import { packageRoot, probeAddon } from "./addon-probe.mjs";
import { missingInstructions, variantFile, x64CpuVariants } from "../../native/cpu-baseline.mjs";

const releaseSwitches = { portable: true, cuda: false };
export const prebuildDirectory = join(packageRoot, "prebuilds", `${process.platform}-${process.arch}`);
const patchDirectory = join(packageRoot, "scripts", "build", "llama-patches");

function libcTag() {
  if (process.platform !== "linux") return [];
  return [process.report.getReport().header.glibcVersionRuntime ? "glibc" : "musl"];
}

export const prebuildFile = join(prebuildDirectory, ["ctxembed", "napi", ...libcTag(), "node"].join("."));

/** Whether a build tree was configured with exactly the release switches. */
function configuredForRelease(buildDirectory) {
  const cache = join(buildDirectory, "CMakeCache.txt");
  if (!existsSync(cache)) return false;
  const entries = new Map(
    readFileSync(cache, "utf8")
      .split("\n")
      .map((line) => /^([A-Z0-9_]+):BOOL=(\w+)$/.exec(line))
      .filter(Boolean)
      .map(([, name, value]) => [name, value.toUpperCase() === "ON"]),
  );
  return Object.entries(cmakeOptions(releaseSwitches)).every(([name, on]) => entries.get(name) === on);
}

/** The CPU variants released for this architecture, baseline first (undefined: the only one). */
const releaseVariants = process.arch === "x64" ? x64CpuVariants : [undefined];

function isBaseline(variant) {
  return variant === undefined || variant === x64CpuVariants[0];
}

export function prebuildVariantFile(variant) {
  return variantFile(prebuildFile, variant);
}

function buildDirectoryOf(variant) {
  if (!isBaseline(variant)) return join(packageRoot, `build-prebuild-${variant.name}`);
  return configuredForRelease(defaultBuildDirectory) ? defaultBuildDirectory : join(packageRoot, "build-prebuild");
}

export async function prebuild() {
  rmSync(prebuildDirectory, { recursive: true, force: true });
  for (const variant of releaseVariants) {
    const out = buildDirectoryOf(variant);
    await buildNative({ force: true, out, ...releaseSwitches, cpuVariant: variant });
    const file = prebuildVariantFile(variant);
    mkdirSync(dirname(file), { recursive: true });
    copyFileSync(addonIn(out), file);
    const missing = variant === undefined ? [] : missingInstructions(variant);
    if (missing.length > 0) {
      console.error(`ctxembed: ${relative(packageRoot, file)} not loaded here: this CPU lacks ${missing.join(", ")}`);
      continue;
    }
    const probe = probeAddon(file);
    if ("error" in probe) throw new Error(`the prebuilt binary ${file} does not load: ${probe.error}`);
    console.error(`ctxembed: ${relative(packageRoot, file)} from ${relative(packageRoot, out)}/ (${probe.systemInfo})`);
  }
  return prebuildFile;
}

/**
 * The newest modification time (ms) of what a binary is built from: the addon's sources, CMake and
 * the build script's options, the llama.cpp pin (package.json) and its patches.
 */
function newestSource() {
  const sources = [
    join(packageRoot, "CMakeLists.txt"),
    join(packageRoot, "package.json"),
    join(packageRoot, "scripts", "build", "build-native.mjs"),
    join(packageRoot, "scripts", "build", "fetch-llama.mjs"),
    ...readdirSync(join(packageRoot, "native"))
      .filter((name) => /\.(cpp|h|mjs)$/.test(name))
      .map((name) => join(packageRoot, "native", name)),
    ...readdirSync(patchDirectory).map((name) => join(patchDirectory, name)),
  ];
  return Math.max(...sources.map((file) => statSync(file).mtimeMs));
}

/** Whether every released variant has a prebuilt binary, built after its sources last changed (as make decides). */
export function hasCurrentPrebuild() {
  const files = releaseVariants.map(prebuildVariantFile);
  if (!files.every(existsSync)) return false;
  const sources = newestSource();
  return files.every((file) => statSync(file).mtimeMs >= sources);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  prebuild().catch((error) => {
    console.error(`ctxembed: ${error.message}`);
    process.exit(1);
  });
}
