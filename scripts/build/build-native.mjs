#!/usr/bin/env node
// Builds the addon (and llama.cpp, statically) with cmake-js. Runs from the package's install
// step when no prebuilt binary fits (scripts/build/install.mjs), so it is plain JavaScript and explains
// what to install when a tool is missing.
//
//   node scripts/build/build-native.mjs            build unless build/Release/ctxembed.node loads
//   node scripts/build/build-native.mjs --force    always run the (incremental) build
//   CTXEMBED_CUDA=1       also build ggml's CUDA backend (GGML_CUDA=ON)
//   CTXEMBED_PORTABLE=1   no host-specific instructions: the baseline that release binaries
//                         assume (x86-64-v3, armv8.2-a+dotprod; scripts/build/prebuild.mjs
//                         also builds the wider variants of native/cpu-baseline.mjs, and
//                         cross-compiles linux-arm64)
import { execFileSync, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { cpuVariantsOf, variantOptions } from "../../native/cpu-baseline.mjs";
import { fetchLlama } from "./fetch-llama.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const defaultBuildDirectory = join(root, "build");

export function envFlag(name) {
  return ["1", "true", "on", "yes"].includes(String(process.env[name] ?? "").toLowerCase());
}

export function addonIn(buildDirectory) {
  return join(buildDirectory, "Release", "ctxembed.node");
}

function loads(file) {
  if (!existsSync(file)) return false;
  try {
    createRequire(import.meta.url)(file);
    return true;
  } catch {
    return false;
  }
}

function requireTool(command, args, advice) {
  try {
    execFileSync(command, args, { stdio: "ignore" });
  } catch {
    throw new Error(
      `${command} was not found, and it is needed to build ctxembed's native addon from source.\n  ${advice}`,
    );
  }
}

/**
 * The -D options of one build: ctxembed's switches, plus, for a portable build, the instruction
 * sets of its CPU variant (native/cpu-baseline.mjs; this architecture's baseline unless named).
 */
export function cmakeOptions({ portable, cuda, cpuVariant = cpuVariantsOf()[0] }) {
  const options = { CTXEMBED_CUDA: cuda, CTXEMBED_PORTABLE: portable };
  if (portable && cpuVariant) Object.assign(options, variantOptions(cpuVariant));
  return options;
}

/** A -D value as CMake reads it. */
function cmakeValue(value) {
  if (typeof value === "boolean") return value ? "ON" : "OFF";
  return value;
}

export async function buildNative({
  force = false,
  target,
  out = defaultBuildDirectory,
  portable = envFlag("CTXEMBED_PORTABLE"),
  cuda = envFlag("CTXEMBED_CUDA"),
  cpuVariant = cpuVariantsOf()[0],
  // A cross build (another architecture's variant): the CMake toolchain file and the compiler it names.
  cross,
} = {}) {
  const addon = addonIn(out);
  if (!force && !target && !cross && loads(addon)) return addon;

  requireTool(
    "cmake",
    ["--version"],
    "Install CMake >= 3.18 (Debian/Ubuntu: apt-get install cmake; macOS: brew install cmake; or pip install cmake).",
  );
  requireTool(
    cross?.compiler ?? (process.env.CXX || "c++"),
    ["--version"],
    cross?.advice ?? "Install a C++17 compiler (Debian/Ubuntu: apt-get install g++; macOS: xcode-select --install).",
  );
  requireTool("git", ["--version"], "Install git (it unpacks the pinned llama.cpp source bundle).");
  await fetchLlama();

  const cmakeJs = createRequire(import.meta.url).resolve("cmake-js/bin/cmake-js");
  const options = {
    ...cmakeOptions({ portable, cuda, cpuVariant }),
    ...(cross ? { CMAKE_TOOLCHAIN_FILE: cross.toolchainFile } : {}),
  };
  const defines = Object.entries(options).map(([name, value]) => `--CD${name}=${cmakeValue(value)}`);
  // `cmake-js build` configures only a new build folder: an existing one would keep the switches
  // it was first configured with, so configure first, every time (a few seconds).
  const steps = [
    [cmakeJs, "configure", "--out", out, ...defines],
    [
      cmakeJs,
      "build",
      "--out",
      out,
      "--parallel",
      String(availableParallelism()),
      ...defines,
      ...(target ? ["--target", target] : []),
    ],
  ];

  const summary = [
    ...Object.entries({ CTXEMBED_CUDA: cuda, CTXEMBED_PORTABLE: portable }).map(
      ([name, on]) => `${name}=${on ? "ON" : "OFF"}`,
    ),
    ...(portable && cpuVariant ? [`CPU variant ${cpuVariant.name}`] : []),
    ...(cross ? [`cross-compiled for ${process.platform}-${cpuVariant.arch}`] : []),
  ].join(" ");
  console.error(
    `ctxembed: building the native addon from source in ${out} (${summary}); the first build compiles llama.cpp and takes a few minutes…`,
  );
  const failed = steps.some((args) => spawnSync(process.execPath, args, { cwd: root, stdio: "inherit" }).status !== 0);
  if (failed) {
    throw new Error(
      "the native build failed (see the compiler output above). Set CTXEMBED_CUDA=0 if you asked for CUDA without a CUDA toolkit, or file an issue with that output.",
    );
  }
  if (!target && !cross && !loads(addon)) throw new Error(`the build finished but ${addon} does not load`);
  return addon;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildNative({ force: process.argv.includes("--force") }).catch((error) => {
    console.error(`ctxembed: ${error.message}`);
    process.exit(1);
  });
}
