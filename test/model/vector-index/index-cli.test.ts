// `ctxembed index build`, `search` and `serve --index` on real LanceDB tables with MiniLM,
// against brute force: the library's own vectors ranked by cosine, and phrase-search's
// (searchPhrases) exhaustive scoring of the same candidates.
import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, type EmbeddingModel } from "../../../lib/embedding/embedding-model.js";
import { searchPhrases } from "../../../lib/phrases/search.js";
import { dot } from "../../../lib/vectors/similarity.js";
import { buildServer } from "../../../lib/server/app.js";
import { openIndex, openIndexTables } from "../../../lib/vector-index/vector-index.js";
import { minilmPath, repositoryRoot, sentenceFixture } from "../models.js";
import { tinyModelPath } from "../tiny-model.js";
import { startCli } from "../cli/cli-process.js";

const cliEntry = join(repositoryRoot, "lib", "cli", "main.ts");

function ctxembed(args: string[]) {
  const result = spawnSync(process.execPath, ["--import", "tsx", cliEntry, ...args], {
    encoding: "utf8",
    cwd: repositoryRoot,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const jsonLines = (text: string) =>
  text
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);

// 60 STS-B dev sentences (test/fixtures), two sources alternating for the filter.
const sentences = [...new Set(sentenceFixture().sentences)].slice(0, 60);
const records = sentences.map((text, i) => ({ id: `s${i}`, text, source: i % 2 === 0 ? "even" : "odd" }));

let root: string;
let corpus: string;
let modelFile: string;
let model: EmbeddingModel;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "ctxembed-index-cli-"));
  corpus = join(root, "corpus.jsonl");
  await writeFile(corpus, records.map((record) => JSON.stringify(record)).join("\n") + "\n");
  modelFile = await minilmPath("f32");
  model = await loadModel(modelFile, { threads: 2 });
});
afterAll(async () => {
  await model.dispose();
  await rm(root, { recursive: true, force: true });
});

