// The HTTP server against the library: the official OpenAI client and plain HTTP get the
// library's own vectors; bad requests get the status code clients expect and leave the server
// healthy; the API key is enforced; SIGTERM drains the requests in flight.
import { spawn } from "node:child_process";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, type EmbeddingModel } from "../../../lib/embedding/embedding-model.js";
import { cosineSimilarity } from "../../../lib/vectors/similarity.js";
import { buildServer } from "../../../lib/server/app.js";
import { minilmPath, repositoryRoot } from "../models.js";
import { postJson, startServer, type RunningServer } from "./server-helpers.js";

const texts = ["A man is playing a guitar.", "The bank raised its interest rates.", "Émigrés' café 😀 naïve — 東京"];
const minimumCosine = 0.99999;

function expectSameVectors(actual: ArrayLike<number>[], expected: Float32Array[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((vector, i) => {
    expect(vector.length).toBe(expected[i]!.length);
    expect(cosineSimilarity(Float32Array.from(vector), expected[i]!)).toBeGreaterThanOrEqual(minimumCosine);
  });
}

let modelFile: string;
let model: EmbeddingModel;
let server: RunningServer;
beforeAll(async () => {
  modelFile = await minilmPath("f32");
  // One thread: on a shared two-core machine two threads spin-waiting on each other run several times slower.
  model = await loadModel(modelFile, { threads: 1 });
  server = await startServer(model, { maxClientBatch: 8 });
});
afterAll(async () => {
  await server.app.close();
  await model.dispose();
});

describe("OpenAI-compatible /v1/embeddings", () => {
  it("gives the official client the library's vectors, in base64 (the client's default) and as floats, with dimensions", async () => {
    const client = new OpenAI({ apiKey: "unused", baseURL: `${server.url}/v1` });
    const expected = (await model.embed(texts)).map((result) => result.embedding);

    const base64 = await client.embeddings.create({ model: "all-minilm-l6-v2", input: texts });
    expectSameVectors(
      base64.data.map((item) => item.embedding),
      expected,
    );
    expect(base64.data.map((item) => item.index)).toEqual([0, 1, 2]);
    const tokens = (await model.embed(texts)).reduce((sum, result) => sum + result.tokenCount, 0);
    expect(base64.usage).toEqual({ prompt_tokens: tokens, total_tokens: tokens });

    const floats = await client.embeddings.create({
      model: "all-minilm-l6-v2",
      input: texts[1]!,
      encoding_format: "float",
    });
    expectSameVectors([floats.data[0]!.embedding], [expected[1]!]);

    const short = await client.embeddings.create({ model: "all-minilm-l6-v2", input: texts, dimensions: 128 });
    expectSameVectors(
      short.data.map((item) => item.embedding),
      (await model.embed(texts, { dimensions: 128 })).map((result) => result.embedding),
    );
  });

  it("reaches the client as an OpenAI error it can read", async () => {
    const client = new OpenAI({ apiKey: "unused", baseURL: `${server.url}/v1`, maxRetries: 0 });
    const error = await client.embeddings.create({ model: "m", input: [] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.UnprocessableEntityError);
    expect((error as InstanceType<typeof OpenAI.APIError>).message).toMatch(/input is an empty array/);
  });
});

describe("text-embeddings-inference-compatible routes", () => {
  it("/embed equals the library, normalised by default, raw with normalize: false, cut with truncate: true", async () => {
    const normalized = await postJson(`${server.url}/embed`, { inputs: texts });
    expect(normalized.status).toBe(200);
    expectSameVectors(
      normalized.body,
      (await model.embed(texts)).map((result) => result.embedding),
    );

    const raw = await postJson(`${server.url}/embed`, { inputs: texts[0], normalize: false, dimensions: 64 });
    const [expectedRaw] = await model.embed([texts[0]!], { normalize: false, dimensions: 64 });
    expectSameVectors(raw.body, [expectedRaw!.embedding]);
    const norm = (vector: ArrayLike<number>) => Math.hypot(...Array.from(vector));
    expect(norm(raw.body[0])).toBeCloseTo(norm(expectedRaw!.embedding), 4);

    const long = "word ".repeat(400);
    const cut = await postJson(`${server.url}/embed`, {
      inputs: [long],
      truncate: true,
      truncation_direction: "Right",
    });
    expectSameVectors(cut.body, [(await model.embed(long, { truncate: true })).embedding]);
  });

  it("/embed with prompt_name puts each input in that preset, as the library does", async () => {
    const prompted = await postJson(`${server.url}/embed`, { inputs: texts, prompt_name: "prompteol" });
    expect(prompted.status).toBe(200);
    expectSameVectors(
      prompted.body,
      (await model.embed(texts, { prompt: { template: "prompteol" } })).map((result) => result.embedding),
    );
  });

  it("/embed_all returns every token's raw vector; /tokenize every token's id and range", async () => {
    const all = await postJson(`${server.url}/embed_all`, { inputs: texts });
    expect(all.status).toBe(200);
    const expected = await model.embed(texts, { tokens: true, normalize: false });
    all.body.forEach((tokens: number[][], i: number) =>
      expectSameVectors(
        tokens,
        expected[i]!.tokens!.map((token) => token.embedding),
      ),
    );

    const tokenized = await postJson(`${server.url}/tokenize`, { inputs: texts });
    expect(tokenized.status).toBe(200);
    texts.forEach((text, i) => {
      const spans = model.tokenize(text);
      expect(tokenized.body[i]).toEqual(
        spans.map((span) => ({
          id: span.id,
          text: span.special ? span.text : text.slice(span.start, span.end),
          special: span.special,
          start: span.start,
          stop: span.end,
        })),
      );
    });
    const bare = await postJson(`${server.url}/tokenize`, { inputs: "hello", add_special_tokens: false });
    expect(bare.body[0].map((token: { id: number }) => token.id)).toEqual(
      model.tokenize("hello", { addSpecial: false }).map((span) => span.id),
    );
  });

  it("/health, /info and /metrics report the service", async () => {
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const info = await (await fetch(`${server.url}/info`)).json();
    expect(info).toMatchObject({
      dimensions: model.info.dimensions,
      max_input_length: model.maxSequenceTokens,
      max_client_batch_size: 8,
      batching: true,
    });
    const metrics = await fetch(`${server.url}/metrics`);
    expect(metrics.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await metrics.text();
    for (const name of [
      "ctxembed_requests_total",
      "ctxembed_request_duration_seconds_bucket",
      "ctxembed_queue_size",
      "ctxembed_requests_in_flight",
      "ctxembed_queue_wait_seconds_bucket",
      "ctxembed_batch_duration_seconds_bucket",
      "ctxembed_batch_requests_bucket",
      "ctxembed_batch_inputs_bucket",
      "ctxembed_batch_tokens_bucket",
      "ctxembed_input_tokens_total",
    ]) {
      expect(text).toContain(`\n${name}`);
    }
    expect(text).toMatch(/ctxembed_requests_total\{route="\/embed",outcome="success"\} [1-9]/);
  });
});

/** Sends raw bytes, so that bodies JSON.stringify could never produce (invalid UTF-8) reach the server. */
function rawPost(
  url: string,
  path: string,
  body: Buffer,
  contentType = "application/json",
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      `${url}${path}`,
      { method: "POST", headers: { "content-type": contentType, "content-length": body.length } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({ status: response.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) }),
        );
      },
    );
    // The server may answer 413 and close before reading a large body.
    request.on("error", (error: NodeJS.ErrnoException) =>
      error.code === "EPIPE" || error.code === "ECONNRESET" ? undefined : reject(error),
    );
    request.end(body);
  });
}

