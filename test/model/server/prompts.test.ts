// Prompts on the server: a deployment's default prompt (`ctxembed serve --prompt … --examples …`)
// and a request's prompt_name and role give the vectors the command line gives for the same options.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, type EmbeddingModel } from "../../../lib/embedding/embedding-model.js";
import { cosineSimilarity } from "../../../lib/vectors/similarity.js";
import { promptEolDemonstrations } from "../../../lib/prompts/prompteol-demonstrations.js";
import { minilmPath, repositoryRoot, sentenceFixture } from "../models.js";
import { postJson, startServer, type RunningServer } from "./server-helpers.js";

const cliEntry = join(repositoryRoot, "lib", "cli", "main.ts");
// The bound of test/model/prompts/prompting.test.ts: a decoder's vector does not move with its batch mates.
const parity = 0.9999;

const folder = mkdtempSync(join(tmpdir(), "ctxembed-server-prompts-"));
const sentences = sentenceFixture().sentences.slice(0, 4);
const demo = join(folder, "demo.jsonl");
writeFileSync(demo, `${JSON.stringify(promptEolDemonstrations[0])}\n`);

/** `ctxembed embed` on the sentences, as a user runs it. */
function cliVectors(args: string[]): Float32Array[] {
  const run = spawnSync(
    process.execPath,
    ["--import", "tsx", cliEntry, "embed", "--model", "gemma-3-270m", "--text", ...sentences, ...args],
    { encoding: "utf8", cwd: repositoryRoot },
  );
  expect(run.status, run.stderr).toBe(0);
  return run.stdout
    .trim()
    .split("\n")
    .map((line) => Float32Array.from((JSON.parse(line) as { embedding: number[] }).embedding));
}

function expectParity(served: number[][], expected: Float32Array[]): void {
  expect(served).toHaveLength(expected.length);
  served.forEach((vector, i) =>
    expect(cosineSimilarity(Float32Array.from(vector), expected[i]!), sentences[i]).toBeGreaterThanOrEqual(parity),
  );
}

/** `ctxembed serve` with its own flags on a free port; resolves with its address once it listens. */
async function serve(args: string[]): Promise<{ url: string; process: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", cliEntry, "serve", "--model", "gemma-3-270m", "--port", "0", ...args],
    { cwd: repositoryRoot },
  );
  let stderr = "";
  child.stderr.setEncoding("utf8");
  for await (const chunk of child.stderr) {
    stderr += chunk;
    const listening = /serving .* on (http:\/\/\S+?),/.exec(stderr);
    if (listening) return { url: listening[1]!, process: child };
  }
  throw new Error(`ctxembed serve exited before listening: ${stderr}`);
}

describe("ctxembed serve --prompt prompteol --examples demo.jsonl (gemma-3-270m)", () => {
  let server: { url: string; process: ChildProcess };
  beforeAll(async () => {
    server = await serve(["--prompt", "prompteol", "--examples", demo]);
  });
  afterAll(async () => {
    server.process.kill("SIGTERM");
    await once(server.process, "exit");
  });

  it("requests without prompt_name, on /embed and /v1/embeddings, equal the CLI's vectors for the same prompt", async () => {
    const expected = cliVectors(["--prompt", "prompteol", "--examples", demo]);
    const tei = await postJson(`${server.url}/embed`, { inputs: sentences });
    expect(tei.status).toBe(200);
    expectParity(tei.body, expected);
    const openAi = await postJson(`${server.url}/v1/embeddings`, { input: sentences, model: "gemma-3-270m" });
    expect(openAi.status).toBe(200);
    expectParity(
      openAi.body.data.map((item: { embedding: number[] }) => item.embedding),
      expected,
    );
    // Naming the server's own preset keeps its demonstrations.
    expectParity(
      (await postJson(`${server.url}/embed`, { inputs: sentences, prompt_name: "prompteol" })).body,
      expected,
    );
  });

  it("role: document gives the preset's document form, as --role document does", async () => {
    const documents = await postJson(`${server.url}/embed`, { inputs: sentences, role: "document" });
    expect(documents.status).toBe(200);
    expectParity(documents.body, cliVectors(["--prompt", "prompteol", "--role", "document"]));
  });

  it("/tokenize shows the prompted text the model reads, demonstration first", async () => {
    const tokenized = await postJson(`${server.url}/tokenize`, { inputs: [sentences[0]] });
    const text = tokenized.body[0]
      .map((token: { text: string; special: boolean }) => (token.special ? "" : token.text))
      .join("");
    const { query, response } = promptEolDemonstrations[0]!;
    // A token's text is the range it covers, which leaves out the space before a word.
    const withoutSpaces = (value: string) => value.replace(/\s/g, "");
    expect(withoutSpaces(text)).toBe(
      withoutSpaces(
        `This sentence : "${query}" means in one word:"${response}".This sentence : "${sentences[0]}" means in one word:"`,
      ),
    );
  });
});