describe("sentence index", () => {
  let directory: string;
  beforeAll(() => {
    directory = join(root, "sentences");
    const build = ctxembed([
      "index",
      "build",
      "--input",
      corpus,
      "--index",
      directory,
      "--model",
      modelFile,
      "--store-text",
      "--metadata",
      "source",
      "--threads",
      "2",
    ]);
    expect(build.status, build.stderr).toBe(0);
    expect(build.stderr).toMatch(/60 rows, exact search .*; 1 data fragment after compaction/);
  });

  it("ranks as brute-force cosine over the library's vectors does, and filters", async () => {
    const vectors = (await model.embed(sentences)).map((result) => result.embedding);
    const query = "A man is playing a musical instrument.";
    const [queryVector] = (await model.embed([query])).map((result) => result.embedding);
    const expected = vectors
      .map((vector, i) => ({ id: `s${i}`, score: dot(vector, queryVector!) }))
      .sort((a, b) => b.score - a.score);

    const run = ctxembed(["search", "--index", directory, "--query", query, "--k", "10"]);
    expect(run.status, run.stderr).toBe(0);
    const hits = jsonLines(run.stdout);
    expect(hits.map((hit) => hit.id)).toEqual(expected.slice(0, 10).map((hit) => hit.id));
    hits.forEach((hit, i) => {
      expect(hit.score as number).toBeCloseTo(expected[i]!.score, 4);
      expect(hit.text).toBe(sentences[Number((hit.id as string).slice(1))]);
    });

    const filtered = jsonLines(
      ctxembed(["search", "--index", directory, "--query", query, "--k", "5", "--filter", "source = 'odd'"]).stdout,
    );
    expect(filtered.map((hit) => hit.id)).toEqual(
      expected
        .filter((hit) => Number(hit.id.slice(1)) % 2 === 1)
        .slice(0, 5)
        .map((hit) => hit.id),
    );
  });

  it("leaves one row per id when built again, and skips stored ids with --resume", async () => {
    const again = ctxembed([
      "index",
      "build",
      "--input",
      corpus,
      "--index",
      directory,
      "--model",
      modelFile,
      "--store-text",
      "--metadata",
      "source",
    ]);
    expect(again.status, again.stderr).toBe(0);
    const resumed = ctxembed([
      "index",
      "build",
      "--input",
      corpus,
      "--index",
      directory,
      "--model",
      modelFile,
      "--store-text",
      "--metadata",
      "source",
      "--resume",
    ]);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/60 texts already in .* are skipped/);
    expect(resumed.stderr).toMatch(/embedded 0 inputs/);
    const index = await openIndex(directory);
    try {
      expect(await index.count()).toBe(60);
      expect((await index.values()).size).toBe(60);
    } finally {
      await index.close();
    }
  });

  it("refuses another model, and other vector options", async () => {
    const other = await tinyModelPath();
    const search = ctxembed(["search", "--index", directory, "--query", "a dog", "--model", other]);
    expect(search.status).toBe(1);
    expect(search.stderr).toMatch(/was built with the model all-MiniLM-L6-v2 .* its vectors are not comparable/);
    const build = ctxembed([
      "index",
      "build",
      "--input",
      corpus,
      "--index",
      directory,
      "--model",
      modelFile,
      "--pooling",
      "cls",
    ]);
    expect(build.status).toBe(1);
    expect(build.stderr).toMatch(/built with other settings/);
  });

  it("names a missing index and a filter on a column it does not have", () => {
    const missing = ctxembed(["search", "--index", join(root, "nowhere"), "--query", "a dog"]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/there is no index at/);
    const filter = ctxembed(["search", "--index", directory, "--query", "a dog", "--filter", "colour = 'red'"]);
    expect(filter.status).toBe(1);
    expect(filter.stderr).toMatch(/the filter "colour = 'red'" cannot be applied: .*colour/);
  });

  it("answers POST /search as the command line does, and malformed bodies with 4xx", async () => {
    const indexes = await openIndexTables(directory);
    const app = buildServer(model, {}, {}, indexes);
    try {
      const query = "Two dogs are running through the grass.";
      const cli = jsonLines(
        ctxembed(["search", "--index", directory, "--query", query, "--k", "7", "--filter", "source = 'even'"]).stdout,
      );
      const served = await app.inject({
        method: "POST",
        url: "/search",
        payload: { query, k: 7, filter: "source = 'even'" },
      });
      expect(served.statusCode).toBe(200);
      const hits = served.json() as Record<string, unknown>[];
      expect(hits.map((hit) => hit.id)).toEqual(cli.map((hit) => hit.id));
      hits.forEach((hit, i) => expect(hit.score as number).toBeCloseTo(cli[i]!.score as number, 5));

      const post = (payload: string | object) =>
        app.inject({ method: "POST", url: "/search", headers: { "content-type": "application/json" }, payload });
      expect((await post("{not json")).statusCode).toBe(400);
      for (const body of [
        {},
        { query: 3 },
        { query: "x", k: 0 },
        { query: "x", k: 5000 },
        { query: "x", filter: "colour = 1" },
        { query: "x", table: "phrases" },
        { query: "x", extra: 1 },
      ]) {
        const response = await post(body);
        expect(response.statusCode, JSON.stringify(body)).toBe(422);
        expect(response.json()).toMatchObject({ error_type: "validation" });
      }
    } finally {
      await app.close();
      await Promise.all(indexes.map((index) => index.close()));
    }
  });
});

