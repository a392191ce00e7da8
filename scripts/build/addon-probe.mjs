// Which native binary would ctxembed load here, and does it load? Both the install step and the
// prebuild script ask in a child process, so that a binary that crashes on load (wrong ABI,
// wrong libc, an instruction the CPU lacks in a static initialiser) fails the child, not them.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

// Resolves the binary the way lib/native/addon.ts does (node-gyp-build: build/Release first,
// then prebuilds/<platform>-<arch>), unless a file is given, then loads it and asks for
// llama.cpp's system line, which initialises ggml's CPU backend.
const probeSource = `
const [nodeGypBuild, root, file] = process.argv.slice(1);
const chosen = file || require(nodeGypBuild).resolve(root);
const info = require(chosen).systemInfo();
process.stdout.write(JSON.stringify({ file: chosen, systemInfo: info }));
`;

/** @returns {{ file: string, systemInfo: string } | { error: string }} */
export function probeAddon(file = "") {
  const nodeGypBuild = createRequire(import.meta.url).resolve("node-gyp-build");
  const child = spawnSync(process.execPath, ["-e", probeSource, nodeGypBuild, packageRoot, file], { encoding: "utf8" });
  if (child.status === 0) return JSON.parse(child.stdout);
  const errorLine = (child.stderr || "").split("\n").find((line) => /^\w*Error\b/.test(line));
  return {
    error: child.signal
      ? `the loader died with ${child.signal}`
      : (errorLine ?? `the loader exited with ${child.status}`),
  };
}
