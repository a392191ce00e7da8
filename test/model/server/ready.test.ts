// /ready, the route a load balancer polls before sending a replica requests: ready while the model
// is loaded and the server admits more requests, 503 while it is at its limit, ready again after.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, type EmbeddingModel } from "../../../lib/embedding/embedding-model.js";
import { minilmPath } from "../models.js";
import { postJson, startServer, type RunningServer } from "./server-helpers.js";

let model: EmbeddingModel;
let server: RunningServer;
beforeAll(async () => {
  model = await loadModel(await minilmPath(), { threads: 2 });
  server = await startServer(model, { maxConcurrentRequests: 1, apiKey: "key" });
});
afterAll(async () => {
  await server?.app.close();
  await model?.dispose();
});

describe("GET /ready", () => {
  it("is 200 when idle, 503 while the one admitted request runs, 200 again after; no API key needed", async () => {
    const idle = await fetch(`${server.url}/ready`);
    expect(idle.status).toBe(200);
    expect(await idle.json()).toMatchObject({ status: "ready", in_flight: 0, max_concurrent_requests: 1 });

    // 8 inputs of ~150 tokens keep MiniLM busy for a good part of a second on two cores.
    const long = Array.from({ length: 50 }, (_, i) => `word${i % 17} river bank`).join(" ");
    let answered = false;
    const busy = fetch(`${server.url}/embed`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer key" },
      body: JSON.stringify({ inputs: Array(8).fill(long), truncate: true }),
    }).then(async (response) => {
      answered = true;
      return response.status;
    });
    let sawBusy = false;
    while (!answered && !sawBusy) {
      const response = await fetch(`${server.url}/ready`);
      if (response.status === 503) {
        sawBusy = true;
        expect(await response.json()).toMatchObject({
          status: "not_ready",
          reason: expect.stringMatching(/1 requests in flight/),
        });
      }
    }
    expect(sawBusy).toBe(true);
    expect(await busy).toBe(200);
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
    expect((await postJson(`${server.url}/embed`, { inputs: "no key" })).status).toBe(401);
  });
});
