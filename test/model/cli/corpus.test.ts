// `ctxembed embed` over a corpus too large to hold: 200,000 lines through a random-weight model
// (the mechanics do not need real weights, and a real model would take an hour on two cores).
// Peak memory is read from /proc while the process runs; a run killed half way and resumed
// must give every input's result once, in order, as a run that was never stopped does.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel } from "../../../lib/embedding/embedding-model.js";
import { cosineSimilarity } from "../../../lib/vectors/similarity.js";
import { seededRandom } from "../../../lib/util/random.js";
import { repositoryRoot } from "../models.js";
import { tinyModelPath } from "../tiny-model.js";

const cliEntry = join(repositoryRoot, "lib", "cli", "main.ts");
const LINES = 200_000;
const MB = 1 << 20;

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** VmHWM: the most resident memory the process ever had */
  peakBytes: number;
}

/** `node args…` with its peak memory polled from /proc; `stopWhen` may kill it mid-run. */
function runNode(args: string[], stopWhen?: { ready: () => boolean; signal: NodeJS.Signals }): Promise<Run> {
  const child = spawn(process.execPath, args, { cwd: repositoryRoot, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
  let peakBytes = 0;
  // Signalled once: a second Ctrl-C means "stop at once".
  let stopped = false;
  const poll = setInterval(() => {
    try {
      const kilobytes = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1];
      peakBytes = Math.max(peakBytes, Number(kilobytes ?? 0) * 1024);
    } catch {
      // the process has just ended
    }
    if (!stopped && stopWhen?.ready()) stopped = child.kill(stopWhen.signal);
  }, 50);
  return new Promise((resolve) => {
    child.on("exit", (status, signal) => {
      clearInterval(poll);
      resolve({ status, signal, stderr, peakBytes });
    });
  });
}

function ctxembed(args: string[], stopWhen?: { ready: () => boolean; signal: NodeJS.Signals }): Promise<Run> {
  return runNode(["--import", "tsx", cliEntry, ...args], stopWhen);
}

const words = (
  "the of and to in is was for on that with as by at from his her an were which are this be or had not but have they first one " +
  "their its new after who also has two been more other when into year time city over between only can where she world some many " +
  "most people state about during under national there would use called school film group well known part series team later since"
).split(" ");

/** Sentences of 3 to 25 words, the same on every run. */
function corpusLines(count: number): string[] {
  const random = seededRandom(7);
  const pick = (): string => words[Math.floor(random() * words.length)]!;
  return Array.from({ length: count }, () => Array.from({ length: 3 + Math.floor(random() * 23) }, pick).join(" "));
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

let directory: string;
let modelFile: string;
let lines: string[];
let corpus: string;
let clean: string;
beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), "ctxembed-corpus-"));
  modelFile = await tinyModelPath();
  lines = corpusLines(LINES);
  corpus = join(directory, "corpus.txt");
  writeFileSync(corpus, `${lines.join("\n")}\n`);
  clean = join(directory, "clean.jsonl");
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const common = () => ["embed", "--model", modelFile, "--input", corpus, "--threads", "1"];

