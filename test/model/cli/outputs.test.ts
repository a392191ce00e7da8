// What `ctxembed embed` leaves behind when a run does not finish, and what --resume accepts.
// Before: a raw sidecar said "complete": true and a .npy header counted the rows after a failed
// or interrupted run, and --resume appended to any file (another input's output, a damaged
// file, rows of another precision). Now every output file has a run record <output>.meta.json,
// partial outputs say so, and a resume onto the wrong file is refused by name. The tiny
// random-weight model is enough: these are mechanics, not vector quality.
import { spawnSync } from "node:child_process";
import { linkSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliEntry, startCli } from "./cli-process.js";
import { repositoryRoot } from "../models.js";
import { tinyModelPath } from "../tiny-model.js";

function ctxembed(args: string[], input?: string | Buffer, env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, ["--import", "tsx", cliEntry, ...args], {
    input,
    encoding: "utf8",
    cwd: repositoryRoot,
    env: { ...process.env, ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const json = (path: string) => JSON.parse(readFileSync(path, "utf8"));

/** The shape a .npy header declares. */
function npyShape(path: string): [number, number] {
  const header = readFileSync(path).subarray(0, 128).toString("latin1");
  const [, rows, width] = /'shape': \((\d+), (\d+)\)/.exec(header)!;
  return [Number(rows), Number(width)];
}

let directory: string;
let modelFile: string;
let dimensions: number;
beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), "ctxembed-outputs-"));
  modelFile = await tinyModelPath();
  const probe = ctxembed(["embed", "--model", modelFile, "--text", "probe"]);
  dimensions = (JSON.parse(probe.stdout) as { embedding: number[] }).embedding.length;
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const embed = (...args: string[]) => ["embed", "--model", modelFile, "--threads", "1", ...args];
const sentences = (count: number, from = 0) =>
  Array.from({ length: count }, (_, i) => `sentence number ${from + i} about a river bank`);

describe("an output a run did not finish", () => {
  // 3,000 JSON lines, line 2,501 malformed: with chunks of 512, three chunks (1,536 rows) are written before the failure.
  const lines = sentences(3000).map((text) => JSON.stringify({ text }));
  const broken = [...lines];
  broken[2500] = "{not json";

  it.each(["raw", "npy"] as const)(
    "--format %s: after a failure the sidecar, header and run record say partial; fixed, --resume finishes it",
    (format) => {
      const input = join(directory, `corpus-${format}.jsonl`);
      const output = join(directory, `vectors.${format}`);
      writeFileSync(input, `${broken.join("\n")}\n`);
      const failed = ctxembed(embed("--input", input, "--format", format, "--output", output));
      expect(failed.status).toBe(1);
      expect(failed.stderr).toMatch(/line 2501 of .* is not valid JSON/);
      const record = json(`${output}.meta.json`);
      expect(record).toMatchObject({ complete: false, results: 1536 });
      if (format === "raw")
        expect(json(`${output}.json`)).toMatchObject({ shape: [1536, dimensions], complete: false });
      else expect(npyShape(output)).toEqual([0, dimensions]);

      writeFileSync(input, `${lines.join("\n")}\n`);
      const resumed = ctxembed(embed("--input", input, "--format", format, "--output", output, "--resume"));
      expect(resumed.status, resumed.stderr).toBe(0);
      expect(resumed.stderr).toMatch(/embedded 1464 inputs .* after the 1536 already in/);
      expect(json(`${output}.meta.json`)).toMatchObject({ complete: true, results: 3000 });
      if (format === "raw") expect(json(`${output}.json`)).toMatchObject({ shape: [3000, dimensions], complete: true });
      else expect(npyShape(output)).toEqual([3000, dimensions]);
    },
  );

  it("after Ctrl-C (exit 130) the raw sidecar and run record say partial, and --resume completes it", {
    timeout: 300_000,
  }, async () => {
    const input = join(directory, "long.txt");
    const output = join(directory, "interrupted.f32");
    const count = 40_000;
    writeFileSync(input, `${sentences(count).join("\n")}\n`);
    const run = startCli(embed("--input", input, "--format", "raw", "--output", output, "--chunk", "256"));
    // Interrupted once some rows are on disk.
    const rowBytes = 4 * dimensions;
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        let size = 0;
        try {
          size = statSync(output).size;
        } catch {
          // not created yet
        }
        if (size >= 512 * rowBytes || run.child.exitCode !== null) {
          clearInterval(poll);
          resolve();
        }
      }, 20);
    });
    run.child.kill("SIGINT");
    const { status } = await run.exited;
    expect(status, run.stderr()).toBe(130);
    const sidecar = json(`${output}.json`);
    expect(sidecar.complete).toBe(false);
    expect(sidecar.shape[0]).toBeLessThan(count);
    expect(json(`${output}.meta.json`)).toMatchObject({ complete: false, results: sidecar.shape[0] });

    const resumed = ctxembed(embed("--input", input, "--format", "raw", "--output", output, "--resume"));
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(json(`${output}.json`)).toMatchObject({ shape: [count, dimensions], complete: true });
    expect(statSync(output).size).toBe(count * rowBytes);
  });
});