describe("prompted sentence index", () => {
  // A document form for the stored texts and a query form for the search, as asymmetric
  // embedding models use them; MiniLM has no preset, so both are templates.
  const documentPrompt = { template: { query: "{query}", document: "passage: {text}" }, role: "document" } as const;
  const queryPrompt = { template: { query: "query: {query}" }, role: "query" } as const;
  const query = "A man is playing a musical instrument.";
  let directory: string;
  beforeAll(() => {
    directory = join(root, "prompted");
    const build = ctxembed([
      ...["index", "build", "--input", corpus, "--index", directory, "--model", modelFile],
      ...["--prompt", "passage: {text}", "--role", "document", "--threads", "2"],
    ]);
    expect(build.status, build.stderr).toBe(0);
    expect(build.stderr).toMatch(/prompt "passage: \{text\}" \(document\)/);
  });

  /** ids best first by cosine of the library's prompted vectors */
  async function bruteForce(prompt: typeof queryPrompt | typeof documentPrompt): Promise<string[]> {
    const vectors = (await model.embed(sentences, { prompt: documentPrompt })).map((result) => result.embedding);
    const [queryVector] = await model.embed([query], { prompt });
    return vectors
      .map((vector, i) => ({ id: `s${i}`, score: dot(vector, queryVector!.embedding) }))
      .sort((a, b) => b.score - a.score)
      .map((hit) => hit.id);
  }

  it("stores the library's prompted vectors, and embeds queries with search's own prompt flags", async () => {
    const run = ctxembed(["search", "--index", directory, "--query", query, "--prompt", "query: {query}", "--k", "10"]);
    expect(run.status, run.stderr).toBe(0);
    const expected = await bruteForce(queryPrompt);
    expect(jsonLines(run.stdout).map((hit) => hit.id)).toEqual(expected.slice(0, 10));
    // The prompt changes the ranking here, so the comparison above could tell a lost prompt.
    const unprompted = jsonLines(ctxembed(["search", "--index", join(root, "sentences"), "--query", query]).stdout);
    expect(unprompted.map((hit) => hit.id)).not.toEqual(expected.slice(0, 10));
  });

  it("embeds a query with the index's own prompt when search has none", async () => {
    const run = ctxembed(["search", "--index", directory, "--query", query, "--k", "10"]);
    expect(run.status, run.stderr).toBe(0);
    expect(jsonLines(run.stdout).map((hit) => hit.id)).toEqual((await bruteForce(documentPrompt)).slice(0, 10));
  });

  it("refuses a prompt for a phrase index, retrieved demonstrations, and adding without the prompt", async () => {
    const phrases = ctxembed([
      ...["index", "build", "--input", corpus, "--index", join(root, "prompted-phrases"), "--model", modelFile],
      ...["--phrases", "--prompt", "passage: {query}"],
    ]);
    expect(phrases.status).toBe(2);
    expect(phrases.stderr).toMatch(/a phrase index reads its spans in their passages as they are/);
    const pool = join(root, "pool.jsonl");
    await writeFile(pool, `${JSON.stringify({ query: "a dog runs", response: "dog" })}\n`);
    const retrieved = ctxembed([
      ...["index", "build", "--input", corpus, "--index", join(root, "retrieved"), "--model", modelFile],
      ...["--prompt", "prompteol", "--examples", pool, "--retrieve-examples", "1"],
    ]);
    expect(retrieved.status).toBe(2);
    expect(retrieved.stderr).toMatch(/--retrieve-examples cannot be recorded in an index/);
    const plain = ctxembed(["index", "build", "--input", corpus, "--index", directory, "--model", modelFile]);
    expect(plain.status).toBe(1);
    expect(plain.stderr).toMatch(/built with other settings/);
  });
});

describe("phrase index", () => {
  it("has the top hit brute-force phrase search finds, with its range", async () => {
    const directory = join(root, "phrases");
    const build = ctxembed([
      "index",
      "build",
      "--input",
      corpus,
      "--index",
      directory,
      "--model",
      modelFile,
      "--phrases",
      "--max-words",
      "3",
      "--threads",
      "2",
    ]);
    expect(build.status, build.stderr).toBe(0);
    for (const query of ["playing a guitar", "a small child", "cutting vegetables"]) {
      const [best] = await searchPhrases(model, query, sentences, { maxWords: 3, top: 1 });
      const run = ctxembed(["search", "--index", directory, "--phrases", "--query", query, "--k", "1"]);
      expect(run.status, run.stderr).toBe(0);
      const [hit] = jsonLines(run.stdout);
      expect({ passage: hit!.passage, start: hit!.start, end: hit!.end, text: hit!.text }).toEqual({
        passage: `s${best!.passage}`,
        start: best!.start,
        end: best!.end,
        text: best!.text,
      });
      expect(hit!.score as number).toBeCloseTo(best!.score, 4);
    }
    const inContext = ctxembed([
      "search",
      "--index",
      directory,
      "--phrases",
      "--query-context",
      "The man played the guitar loudly.",
      "--find",
      "guitar",
      "--k",
      "1",
    ]);
    expect(inContext.status, inContext.stderr).toBe(0);
    expect(jsonLines(inContext.stdout)[0]!.text).toMatch(/guitar/i);
  });
});