describe("ctxembed embed over a 200,000-line file", () => {
  it("streams it with peak memory under the model's size + 200 MB, one result per line in order", {
    timeout: 900_000,
  }, async () => {
    const run = await ctxembed([...common(), "--output", clean]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(new RegExp(`embedded ${LINES} inputs \\(\\d+ tokens, 0 truncated\\)`));

    // The test runs the CLI from source through tsx, whose own footprint the installed CLI does not carry.
    const tsx = await runNode(["--import", "tsx", "-e", "0"]);
    const bare = await runNode(["-e", "0"]);
    const loader = tsx.peakBytes - bare.peakBytes;
    const allowance = statSync(modelFile).size + 200 * MB + loader;
    process.stderr.write(
      `[cli-corpus] peak ${(run.peakBytes / MB).toFixed(0)} MB (tsx loader ${(loader / MB).toFixed(0)} MB, allowance ${(allowance / MB).toFixed(0)} MB)\n`,
    );
    // The reading is a real one: the CLI holds at least a bare Node process and the model's weights.
    expect(run.peakBytes).toBeGreaterThan(bare.peakBytes + statSync(modelFile).size);
    expect(run.peakBytes).toBeLessThan(allowance);

    const output = readFileSync(clean, "utf8").split("\n");
    expect(output.pop()).toBe("");
    expect(output).toHaveLength(LINES);
    output.forEach((line, i) => {
      if ((JSON.parse(line) as { index: number }).index !== i)
        throw new Error(`line ${i + 1} of the output is not input ${i}: ${line.slice(0, 40)}`);
    });

    // A sample against the library's vectors for the same texts.
    const model = await loadModel(modelFile, { threads: 1 });
    try {
      const sample = [0, 1, 77_777, 123_456, LINES - 1];
      const expected = await model.embed(sample.map((i) => lines[i]!));
      sample.forEach((i, k) => {
        const written = Float32Array.from((JSON.parse(output[i]!) as { embedding: number[] }).embedding);
        expect(cosineSimilarity(written, expected[k]!.embedding)).toBeGreaterThan(0.999999);
      });
    } finally {
      await model.dispose();
    }
  });

  it("killed half way (SIGKILL) and run again with --resume, gives each input's result exactly once, in order", {
    timeout: 900_000,
  }, async () => {
    const resumed = join(directory, "resumed.jsonl");
    const half = fileSize(clean) / 2;
    const killed = await ctxembed([...common(), "--output", resumed], {
      ready: () => fileSize(resumed) >= half,
      signal: "SIGKILL",
    });
    expect(killed.signal).toBe("SIGKILL");
    const left = fileSize(resumed);
    expect(left).toBeGreaterThanOrEqual(half);
    expect(left).toBeLessThan(fileSize(clean));

    const run = await ctxembed([...common(), "--output", resumed, "--resume"]);
    expect(run.status, run.stderr).toBe(0);
    const done = Number(/after the (\d+) already in/.exec(run.stderr)?.[1]);
    expect(done).toBeGreaterThan(0);
    expect(run.stderr).toContain(`embedded ${LINES - done} inputs`);
    // Every input once, in order, with the uninterrupted run's vector. Not always the same bytes:
    // an encoder's vector moves in the 6th digit with its batch mates, and a kill in the middle
    // of a chunk's write shifts the chunks, hence the batches, after the resume point.
    const expected = readFileSync(clean, "utf8").split("\n");
    const got = readFileSync(resumed, "utf8").split("\n");
    expect(got.pop()).toBe("");
    expect(got).toHaveLength(LINES);
    let worst = 1;
    got.forEach((line, i) => {
      const record = JSON.parse(line) as { index: number; embedding: number[] };
      if (record.index !== i) throw new Error(`line ${i + 1} of the resumed output is input ${record.index}, not ${i}`);
      const cosine = cosineSimilarity(
        Float32Array.from(record.embedding),
        Float32Array.from((JSON.parse(expected[i]!) as { embedding: number[] }).embedding),
      );
      worst = Math.min(worst, cosine);
    });
    expect(worst).toBeGreaterThan(0.999999);
  });

  it("stops on Ctrl-C (SIGINT) with exit 130, a .npy header and run record that say partial, and a --resume hint; --resume completes it", {
    timeout: 600_000,
  }, async () => {
    const count = 20_000;
    const input = join(directory, "first.txt");
    writeFileSync(input, `${lines.slice(0, count).join("\n")}\n`);
    const npy = join(directory, "first.npy");
    const args = [
      "embed",
      "--model",
      modelFile,
      "--input",
      input,
      "--threads",
      "1",
      "--format",
      "npy",
      "--output",
      npy,
    ];
    const headerBytes = 128;
    const rowBytes = 32 * 4;
    const interrupted = await ctxembed(args, {
      ready: () => fileSize(npy) > headerBytes + 1000 * rowBytes,
      signal: "SIGINT",
    });
    expect(interrupted.status, interrupted.stderr).toBe(130);
    expect(interrupted.stderr).toMatch(/results are in .*first\.npy; run the same command with --resume to continue/);
    // A partial .npy keeps a 0-row header, so that NumPy never takes it for the whole array; the run record counts its rows.
    const header = readFileSync(npy).toString("latin1", 10, headerBytes);
    expect(header).toMatch(/'shape': \(0, 32\)/);
    const record = JSON.parse(readFileSync(`${npy}.meta.json`, "utf8")) as { complete: boolean; results: number };
    expect(record.complete).toBe(false);
    expect(record.results).toBeGreaterThan(0);
    expect(record.results).toBeLessThan(count);
    expect(fileSize(npy)).toBe(headerBytes + record.results * rowBytes);

    const run = await ctxembed([...args, "--resume"]);
    expect(run.status, run.stderr).toBe(0);
    const finished = readNpyRows(npy);
    expect(finished.rows).toBe(count);
    const expected = readFileSync(clean, "utf8")
      .split("\n", count)
      .map((line) => Float32Array.from((JSON.parse(line) as { embedding: number[] }).embedding));
    const worst = Math.min(
      ...expected.map((vector, i) => cosineSimilarity(finished.values.subarray(i * 32, (i + 1) * 32), vector)),
    );
    expect(worst).toBeGreaterThan(0.999999);
  });
});

/** The row count a .npy header states, checked against the data the file holds. */
function readNpyRows(path: string): { rows: number; values: Float32Array } {
  const bytes = readFileSync(path);
  const headerEnd = 10 + bytes.readUInt16LE(8);
  const shape = /'shape': \((\d+), (\d+)\)/.exec(bytes.toString("latin1", 10, headerEnd))!;
  const rows = Number(shape[1]);
  const data = bytes.subarray(headerEnd);
  expect(data.length).toBe(rows * Number(shape[2]) * 4);
  return { rows, values: new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length)) };
}