describe("--resume checks the input it continues", () => {
  // As above: line 2,501 malformed, so 1,536 results are written before the failure.
  const lines = sentences(3000);
  const partial = (name: string, stdin = false) => {
    const input = join(directory, `${name}.txt`);
    const output = join(directory, `${name}.jsonl`);
    const broken = [...lines];
    broken[2500] = "   ";
    writeFileSync(input, `${broken.join("\n")}\n`);
    const failed = stdin
      ? ctxembed(embed("--input", "-", "--output", output), `${broken.join("\n")}\n`)
      : ctxembed(embed("--input", input, "--output", output));
    expect(failed.status).toBe(1);
    expect(json(`${output}.meta.json`)).toMatchObject({ complete: false, results: 1536 });
    return { input, output };
  };

  it("a line deleted before the resume point, past the first 4 KiB: refused, naming the first line that differs", () => {
    const { input, output } = partial("deleted");
    const edited = lines.filter((_, i) => i !== 999);
    writeFileSync(input, `${edited.join("\n")}\n`);
    const run = ctxembed(embed("--input", input, "--output", output, "--resume"));
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /cannot resume .*deleted\.jsonl: line 1000 of .*deleted\.txt is not the line its result was made from \(the input changed before the resume point, line 1537\)/,
    );
    expect(readFileSync(output, "utf8").trim().split("\n")).toHaveLength(1536);
  });

  it("a line changed in place, and standard input, are checked the same way; the line at the failure may be fixed", () => {
    const { input, output } = partial("changed");
    const edited = [...lines];
    edited[1200] = "sentence number 1200 about a river bend";
    writeFileSync(input, `${edited.join("\n")}\n`);
    const run = ctxembed(embed("--input", input, "--output", output, "--resume"));
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/line 1201 of .*changed\.txt is not the line its result was made from/);

    const piped = partial("piped", true);
    const fromStdin = ctxembed(embed("--input", "-", "--output", piped.output, "--resume"), `${edited.join("\n")}\n`);
    expect(fromStdin.status).toBe(1);
    expect(fromStdin.stderr).toMatch(/line 1201 of standard input is not the line its result was made from/);
    const fixed = ctxembed(embed("--input", "-", "--output", piped.output, "--resume"), `${lines.join("\n")}\n`);
    expect(fixed.status, fixed.stderr).toBe(0);
    const rows = readFileSync(piped.output, "utf8").trim().split("\n");
    expect(rows.map((row) => (JSON.parse(row) as { index: number }).index)).toEqual(lines.map((_, i) => i));
  });
});

describe("--resume refuses an output it did not make", () => {
  const first = () => {
    const input = join(directory, "first.txt");
    const output = join(directory, "first.jsonl");
    writeFileSync(input, `${sentences(5).join("\n")}\n`);
    const run = ctxembed(embed("--input", input, "--output", output));
    expect(run.status, run.stderr).toBe(0);
    return { input, output };
  };

  it("another input's output", () => {
    const { output } = first();
    const other = join(directory, "other.txt");
    writeFileSync(other, `${sentences(10, 100).join("\n")}\n`);
    const run = ctxembed(embed("--input", other, "--output", output, "--resume"));
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /cannot resume .*first\.jsonl: it was made by another run: input\.path was .*first\.txt.*, now .*other\.txt/,
    );
    expect(readFileSync(output, "utf8").trim().split("\n")).toHaveLength(5);
  });

  it("a file with no run record, and a damaged one (a line that is not a result)", () => {
    const { input, output } = first();
    const foreign = join(directory, "foreign.jsonl");
    writeFileSync(foreign, "hello\nnot json\n");
    const bare = ctxembed(embed("--input", input, "--output", foreign, "--resume"));
    expect(bare.status).toBe(1);
    expect(bare.stderr).toMatch(/cannot resume .*foreign\.jsonl: it has no run record .*foreign\.jsonl\.meta\.json/);

    const damaged = readFileSync(output, "utf8").split("\n");
    damaged[2] = "not json";
    writeFileSync(output, damaged.join("\n"));
    const run = ctxembed(embed("--input", input, "--output", output, "--resume"));
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/cannot resume .*first\.jsonl: line 3 is not a result ctxembed wrote/);
  });

  it("other options: precision and dimensions, pooling, the model", () => {
    const { input, output } = first();
    const run = ctxembed(
      embed("--input", input, "--output", output, "--resume", "--precision", "int8", "--dimensions", "16"),
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/options\.precision was "float32", now "int8"/);
    expect(run.stderr).toMatch(/options\.dimensions was \(not set\), now 16/);
    const pooled = ctxembed(embed("--input", input, "--output", output, "--resume", "--pooling", "cls"));
    expect(pooled.stderr).toMatch(/options\.pooling was "model", now "cls"/);
    expect(readFileSync(output, "utf8").trim().split("\n")).toHaveLength(5);
    // The same run again is accepted: nothing is left to do.
    const again = ctxembed(embed("--input", input, "--output", output, "--resume"));
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/embedded 0 inputs .* after the 5 already in/);
  });
});