describe("per-request prompt_name on a server without a default prompt (gemma-3-270m)", () => {
  let gemma: EmbeddingModel;
  let server: RunningServer;
  beforeAll(async () => {
    gemma = await loadModel("gemma-3-270m");
    server = await startServer(gemma);
  });
  afterAll(async () => {
    await server.app.close();
    await gemma.dispose();
  });

  it("prompt_name prompteol equals the CLI's --prompt prompteol, and concurrent requests with it share batches", async () => {
    const before = await batchCount(server.url);
    const concurrent = await Promise.all(
      sentences.map((sentence) => postJson(`${server.url}/embed`, { inputs: [sentence], prompt_name: "prompteol" })),
    );
    const batches = (await batchCount(server.url)) - before;
    expectParity(
      concurrent.map((response) => response.body[0]),
      cliVectors(["--prompt", "prompteol"]),
    );
    expect(batches).toBeLessThan(sentences.length);
    expect(server.unexpected).toEqual([]);
  });
});

async function batchCount(url: string): Promise<number> {
  const metrics = await (await fetch(`${url}/metrics`)).text();
  return Number(/^ctxembed_batch_requests_count (\d+)/m.exec(metrics)?.[1] ?? 0);
}

describe("prompt fields refused or ignored (all-MiniLM-L6-v2)", () => {
  let minilm: EmbeddingModel;
  let server: RunningServer;
  beforeAll(async () => {
    minilm = await loadModel(await minilmPath("f32"));
    server = await startServer(minilm);
  });
  afterAll(async () => {
    await server.app.close();
    await minilm.dispose();
  });

  it.each([
    [
      "a preset whose {task} the server cannot fill",
      "/embed",
      { inputs: "a", prompt_name: "qwen3-embedding" },
      /prompt_name "qwen3-embedding" needs an instruction for its \{task\} slot/,
    ],
    ["an unknown role", "/embed", { inputs: "a", prompt_name: "prompteol", role: "passage" }, /role must be one of/],
    [
      "an unknown preset on /v1/embeddings",
      "/v1/embeddings",
      { input: "a", prompt_name: "no-such-preset" },
      /prompt_name: unknown prompt preset "no-such-preset"/,
    ],
  ])("%s: 422 naming the field", async (_name, route, body, message) => {
    const response = await postJson(`${server.url}${route}`, body);
    expect(response.status).toBe(422);
    expect(typeof response.body.error === "string" ? response.body.error : response.body.error.message).toMatch(
      message,
    );
  });

  it("a role without any prompt embeds the text as it is", async () => {
    const response = await postJson(`${server.url}/embed`, { inputs: ["a plain sentence"], role: "document" });
    expect(response.status).toBe(200);
    const [expected] = await minilm.embed(["a plain sentence"]);
    expect(cosineSimilarity(Float32Array.from(response.body[0]), expected!.embedding)).toBeGreaterThan(0.999999);
  });
});
