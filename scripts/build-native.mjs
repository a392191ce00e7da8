#!/usr/bin/env node
// Builds the addon (and llama.cpp, statically) with cmake-js. Runs as the package's install
// step, so it is plain JavaScript and explains what to install when a tool is missing.
//
//   node scripts/build-native.mjs            build unless build/Release/ctxembed.node loads
//   node scripts/build-native.mjs --force    always run the (incremental) build
//   CTXEMBED_CUDA=1       also build ggml's CUDA backend
//   CTXEMBED_PORTABLE=1   no host-specific instructions (what release binaries use)
//   CTXEMBED_LLAMAFILE=1  llamafile's tinyBLAS kernels: faster, but vectors depend on batch mates
import { execFileSync, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { fetchLlama } from "./fetch-llama.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const addonPath = join(root, "build", "Release", "ctxembed.node");

function flag(name) {
  return ["1", "true", "on", "yes"].includes(String(process.env[name] ?? "").toLowerCase());
}

function addonLoads() {
  if (!existsSync(addonPath)) return false;
  try {
    createRequire(import.meta.url)(addonPath);
    return true;
  } catch {
    return false;
  }
}

function requireTool(command, args, advice) {
  try {
    execFileSync(command, args, { stdio: "ignore" });
  } catch {
    throw new Error(`${command} was not found, and it is needed to build ctxembed's native addon from source.\n  ${advice}`);
  }
}

export async function buildNative({ force = false, target } = {}) {
  if (!force && !target && addonLoads()) return addonPath;

  requireTool("cmake", ["--version"], "Install CMake >= 3.18 (Debian/Ubuntu: apt-get install cmake; macOS: brew install cmake).");
  requireTool(process.env.CXX || "c++", ["--version"], "Install a C++17 compiler (Debian/Ubuntu: apt-get install g++; macOS: xcode-select --install).");
  requireTool("git", ["--version"], "Install git (it unpacks the pinned llama.cpp source bundle).");
  await fetchLlama();

  const cmakeJs = createRequire(import.meta.url).resolve("cmake-js/bin/cmake-js");
  const args = [cmakeJs, "build", "--out", join(root, "build"), "--parallel", String(availableParallelism())];
  const cmakeOptions = {
    CTXEMBED_CUDA: flag("CTXEMBED_CUDA"),
    CTXEMBED_PORTABLE: flag("CTXEMBED_PORTABLE"),
    CTXEMBED_LLAMAFILE: flag("CTXEMBED_LLAMAFILE"),
  };
  for (const [name, on] of Object.entries(cmakeOptions)) args.push(`--CD${name}=${on ? "ON" : "OFF"}`);
  if (target) args.push("--target", target);

  console.error(`ctxembed: building the native addon from source (${Object.entries(cmakeOptions).map(([k, v]) => `${k}=${v ? "ON" : "OFF"}`).join(" ")}); the first build compiles llama.cpp and takes a few minutes…`);
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: "inherit" });
  if (result.status !== 0) {
    throw new Error("the native build failed (see the compiler output above). Set CTXEMBED_CUDA=0 if you asked for CUDA without a CUDA toolkit, or file an issue with that output.");
  }
  if (!target && !addonLoads()) throw new Error(`the build finished but ${addonPath} does not load`);
  return addonPath;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildNative({ force: process.argv.includes("--force") }).catch((error) => {
    console.error(`ctxembed: ${error.message}`);
    process.exit(1);
  });
}