describe("bad input lines", () => {
  it("a line longer than the limit: one line naming it, exit 1, no stack trace", () => {
    const input = Buffer.concat([Buffer.from("a short line\n"), Buffer.alloc(3_000_000, "a"), Buffer.from("\nmore\n")]);
    const run = ctxembed(embed(), input, { CTXEMBED_MAX_LINE_BYTES: "1000000" });
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe(
      "ctxembed: line 2 of standard input is longer than 1000000 bytes, the most one input line may have",
    );
  });

  it("invalid UTF-8 is refused with its line number unless --invalid-utf8 replace", () => {
    const input = Buffer.concat([Buffer.from("fine\n"), Buffer.from([0xff, 0xfe]), Buffer.from(" bad\n")]);
    const refused = ctxembed(embed(), input);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/line 2 of standard input is not valid UTF-8; .* --invalid-utf8 replace/);
    const replaced = ctxembed(embed("--invalid-utf8", "replace"), input);
    expect(replaced.status, replaced.stderr).toBe(0);
    expect(replaced.stdout.trim().split("\n")).toHaveLength(2);
  });

  it("whitespace-only lines fail unless --skip-empty; a line that tokenizes to nothing fails, naming it", () => {
    const failing = ctxembed(embed(), "one\n   \nthree\n");
    expect(failing.status).toBe(1);
    expect(failing.stderr).toMatch(/line 2 of standard input is only whitespace; pass --skip-empty/);
    const skipping = ctxembed(embed("--skip-empty"), "one\n   \nthree\n");
    expect(
      skipping.stdout
        .trim()
        .split("\n")
        .map((line) => (JSON.parse(line) as { index: number }).index),
    ).toEqual([0, 2]);
    const nothing = ctxembed(embed(), "one\n\u0000\n");
    expect(nothing.status).toBe(1);
    expect(nothing.stderr).toMatch(/line 2 of standard input has no tokens .* besides its special ones/);
  });

  it("--no-truncate's error names the flags", () => {
    const run = ctxembed(embed("--no-truncate"), `${"word ".repeat(3000)}\n`);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /line 1 of standard input has \d+ tokens .*leave out --no-truncate to cut it, or pass --window SIZE/,
    );
    expect(run.stderr).not.toMatch(/truncate: true/);
  });
});

describe("the command line", () => {
  it.each([
    ["--threads", "abc"],
    ["--threads", "0"],
    ["--dimensions", "-3"],
  ])("%s %s exits 2 naming the flag", (flag, value) => {
    const run = ctxembed(embed("--text", "x", flag, value));
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(
      `option '${flag === "--threads" ? "-t, --threads <n>" : "--dimensions <n>"}' argument '${value}' is invalid. expected a positive integer`,
    );
  });

  it("an output in a missing folder is refused before any work, naming it", () => {
    const run = ctxembed(
      embed("--text", "x", "--format", "npy", "--output", join(directory, "no-such-folder", "out.npy")),
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/output .*no-such-folder\/out\.npy: its folder .*no-such-folder does not exist/);
    expect(run.stderr).not.toMatch(/embedded/);
  });

  it("an output that is its own input, by name, symbolic link or hard link, or a folder, is refused before any work", () => {
    const input = join(directory, "own-input.txt");
    const text = `${sentences(3).join("\n")}\n`;
    writeFileSync(input, text);
    symlinkSync(input, join(directory, "own-input-link.txt"));
    linkSync(input, join(directory, "own-input-hard.txt"));
    for (const output of ["own-input.txt", "own-input-link.txt", "own-input-hard.txt"]) {
      const run = ctxembed(embed("--input", input, "-o", join(directory, output)));
      expect(run.status, output).toBe(1);
      expect(run.stderr).toMatch(/output .* is the input \(.*own-input\.txt\): it would be overwritten/);
      expect(readFileSync(input, "utf8")).toBe(text);
    }
    const senses = ctxembed([
      "senses",
      "build",
      "--model",
      modelFile,
      "--corpus",
      input,
      "--min-count",
      "1",
      "--out",
      input,
    ]);
    expect(senses.status).toBe(1);
    expect(senses.stderr).toMatch(/output .* is the corpus \(.*own-input\.txt\): it would be overwritten/);
    expect(readFileSync(input, "utf8")).toBe(text);
    const folder = ctxembed(embed("--input", input, "-o", directory));
    expect(folder.status).toBe(1);
    expect(folder.stderr).toMatch(/output .* is a folder: name a file inside it/);
    expect(folder.stderr).not.toMatch(/EISDIR|embedded/);
  });
});
