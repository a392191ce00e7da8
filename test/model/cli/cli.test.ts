// The ctxembed command line, run as a user runs it, against the library's own output.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, type EmbeddingModel } from "../../../lib/embedding/embedding-model.js";
import { cosineSimilarity } from "../../../lib/vectors/similarity.js";
import { minilmPath, repositoryRoot } from "../models.js";

const cliEntry = join(repositoryRoot, "lib", "cli", "main.ts");

function ctxembed(args: string[], input?: string) {
  const result = spawnSync(process.execPath, ["--import", "tsx", cliEntry, ...args], {
    input,
    encoding: "utf8",
    cwd: repositoryRoot,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

let modelFile: string;
let model: EmbeddingModel;
beforeAll(async () => {
  modelFile = await minilmPath("f32");
  model = await loadModel(modelFile);
});
afterAll(() => model.dispose());

describe("ctxembed embed", () => {
  it("writes one JSON object per input line, in order, equal to the library's vectors", async () => {
    const lines = ["The cat sits outside.", "A man is playing guitar.", "Émigrés café naïve — 東京"];
    const run = ctxembed(["embed", "--model", modelFile, "--threads", "2"], `${lines.join("\n")}\n`);
    expect(run.status, run.stderr).toBe(0);
    const records = run.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { index: number; embedding: number[] });
    expect(records.map((record) => record.index)).toEqual([0, 1, 2]);
    const expected = await model.embed(lines);
    records.forEach((record, i) =>
      expect(cosineSimilarity(Float32Array.from(record.embedding), expected[i]!.embedding)).toBeGreaterThan(0.999999),
    );
    expect(run.stderr).toMatch(/embedded 3 inputs \(\d+ tokens, 0 truncated\)/);
  });

  it("marks truncated inputs and fails on an empty line unless told to skip it", () => {
    const long = "word ".repeat(400);
    const truncated = ctxembed(["embed", "--model", modelFile], `${long}\n`);
    expect(JSON.parse(truncated.stdout)).toMatchObject({ index: 0, truncated: true });

    const failing = ctxembed(["embed", "--model", modelFile], "one\n\nthree\n");
    expect(failing.status).toBe(1);
    expect(failing.stderr).toMatch(/line 2 of standard input is empty; pass --skip-empty/);

    const skipping = ctxembed(["embed", "--model", modelFile, "--skip-empty"], "one\n\nthree\n");
    expect(
      skipping.stdout
        .trim()
        .split("\n")
        .map((line) => (JSON.parse(line) as { index: number }).index),
    ).toEqual([0, 2]);
  });

  it("stops quietly with exit code 0 when its reader closes the pipe early", () => {
    const corpus = join(mkdtempSync(join(tmpdir(), "ctxembed-pipe-")), "corpus.txt");
    writeFileSync(corpus, "A sentence to embed.\n".repeat(2000));
    const run = spawnSync(
      "bash",
      [
        "-c",
        `"${process.execPath}" --import tsx "${cliEntry}" embed --model "${modelFile}" --input "${corpus}" | head -c 10 > /dev/null; echo "\${PIPESTATUS[0]}"`,
      ],
      { encoding: "utf8", cwd: repositoryRoot },
    );
    expect(run.stdout.trim()).toBe("0");
    expect(run.stderr).not.toMatch(/EPIPE|Error/);
  });

  it("exits 2 on a wrong command line and 1 on a missing file, with a message", () => {
    const usage = ctxembed(["embed", "--pooling", "median"]);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/Allowed choices are model, mean/);
    const missing = ctxembed(["embed", "--model", "/nonexistent/model.gguf"]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/unknown model '\/nonexistent\/model.gguf'/);
  });
});

describe("ctxembed info and models", () => {
  it("prints the model's metadata as JSON", () => {
    const run = ctxembed(["info", "--model", modelFile]);
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      architecture: "bert",
      dimensions: 384,
      layerCount: 6,
      maxSequenceLength: 256,
      defaultPooling: "mean",
      causal: false,
      normalizedByDefault: true,
    });
    expect(JSON.parse(run.stdout).recommendedPrompt).toBeUndefined();
  });

  it("recommends PromptEOL for a plain decoder, from the file", () => {
    const run = ctxembed(["info", "--model", "gemma-3-270m"]);
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      architecture: "gemma3",
      causal: true,
      recommendedPrompt: { preset: "prompteol", because: "a causal decoder of no instruction-tuned embedding family" },
    });
  });

  it("prints the cached path of a pulled model", () => {
    const run = ctxembed(["models", "path", "all-minilm-l6-v2"]);
    expect(run.stdout.trim()).toBe(modelFile);
  });
});

