// The server under requests that ask for too much: /tokenize and /embed_all answers past the
// response limit (413, before they are built whole), /tokenize counted against the request limit,
// Node's own refusals and odd bodies in the documented error body. The tiny random-weight model
// keeps MiniLM's tokenizer, which is all /tokenize needs.
import { connect } from "node:net";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, type EmbeddingModel } from "../../../lib/embedding/embedding-model.js";
import { postJson, startServer, type RunningServer } from "./server-helpers.js";
import { tinyModelPath } from "../tiny-model.js";

const MB = 1 << 20;

let model: EmbeddingModel;
let server: RunningServer;
beforeAll(async () => {
  model = await loadModel(await tinyModelPath(), { threads: 1 });
  server = await startServer(model);
});
afterAll(async () => {
  await server.app.close();
  await model.dispose();
});

/** A raw HTTP exchange, for requests fetch will not send. */
async function rawRequest(port: number, text: string): Promise<{ status: number; body: unknown }> {
  const socket = connect(port, "127.0.0.1");
  await once(socket, "connect");
  socket.write(text);
  let answer = "";
  socket.setEncoding("utf8").on("data", (chunk: string) => (answer += chunk));
  await once(socket, "close");
  const [head, body] = answer.split("\r\n\r\n");
  return { status: Number(/^HTTP\/1\.1 (\d+)/.exec(head!)![1]), body: JSON.parse(body!) };
}

const port = () => Number(new URL(server.url).port);

describe("response limits", () => {
  // ~400,000 tokens: its /tokenize answer would be ~25 MB, over the default 16 MiB.
  const huge = "word ".repeat(390_000);

  it("/tokenize past the response limit is a 413 in the documented body, and ten at once leave memory bounded", {
    timeout: 120_000,
  }, async () => {
    const alone = await postJson(`${server.url}/tokenize`, { inputs: huge });
    expect(alone.status).toBe(413);
    expect(alone.body).toEqual({
      error: expect.stringMatching(
        /the \/tokenize answer would be larger than this server's response limit of 16777216 bytes/,
      ),
      error_type: "too_large",
    });

    global.gc?.();
    const before = process.memoryUsage().rss;
    let slowestHealth = 0;
    let running = true;
    const probe = (async () => {
      while (running) {
        const started = performance.now();
        await fetch(`${server.url}/health`);
        slowestHealth = Math.max(slowestHealth, performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => postJson(`${server.url}/tokenize`, { inputs: huge })),
    );
    running = false;
    await probe;
    expect(answers.map((answer) => answer.status)).toEqual(Array(10).fill(413));
    const growth = (process.memoryUsage().rss - before) / MB;
    process.stderr.write(
      `[limits] RSS growth after ten 2 MB /tokenize requests: ${growth.toFixed(0)} MB; slowest /health ${slowestHealth.toFixed(0)} ms\n`,
    );
    // Allowance: ten requests each hold their body (2 MB) and its token ids (~1.6 MB); the answer is
    // refused from the token count before any of it is built. 250 MB leaves room for the heap's
    // own growth; before, each request built ~69 MB of answer and ten took the server to 1.5 GB.
    expect(growth).toBeLessThan(250);
    // Tokenizing 2 MB holds the event loop for a moment (measured here: 0.6 s at worst on a busy
    // two-core machine); before, /health waited 2 s behind three such requests.
    expect(slowestHealth).toBeLessThan(2000);
  });

  it("/embed_all past the response limit is a 413 before the model runs; under it the answer is whole", async () => {
    const small = await startServer(model, { maxResponseBytes: 100_000 });
    try {
      const refused = await postJson(`${small.url}/embed_all`, {
        inputs: Array(32).fill("a long sentence ".repeat(60)),
      });
      expect(refused.status).toBe(413);
      expect(refused.body.error_type).toBe("too_large");
      const answered = await postJson(`${small.url}/embed_all`, { inputs: ["short"] });
      expect(answered.status).toBe(200);
      expect(answered.body[0]).toHaveLength(model.tokenize("short").length);
      expect(answered.body[0][0]).toHaveLength(model.info.dimensions);
    } finally {
      await small.app.close();
    }
  });

  it("/tokenize counts against the request limit (--max-queue)", async () => {
    const one = await startServer(model, { maxConcurrentRequests: 1, maxResponseBytes: 64 * MB });
    try {
      const big = "word ".repeat(100_000);
      const statuses = (
        await Promise.all([
          postJson(`${one.url}/tokenize`, { inputs: big }),
          postJson(`${one.url}/tokenize`, { inputs: big }),
        ])
      ).map((answer) => answer.status);
      expect(statuses.sort()).toEqual([200, 429]);
    } finally {
      await one.app.close();
    }
  });
});

describe("odd requests get the documented error body", () => {
  it("headers too large: 431; not HTTP: 400", async () => {
    const large = await rawRequest(
      port(),
      `GET /health HTTP/1.1\r\nHost: x\r\nX-Padding: ${"a".repeat(20_000)}\r\n\r\n`,
    );
    expect(large).toEqual({
      status: 431,
      body: { error: "the request headers are too large", error_type: "too_large" },
    });
    const garbage = await rawRequest(port(), "NOT HTTP AT ALL\r\n\r\n");
    expect(garbage.status).toBe(400);
    expect(garbage.body).toEqual({ error: expect.stringMatching(/not valid HTTP/), error_type: "malformed" });
  });

  it("a __proto__ key is named, as a 422", async () => {
    const response = await fetch(`${server.url}/embed`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"inputs": "x", "__proto__": {"a": 1}}',
    });
    expect(response.status).toBe(422);
    expect(await response.json()).toEqual({
      error: expect.stringMatching(/holds a __proto__/),
      error_type: "validation",
    });
  });

  it("an input that tokenizes to nothing is refused like an empty one", async () => {
    for (const input of ["   ", "\u0000", "\ufffd"]) {
      const answer = await postJson(`${server.url}/embed`, { inputs: ["fine", input] });
      expect(answer.status).toBe(422);
      expect(answer.body.error).toMatch(/inputs\[1\] has no tokens/);
    }
  });

  it("/info leaves the model's path out unless told to show it", async () => {
    const hidden = await (await fetch(`${server.url}/info`)).json();
    expect(hidden).not.toHaveProperty("model_path");
    const shown = await startServer(model, { exposeModelPath: true });
    try {
      expect(await (await fetch(`${shown.url}/info`)).json()).toMatchObject({ model_path: model.info.path });
    } finally {
      await shown.app.close();
    }
  });
});
