#!/usr/bin/env node
// Puts the pinned llama.cpp source in native/llama.cpp.
//
// llama.cpp is not fetched from its own host (unreachable from many build machines) but from
// the npm registry, where node-llama-cpp ships it as a git bundle. The pin is one line in
// package.json ("ctxembed.llamaCppSource"): <npm package>@<version>:<path in tarball>#sha256=<hex>.
// The patches in scripts/build/llama-patches/ are applied on top, in the order of their numbers
// (0001-...); each says at its head why, what it depends on and which test fails without it.
// Plain JavaScript on purpose: it runs at install time, before TypeScript is compiled.
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const llamaDir = join(root, "native", "llama.cpp");
const stampFile = join(llamaDir, ".ctxembed-source");
const patchDir = join(root, "scripts", "build", "llama-patches");

export function readPin() {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const pin = pkg.ctxembed?.llamaCppSource;
  const match = /^(@?[^@]+@[^:]+):([^#]+)#sha256=([0-9a-f]{64})$/.exec(pin ?? "");
  if (!match) {
    throw new Error(`package.json ctxembed.llamaCppSource is malformed: ${JSON.stringify(pin)}`);
  }
  return { spec: match[1], bundlePath: match[2], sha256: match[3], pin };
}

function run(command, args, options = {}) {
  try {
    return execFileSync(command, args, { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8", ...options });
  } catch (error) {
    if (error.code === "ENOENT") {
      throw new Error(
        `'${command}' is not installed or not on PATH; it is needed to fetch llama.cpp (install ${command} and retry)`,
      );
    }
    throw new Error(`${command} ${args.join(" ")} failed:\n${error.stderr || error.message}`);
  }
}

async function sha256Of(file) {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk);
  return hash.digest("hex");
}

/**
 * The patches in the order they apply: named NNNN-what.patch, numbered from 0001 without gaps, so
 * that a patch added without a number (or two with one) stops the build instead of applying out
 * of the order its head states.
 */
export function patchNames(directory = patchDir) {
  const names = readdirSync(directory)
    .filter((name) => name.endsWith(".patch"))
    .sort();
  names.forEach((name, i) => {
    const expected = String(i + 1).padStart(4, "0");
    if (!name.startsWith(`${expected}-`)) {
      throw new Error(
        `${join(directory, name)}: patches are named NNNN-what.patch and numbered 0001, 0002, … in the order they apply (expected ${expected}-…)`,
      );
    }
  });
  return names;
}

async function patches() {
  return Promise.all(
    patchNames().map(async (name) => {
      const file = join(patchDir, name);
      return { file, line: `${name}#sha256=${await sha256Of(file)}` };
    }),
  );
}

/**
 * Clones the pinned llama.cpp source into `directory` (replacing it), after checking the bundle's
 * checksum, and applies `patchFiles` in order. Shared with the unpatched reference build
 * (scripts/reference/upstream-llama.ts), which passes none.
 */
export async function cloneLlamaSource(directory, { patchFiles = [], log = (line) => console.error(line) } = {}) {
  const { spec, bundlePath, sha256 } = readPin();
  const work = mkdtempSync(join(tmpdir(), "ctxembed-llama-"));
  try {
    log(`ctxembed: fetching llama.cpp source (${spec}, ${bundlePath}) from the npm registry…`);
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const tarball = run(npm, ["pack", spec, "--silent", "--pack-destination", work], { cwd: work })
      .trim()
      .split("\n")
      .pop();
    run("tar", ["-xzf", join(work, tarball), "-C", work, `package/${bundlePath}`]);
    const bundle = join(work, "package", bundlePath);

    const actual = await sha256Of(bundle);
    if (actual !== sha256) {
      throw new Error(
        `llama.cpp bundle checksum mismatch for ${spec}:${bundlePath}\n  expected sha256 ${sha256}\n  got      sha256 ${actual}\n` +
          "The registry served different bytes than the ones ctxembed was tested with; refusing to build from them.",
      );
    }
    rmSync(directory, { recursive: true, force: true });
    run("git", ["clone", "--quiet", bundle, directory]);
    for (const file of patchFiles) run("git", ["-C", directory, "apply", file]);
    return directory;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export async function fetchLlama({ log = (line) => console.error(line) } = {}) {
  const { pin } = readPin();
  const applied = await patches();
  // The stamp names the bundle and every patch, so a changed patch brings a fresh tree.
  const stamp = [pin, ...applied.map((patch) => patch.line)].join("\n");
  if (existsSync(stampFile) && readFileSync(stampFile, "utf8").trim() === stamp) return llamaDir;

  await cloneLlamaSource(llamaDir, { patchFiles: applied.map((patch) => patch.file), log });
  writeFileSync(stampFile, `${stamp}\n`);
  log(`ctxembed: llama.cpp source ready in ${llamaDir}`);
  return llamaDir;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  fetchLlama().catch((error) => {
    console.error(`ctxembed: ${error.message}`);
    process.exit(1);
  });
}