describe("ctxembed tokens and span", () => {
  it("prints every token with its character range and the library's vector", async () => {
    const text = "Émigrés' café 😀 naïve";
    const run = ctxembed(["tokens", "--model", modelFile, "--text", text, "--layers", "last2:mean"]);
    expect(run.status, run.stderr).toBe(0);
    const record = JSON.parse(run.stdout) as {
      index: number;
      tokens: { id: number; start: number; end: number; special: boolean; embedding: number[] }[];
    };
    const expected = await model.embed(text, { tokens: true, layers: { layers: [-2, -1] } });
    expect(record.tokens.map((token) => [token.id, token.start, token.end, token.special])).toEqual(
      expected.tokens!.map((token) => [token.id, token.start, token.end, token.special]),
    );
    record.tokens.forEach((token, t) =>
      expect(cosineSimilarity(Float32Array.from(token.embedding), expected.tokens![t]!.embedding)).toBeGreaterThan(
        0.999999,
      ),
    );
    expect(text.slice(record.tokens[1]!.start, record.tokens[1]!.end)).toBe("Émi");
  });

  it("prints span vectors found by phrase and by range, and refuses a span-less call", () => {
    const run = ctxembed([
      "span",
      "--model",
      modelFile,
      "--text",
      "She sat on the river bank.",
      "--find",
      "river bank",
      "--span",
      "0:3",
    ]);
    expect(run.status, run.stderr).toBe(0);
    const spans = (JSON.parse(run.stdout) as { spans: { text: string; start: number; end: number }[] }).spans;
    expect(spans.map((span) => [span.text, span.start, span.end])).toEqual([
      ["She", 0, 3],
      ["river bank", 15, 25],
    ]);
    const none = ctxembed(["span", "--model", modelFile, "--text", "nothing"]);
    expect(none.status).toBe(2);
  });
});

describe("ctxembed embed storage forms", () => {
  it("writes int8 vectors with their scale, Matryoshka-cut, in JSON lines", async () => {
    const run = ctxembed([
      "embed",
      "--model",
      modelFile,
      "--text",
      "A man is playing a guitar.",
      "--precision",
      "int8",
      "--dimensions",
      "128",
    ]);
    expect(run.status, run.stderr).toBe(0);
    const record = JSON.parse(run.stdout) as { embedding: { values: number[]; scale: number } };
    expect(record.embedding.values).toHaveLength(128);
    const expected = await model.embed("A man is playing a guitar.", { dimensions: 128 });
    const restored = Float32Array.from(record.embedding.values, (value) => value * record.embedding.scale);
    expect(cosineSimilarity(restored, expected.embedding)).toBeGreaterThan(0.999);
  });

  it("writes .npy rows in input order, and int8 scales beside them", async () => {
    const directory = mkdtempSync(join(tmpdir(), "ctxembed-npy-"));
    const output = join(directory, "vectors.npy");
    const run = ctxembed(
      ["embed", "--model", modelFile, "--format", "npy", "--precision", "int8", "-o", output],
      "first line\nsecond line\nthird line\n",
    );
    expect(run.status, run.stderr).toBe(0);
    const header = readFileSync(output).subarray(0, 128).toString("latin1");
    expect(header).toMatch(/'descr': '\|i1', 'fortran_order': False, 'shape': \(3, 384\)/);
    expect(readFileSync(join(directory, "vectors.scales.npy")).subarray(0, 128).toString("latin1")).toMatch(
      /'shape': \(3, 1\)/,
    );
    expect(ctxembed(["embed", "--model", modelFile, "--format", "npy"], "x\n").status).toBe(2);
  });
});

