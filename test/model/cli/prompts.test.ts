// Prompts on the command line: `embed` and `tokens` with --prompt, --examples and
// --retrieve-examples give the library's vectors for the same options, and the run records them.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, type EmbeddingModel } from "../../../lib/embedding/embedding-model.js";
import { cosineSimilarity } from "../../../lib/vectors/similarity.js";
import { promptEolDemonstrations } from "../../../lib/prompts/prompteol-demonstrations.js";
import type { Demonstration } from "../../../lib/prompts/templates.js";
import { minilmPath, repositoryRoot, sentenceFixture } from "../models.js";

const cliEntry = join(repositoryRoot, "lib", "cli", "main.ts");
// The bound of test/model/prompts/prompting.test.ts: a decoder's vector does not move with its batch mates.
const parity = 0.9999;

function ctxembed(args: string[]) {
  const result = spawnSync(process.execPath, ["--import", "tsx", cliEntry, ...args], {
    encoding: "utf8",
    cwd: repositoryRoot,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function vectorsOf(stdout: string): Float32Array[] {
  return stdout
    .trim()
    .split("\n")
    .map((line) => Float32Array.from((JSON.parse(line) as { embedding: number[] }).embedding));
}

function writeJsonLines(path: string, demonstrations: readonly Demonstration[]): string {
  writeFileSync(path, demonstrations.map((demonstration) => JSON.stringify(demonstration)).join("\n") + "\n");
  return path;
}

const folder = mkdtempSync(join(tmpdir(), "ctxembed-prompts-"));
const sentences = sentenceFixture().sentences.slice(0, 6);
const inputFile = join(folder, "sentences.txt");
writeFileSync(inputFile, `${sentences.join("\n")}\n`);
const demo = writeJsonLines(join(folder, "demo.jsonl"), promptEolDemonstrations.slice(0, 1));
const pool = writeJsonLines(join(folder, "pool.jsonl"), promptEolDemonstrations);

describe("ctxembed embed --prompt on gemma-3-270m", () => {
  let gemma: EmbeddingModel;
  beforeAll(async () => {
    gemma = await loadModel("gemma-3-270m", { onProgress: (message) => process.stderr.write(`[models] ${message}\n`) });
  });
  afterAll(() => gemma.dispose());

  it("--prompt prompteol --examples demo.jsonl equals the library's vectors (cosine >= 0.9999) and the summary says so", async () => {
    const run = ctxembed([
      "embed",
      "--model",
      "gemma-3-270m",
      "--input",
      inputFile,
      "--prompt",
      "prompteol",
      "--examples",
      demo,
    ]);
    expect(run.status, run.stderr).toBe(0);
    const expected = await gemma.embed(sentences, {
      prompt: { template: "prompteol", examples: promptEolDemonstrations.slice(0, 1) },
    });
    const vectors = vectorsOf(run.stdout);
    expect(vectors).toHaveLength(sentences.length);
    vectors.forEach((vector, i) =>
      expect(cosineSimilarity(vector, expected[i]!.embedding), sentences[i]).toBeGreaterThanOrEqual(parity),
    );
    expect(run.stderr).toContain(`, prompt prompteol (query, 1 fixed demonstration from ${demo})`);
  });

  it("--retrieve-examples 3 equals the library's retrieval from the same pool (cosine >= 0.9999)", async () => {
    const run = ctxembed([
      "embed",
      "--model",
      "gemma-3-270m",
      "--input",
      inputFile,
      "--prompt",
      "prompteol",
      "--examples",
      pool,
      "--retrieve-examples",
      "3",
    ]);
    expect(run.status, run.stderr).toBe(0);
    const selector = gemma.demonstrationSelector(promptEolDemonstrations);
    const expected = await gemma.embed(sentences, { prompt: { template: "prompteol", examples: { selector, k: 3 } } });
    vectorsOf(run.stdout).forEach((vector, i) =>
      expect(cosineSimilarity(vector, expected[i]!.embedding), sentences[i]).toBeGreaterThanOrEqual(parity),
    );
    expect(run.stderr).toContain(`prompt prompteol (query, 3 retrieved per input from the 24 in ${pool})`);
  });

  it("span --prompt finds the phrase in the text and equals the library's span vector in the same prompt", async () => {
    const text = "She sat on the river bank.";
    const run = ctxembed([
      "span",
      "--model",
      "gemma-3-270m",
      "--text",
      text,
      "--find",
      "bank",
      "--prompt",
      "prompteol",
      "--examples",
      demo,
    ]);
    expect(run.status, run.stderr).toBe(0);
    const output = JSON.parse(run.stdout) as {
      prompted: string;
      spans: { start: number; end: number; embedding: number[] }[];
    };
    const [expected] = await gemma.embed([{ text, spans: [{ find: "bank" }] }], {
      prompt: { template: "prompteol", examples: promptEolDemonstrations.slice(0, 1) },
    });
    expect(output.prompted).toBe(expected!.promptedText);
    expect(output.spans[0]).toMatchObject({ start: 21, end: 25 });
    expect(
      cosineSimilarity(Float32Array.from(output.spans[0]!.embedding), expected!.spans![0]!.embedding),
    ).toBeGreaterThanOrEqual(parity);
  });
});

describe("prompt options recorded and used on all-MiniLM-L6-v2", () => {
  let modelFile: string;
  let minilm: EmbeddingModel;
  beforeAll(async () => {
    modelFile = await minilmPath("f32");
    minilm = await loadModel(modelFile);
  });
  afterAll(() => minilm.dispose());

  it("a raw sidecar records the prompt, and --resume refuses a run with another prompt", () => {
    const output = join(folder, "vectors.f32");
    const first = ctxembed([
      "embed",
      "--model",
      modelFile,
      "--input",
      inputFile,
      "--prompt",
      "query: {query}",
      "--format",
      "raw",
      "-o",
      output,
    ]);
    expect(first.status, first.stderr).toBe(0);
    const sidecar = JSON.parse(readFileSync(`${output}.json`, "utf8"));
    expect(sidecar.options.prompt).toEqual({ prompt: "query: {query}", role: "query" });
    const other = ctxembed([
      "embed",
      "--model",
      modelFile,
      "--input",
      inputFile,
      "--prompt",
      "passage: {query}",
      "--format",
      "raw",
      "-o",
      output,
      "--resume",
    ]);
    expect(other.status).toBe(1);
    expect(other.stderr).toMatch(
      /cannot resume .*vectors\.f32: it was made by another run: options\.prompt\.prompt was "query: \{query\}", now "passage: \{query\}"/,
    );
  });

  it("tokens --prompt returns the prompted text and every token of it, as the library does", async () => {
    const run = ctxembed(["tokens", "--model", modelFile, "--text", sentences[0]!, "--prompt", "query: {query}"]);
    expect(run.status, run.stderr).toBe(0);
    const record = JSON.parse(run.stdout) as {
      prompted: string;
      tokens: { text: string; start: number; end: number; embedding: number[] }[];
    };
    expect(record.prompted).toBe(`query: ${sentences[0]}`);
    const [expected] = await minilm.embed([sentences[0]!], {
      tokens: true,
      prompt: { template: { query: "query: {query}" } },
    });
    expect(record.tokens.map((token) => [token.start, token.end])).toEqual(
      expected!.tokens!.map((token) => [token.start, token.end]),
    );
    record.tokens.forEach((token, i) =>
      expect(cosineSimilarity(Float32Array.from(token.embedding), expected!.tokens![i]!.embedding)).toBeGreaterThan(
        0.999999,
      ),
    );
  });
});

describe("demonstrations over all-MiniLM-L6-v2's 256 tokens on the command line", () => {
  let modelFile: string;
  let minilm: EmbeddingModel;
  const fixture = sentenceFixture().sentences;
  /** Sentences of the fixture joined until the text has at least `tokens` tokens. */
  const textOf = (tokens: number, from: number): string => {
    let text = fixture[from]!;
    for (let i = from + 1; minilm.countTokens(text) < tokens; i++) text += ` ${fixture[i % fixture.length]!}`;
    return text;
  };
  const promptEolRun = (input: string, examples: string, ...extra: string[]) =>
    ctxembed([
      "embed",
      "--model",
      modelFile,
      "--input",
      input,
      "--prompt",
      "prompteol",
      "--examples",
      examples,
      ...extra,
    ]);
  beforeAll(async () => {
    modelFile = await minilmPath("f32");
    minilm = await loadModel(modelFile);
  });
  afterAll(() => minilm.dispose());

  it("a demonstration longer than the model's limit is refused by its line before any work, with --no-truncate too", () => {
    const lines = join(folder, "nine-words.txt");
    writeFileSync(
      lines,
      `${Array.from({ length: 20 }, (_, i) => `Line ${i} has a few words about something.`).join("\n")}\n`,
    );
    const demonstrations = writeJsonLines(join(folder, "too-long.jsonl"), [
      { query: fixture[0]!, response: "fits" },
      { query: textOf(734, 20), response: "long" },
    ]);
    const output = join(folder, "too-long-out.jsonl");
    for (const extra of [[], ["--no-truncate"]] as string[][]) {
      const run = promptEolRun(lines, demonstrations, "-o", output, ...extra);
      expect(run.status, run.stderr).toBe(1);
      expect(run.stderr).toMatch(
        new RegExp(
          `^ctxembed: line 2 of ${demonstrations.replaceAll(".", "\\.")} \\(--examples\\) makes a prompt of \\d{3} tokens with a one-character input: .* at most 256`,
        ),
      );
      expect(run.stderr).not.toMatch(/line 1 has/);
      expect(existsSync(output)).toBe(false);
    }
  });

  it("an input the demonstration leaves no room for loses the demonstration: every vector its own, as the library's without it", async () => {
    const short = fixture.slice(0, 10);
    const long = Array.from({ length: 10 }, (_, i) => textOf(110, 100 + 7 * i));
    const lines = join(folder, "mixed.txt");
    writeFileSync(lines, `${[...short, ...long].join("\n")}\n`);
    const demonstration = { query: textOf(170, 40), response: "long" };
    // A byte order mark, as an editor on Windows writes it, and a blank line before the demonstration.
    const demonstrations = join(folder, "bom.jsonl");
    writeFileSync(demonstrations, `\uFEFF\n${JSON.stringify(demonstration)}\n`);
    const run = promptEolRun(lines, demonstrations);
    expect(run.status, run.stderr).toBe(0);
    const vectors = vectorsOf(run.stdout);
    expect(vectors).toHaveLength(20);
    for (let i = 0; i < vectors.length; i++)
      for (let j = i + 1; j < vectors.length; j++)
        expect(cosineSimilarity(vectors[i]!, vectors[j]!), `${i} and ${j}`).toBeLessThan(0.9999);
    const kept = await minilm.embed(short, { prompt: { template: "prompteol", examples: [demonstration] } });
    const dropped = await minilm.embed(long, { prompt: { template: "prompteol" } });
    [...kept, ...dropped].forEach((expected, i) =>
      expect(cosineSimilarity(vectors[i]!, expected.embedding), `line ${i + 1}`).toBeGreaterThanOrEqual(0.99999),
    );
    expect(run.stderr.match(/get fewer demonstrations/g)).toHaveLength(1);
    expect(run.stderr).toContain("0 truncated, 10 with fewer demonstrations)");
  });
});