describe("bad requests", () => {
  const json = (value: unknown) => Buffer.from(JSON.stringify(value));
  const cases: [string, string, Buffer, number, string?][] = [
    ["malformed JSON", "/embed", Buffer.from('{"inputs": ["a",'), 400],
    ["malformed JSON (OpenAI)", "/v1/embeddings", Buffer.from("{input"), 400],
    ["empty body", "/embed", Buffer.alloc(0), 400],
    [
      "invalid UTF-8 in a string",
      "/embed",
      Buffer.concat([Buffer.from('{"inputs": "caf'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
      400,
    ],
    ["a lone surrogate", "/embed", Buffer.from('{"inputs": "a\\ud800b"}'), 422],
    ["a body that is not an object", "/embed", json(["a"]), 422],
    ["inputs missing", "/embed", json({ input: "a" }), 422],
    ["inputs of the wrong type", "/embed", json({ inputs: 42 }), 422],
    ["an input of the wrong type", "/v1/embeddings", json({ input: ["a", null] }), 422],
    ["an empty array", "/v1/embeddings", json({ input: [] }), 422],
    ["an empty string", "/embed", json({ inputs: "" }), 422],
    ["a client batch over the limit", "/embed", json({ inputs: Array(9).fill("a") }), 422],
    ["huge dimensions", "/v1/embeddings", json({ input: "a", dimensions: 1_000_000 }), 422],
    ["zero dimensions", "/embed", json({ inputs: "a", dimensions: 0 }), 422],
    ["fractional dimensions", "/embed", json({ inputs: "a", dimensions: 1.5 }), 422],
    ["an unknown encoding_format", "/v1/embeddings", json({ input: "a", encoding_format: "int8" }), 422],
    ["normalize as a string", "/embed", json({ inputs: "a", normalize: "yes" }), 422],
    ["an unknown field", "/embed", json({ inputs: "a", normalise: false }), 422],
    ["an input too long without truncate", "/embed", json({ inputs: "word ".repeat(400) }), 422],
    ["left truncation", "/embed", json({ inputs: "a", truncate: true, truncation_direction: "Left" }), 422],
    ["an unknown prompt_name", "/embed", json({ inputs: "a", prompt_name: "no-such-preset" }), 422],
    ["a 10 MB body", "/embed", Buffer.from(JSON.stringify({ inputs: "x".repeat(10_000_000) })), 413],
    ["another content type", "/embed", Buffer.from("hello"), 415, "text/plain"],
  ];

  it.each(cases)("%s → the right 4xx in the route's error shape", async (_name, path, body, status, contentType) => {
    const response = await rawPost(server.url, path, body, contentType);
    expect(response.status).toBe(status);
    if (path.startsWith("/v1/"))
      expect(response.body.error).toMatchObject({ message: expect.any(String), type: expect.any(String) });
    else expect(response.body).toMatchObject({ error: expect.any(String), error_type: expect.any(String) });
  });

  it("answers unknown routes 404, and stays healthy and correct after all of it", async () => {
    expect((await fetch(`${server.url}/v2/embeddings`, { method: "POST" })).status).toBe(404);
    expect((await fetch(`${server.url}/embed`)).status).toBe(404);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const after = await postJson(`${server.url}/embed`, { inputs: texts });
    expectSameVectors(
      after.body,
      (await model.embed(texts)).map((result) => result.embedding),
    );
    expect(server.unexpected).toEqual([]);
  });
});

describe("API key", () => {
  it("requires the Bearer key on every route but /health", async () => {
    const app = buildServer(model, { apiKey: "s3cret" });
    const embed = (authorization?: string) =>
      app.inject({
        method: "POST",
        url: "/v1/embeddings",
        payload: { input: "a" },
        headers: authorization ? { authorization } : {},
      });
    expect((await embed()).statusCode).toBe(401);
    expect((await embed("Bearer wrong")).statusCode).toBe(401);
    expect((await embed("s3cret")).statusCode).toBe(401);
    expect((await embed("Bearer s3cret")).statusCode).toBe(200);
    expect((await app.inject({ method: "GET", url: "/metrics" })).statusCode).toBe(401);
    expect((await app.inject({ method: "GET", url: "/health" })).statusCode).toBe(200);
    await app.close();
  });
});

describe("ctxembed serve", () => {
  it("answers every request in flight when it gets SIGTERM, then exits 0", async () => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        join(repositoryRoot, "lib", "cli", "main.ts"),
        "serve",
        "--model",
        modelFile,
        "--port",
        "0",
        "--threads",
        "1",
      ],
      {
        cwd: repositoryRoot,
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on("data", () => {
        const match = /serving .* on (http:\/\/\S+)/.exec(stderr);
        if (match) resolve(match[1]!);
      });
      void exited.then(() => reject(new Error(`serve exited early:\n${stderr}`)));
    });

    // Long enough inputs that the requests are still running when the signal arrives.
    const requests = Array.from({ length: 4 }, (_, r) =>
      Array.from({ length: 4 }, (_, i) => `${texts[(r + i) % texts.length]} ${"and so on ".repeat(8)}${r}-${i}`),
    );
    const responses = requests.map((inputs) => postJson(`${url}/embed`, { inputs }));
    const deadline = Date.now() + 60_000;
    while (!/ctxembed_requests_in_flight 4\b/.test(await (await fetch(`${url}/metrics`)).text())) {
      if (Date.now() > deadline) throw new Error("the four requests were never in flight together");
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    child.kill("SIGTERM");
    const signalled = performance.now();

    const answered = await Promise.all(responses);
    expect(await exited, stderr).toBe(0);
    // Well under the 72 s keep-alive timeout the clients' idle connections would otherwise hold the server open for.
    expect(performance.now() - signalled).toBeLessThan(30_000);
    expect(stderr).toMatch(/SIGTERM: draining[\s\S]*stopped/);
    const expected = (await model.embed(requests.flat())).map((result) => result.embedding);
    answered.forEach((response, r) => {
      expect(response.status).toBe(200);
      expectSameVectors(response.body, expected.slice(r * 4, (r + 1) * 4));
    });
  });
});