describe("ctxembed embed over files", () => {
  const directory = mkdtempSync(join(tmpdir(), "ctxembed-files-"));
  const texts = ["A man is playing a guitar.", 'She said "hello, world"\tand left.', "Émigrés café naïve — 東京"];
  const file = (name: string, content: string) => {
    const path = join(directory, name);
    writeFileSync(path, content);
    return path;
  };
  const csvField = (text: string) => `"${text.replaceAll('"', '""')}"`;

  async function expectLibraryVectors(records: { embedding: number[] }[], inputs: string[]) {
    const expected = await model.embed(inputs);
    records.forEach((record, i) =>
      expect(cosineSimilarity(Float32Array.from(record.embedding), expected[i]!.embedding)).toBeGreaterThan(0.999999),
    );
  }

  it("reads JSON lines, CSV and TSV, carrying each record's id to its output line", async () => {
    const jsonl = file("docs.jsonl", texts.map((text, i) => JSON.stringify({ doc: `d${i}`, body: text })).join("\n"));
    const csv = file("docs.csv", `key,body\n${texts.map((text, i) => `k${i},${csvField(text)}`).join("\n")}\n`);
    const tsvTexts = texts.map((text) => text.replace("\t", " "));
    const tsv = file("docs.tsv", `id\ttext\n${tsvTexts.map((text, i) => `${100 + i}\t${text}`).join("\n")}\n`);
    const cases = [
      { args: ["--input", jsonl, "--field", "body", "--id-field", "doc"], ids: ["d0", "d1", "d2"], inputs: texts },
      { args: ["--input", csv, "--column", "body", "--id-column", "key"], ids: ["k0", "k1", "k2"], inputs: texts },
      { args: ["--input", tsv], ids: ["100", "101", "102"], inputs: tsvTexts },
    ];
    for (const { args, ids, inputs } of cases) {
      const run = ctxembed(["embed", "--model", modelFile, ...args]);
      expect(run.status, run.stderr).toBe(0);
      const records = run.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as { index: number; id: string; embedding: number[] });
      expect(records.map(({ index, id }) => [index, id])).toEqual(ids.map((id, i) => [i, id]));
      await expectLibraryVectors(records, inputs);
    }
  });

  it("writes raw little-endian rows with a sidecar holding shape, dtype, model and options", async () => {
    const output = join(directory, "vectors.f32");
    const run = ctxembed(
      ["embed", "--model", modelFile, "--format", "raw", "--pooling", "cls", "-o", output],
      `${texts.join("\n")}\n`,
    );
    expect(run.status, run.stderr).toBe(0);
    const sidecar = JSON.parse(readFileSync(`${output}.json`, "utf8"));
    expect(sidecar).toMatchObject({
      shape: [3, 384],
      dtype: "<f4",
      complete: true,
      model: model.info.name,
      options: { pooling: "cls", precision: "float32" },
    });
    const bytes = readFileSync(output);
    const rows = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    expect(rows.length).toBe(3 * 384);
    const expected = await model.embed(texts, { pooling: "cls" });
    expected.forEach((result, i) =>
      expect(cosineSimilarity(rows.subarray(i * 384, (i + 1) * 384), result.embedding)).toBeGreaterThan(0.999999),
    );
  });

  it("refuses --resume without an output file, and a resume whose output holds more results than the input has", () => {
    expect(ctxembed(["embed", "--model", modelFile, "--resume"], "x\n")).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/--resume continues an --output file/),
    });
    const output = file("longer.jsonl", "");
    expect(ctxembed(["embed", "--model", modelFile, "-o", output], "first line\nsecond line\n").status).toBe(0);
    const run = ctxembed(["embed", "--model", modelFile, "-o", output, "--resume"], "first line\n");
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/longer\.jsonl holds 2 results but standard input has only 1 inputs/);
  });
});