describe("inputs and outputs that stay true (issue 35)", () => {
  const build = (input: string, directory: string, ...args: string[]) =>
    ctxembed([
      "index",
      "build",
      "--input",
      input,
      "--index",
      directory,
      "--model",
      modelFile,
      "--threads",
      "2",
      ...args,
    ]);

  it("refuses --k that is not a whole number in range, all with the usage exit code", () => {
    const directory = join(root, "sentences");
    for (const k of ["1e2", "0x10", "2.5", "abc", "0", "5000"]) {
      const run = ctxembed(["search", "--index", directory, "--query", "a dog", "--k", k]);
      expect(run.status, `--k ${k}: ${run.stderr}`).toBe(2);
      expect(run.stderr).toMatch(/--k/);
      expect(run.stdout).toBe("");
    }
  });

  it("refuses a metadata type it does not know, and undeclared types on standard input", () => {
    const unknown = ctxembed([
      "index",
      "build",
      "--text",
      "a",
      "--index",
      join(root, "unknown-type"),
      "--metadata",
      "year:date",
    ]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/"year:date": the type after ":" is one of string, number, boolean, json/);
    const piped = spawnSync(
      process.execPath,
      ["--import", "tsx", cliEntry, "index", "build", "--index", join(root, "piped"), "--metadata", "year"],
      { encoding: "utf8", cwd: repositoryRoot, input: `${JSON.stringify({ text: "a", year: 1 })}\n` },
    );
    expect(piped.status).toBe(2);
    expect(piped.stderr).toMatch(/standard input can be read only once.*--metadata year:number/);
  });

  it("refuses a filter with a tail that would be ignored", () => {
    const run = ctxembed([
      ...["search", "--index", join(root, "sentences"), "--query", "a dog"],
      ...["--filter", "source = 'odd'; DROP TABLE sentences"],
    ]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/is not one SQL predicate: a ";"/);
    expect(run.stdout).toBe("");
  });

  it("reports a damaged index with the clean error alone, no Rust panic notice", async () => {
    const directory = join(root, "damaged");
    await writeFile(join(root, "damaged.jsonl"), records.map((record) => JSON.stringify(record)).join("\n"));
    expect(build(join(root, "damaged.jsonl"), directory, "--metadata", "source").status).toBe(0);
    const data = join(directory, "sentences.lance", "data");
    for (const name of await readdir(data)) {
      const bytes = await readFile(join(data, name));
      for (let i = bytes.length - 400; i < bytes.length - 10; i += 3) bytes[i]! ^= 0x5a;
      await writeFile(join(data, name), bytes);
    }
    const run = spawnSync(
      process.execPath,
      ["--import", "tsx", cliEntry, "search", "--index", directory, "--query", "a dog", "--filter", "source = 'odd'"],
      // As a Rust developer's shell may have it.
      { encoding: "utf8", cwd: repositoryRoot, env: { ...process.env, RUST_BACKTRACE: "1" } },
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /^ctxembed: the table "sentences" of .* is damaged: its data file \w+\.lance is damaged/,
    );
    expect(run.stderr).not.toMatch(/panicked|RUST_BACKTRACE|stack backtrace|rust_begin_unwind/);
    expect(run.stdout).toBe("");
  });

  it("keeps a metadata field numeric when it is null in the first 512 rows, and takes declared types", async () => {
    const input = join(root, "late-year.jsonl");
    const lines = Array.from({ length: 600 }, (_, i) => ({
      id: `m${i}`,
      text: sentences[i % sentences.length],
      year: i < 550 ? null : 1990 + (i - 550),
      ...(i < 520 ? {} : { tag: `t${i % 3}` }),
    }));
    await writeFile(input, lines.map((line) => JSON.stringify(line)).join("\n") + "\n");
    const directory = join(root, "late-year");
    const run = build(input, directory, "--metadata", "year,tag");
    expect(run.status, run.stderr).toBe(0);
    const index = await openIndex(directory);
    try {
      expect(index.columns).toEqual({ year: "number", tag: "string" });
      expect(await index.count("year > 2000")).toBe(lines.filter((line) => (line.year ?? 0) > 2000).length);
    } finally {
      await index.close();
    }

    const csv = join(root, "years.csv");
    await writeFile(
      csv,
      `text,year,ok\n${sentences[0]},1999,true\n${sentences[1]},,false\n${sentences[2]},2004,true\n`,
    );
    const typed = join(root, "typed");
    const declared = build(csv, typed, "--column", "text", "--metadata", "year:number,ok:boolean");
    expect(declared.status, declared.stderr).toBe(0);
    const reader = await openIndex(typed);
    try {
      expect(reader.columns).toEqual({ year: "number", ok: "boolean" });
      expect(await reader.count("year > 2000 AND ok")).toBe(1);
      expect(await reader.count("year IS NULL")).toBe(1);
    } finally {
      await reader.close();
    }
    const bad = join(root, "bad-year.csv");
    await writeFile(bad, `text,year\n${sentences[0]},soon\n`);
    const refused = build(bad, join(root, "bad-year"), "--column", "text", "--metadata", "year:number");
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/year.*"soon".*not a number/);
    const mixed = join(root, "mixed.jsonl");
    await writeFile(
      mixed,
      `${JSON.stringify({ text: "a", year: 1999 })}\n${JSON.stringify({ text: "b", year: "soon" })}\n`,
    );
    const unsure = build(mixed, join(root, "mixed"), "--metadata", "year");
    expect(unsure.status).toBe(1);
    expect(unsure.stderr).toMatch(/--metadata year holds numbers \(line 1 of .*\) and strings \(line 2 of .*\)/);
  });

  it("refuses a second file whose ids are its line numbers, with or without --resume", async () => {
    const [first, second] = [join(root, "first.txt"), join(root, "second.txt")];
    await writeFile(first, sentences.slice(0, 5).join("\n") + "\n");
    await writeFile(second, sentences.slice(5, 8).join("\n") + "\n");
    const directory = join(root, "two-files");
    expect(build(first, directory, "--store-text").status).toBe(0);
    for (const extra of [[], ["--resume"]]) {
      const run = build(second, directory, "--store-text", ...extra);
      expect(run.status, run.stderr).toBe(1);
      expect(run.stderr).toMatch(/ids are line numbers.*already holds rows from .*first\.txt/s);
    }
    // The same file again is a rebuild: its line numbers are the same rows.
    expect(build(first, directory, "--store-text").status).toBe(0);
    const index = await openIndex(directory);
    try {
      expect(await index.count()).toBe(5);
      expect(await index.count(`text = '${sentences[0]!.replaceAll("'", "''")}'`)).toBe(1);
    } finally {
      await index.close();
    }
  });

  it("makes a table for an empty input, and warns with counts about duplicate ids", async () => {
    const empty = join(root, "empty.txt");
    await writeFile(empty, "");
    const directory = join(root, "from-empty");
    const run = build(empty, directory);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/0 rows/);
    const search = ctxembed(["search", "--index", directory, "--query", "a dog"]);
    expect(search.status, search.stderr).toBe(0);
    expect(search.stdout).toBe("");

    const repeated = join(root, "repeated.jsonl");
    const ids = ["a", "b", "a", "c", "a", "b"];
    await writeFile(repeated, ids.map((id, i) => JSON.stringify({ id, text: sentences[i] })).join("\n") + "\n");
    const duplicates = build(repeated, join(root, "repeated"), "--store-text");
    expect(duplicates.status, duplicates.stderr).toBe(0);
    expect(duplicates.stderr).toMatch(
      /warning: 2 ids appear more than once in .*repeated\.jsonl \(3 extra rows\).*"a"/,
    );
    const index = await openIndex(join(root, "repeated"));
    try {
      expect(await index.count()).toBe(3);
      // The last row of an id is the one kept.
      expect(await index.count(`id = 'a' AND text = '${sentences[4]!.replaceAll("'", "''")}'`)).toBe(1);
    } finally {
      await index.close();
    }
  });

  it("serve --index answers with rows added after it started", async () => {
    const input = join(root, "served.jsonl");
    await writeFile(
      input,
      records
        .slice(0, 10)
        .map((record) => JSON.stringify(record))
        .join("\n") + "\n",
    );
    const directory = join(root, "served");
    expect(build(input, directory).status).toBe(0);
    const server = startCli(["serve", "--index", directory, "--port", "0", "--threads", "1"]);
    try {
      const [, address] = await server.waitForStderr(/serving .* on (http:\/\/\S+)/);
      const query = "A bird is flying over the ocean at sunset.";
      const search = async () => {
        const response = await fetch(`${address}/search`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ query, k: 1 }),
        });
        return ((await response.json()) as { id: string }[]).map((hit) => hit.id);
      };
      expect(await search()).not.toEqual(["late"]);
      const added = join(root, "added.jsonl");
      await writeFile(added, `${JSON.stringify({ id: "late", text: query })}\n`);
      expect(build(added, directory).status).toBe(0);
      // Within the server's refresh interval (1 s by default), and some slack for a busy machine.
      const deadline = Date.now() + 5000;
      let hits = await search();
      while (hits[0] !== "late" && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        hits = await search();
      }
      expect(hits).toEqual(["late"]);
    } finally {
      server.child.kill("SIGTERM");
      await server.exited;
    }
  });
});
