// Many clients at once against the batching server: every response must be the library's vector
// for that request's own inputs and options, however the requests were merged; a small queue
// refuses the excess with 429 and nothing else goes wrong.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, type EmbeddingModel } from "../../../lib/embedding/embedding-model.js";
import { cosineSimilarity } from "../../../lib/vectors/similarity.js";
import { readStsBenchmark } from "../../../lib/eval/sts.js";
import { seededRandom } from "../../../lib/util/random.js";
import { minilmPath, sharedData } from "../models.js";
import { postJson, startServer } from "./server-helpers.js";

const minimumCosine = 0.99999;

/** One request of the mix: its route and options decide how its vectors must relate to the raw reference. */
interface Case {
  texts: string[];
  route: "/embed" | "/v1/embeddings";
  normalize: boolean;
  dimensions?: number;
}

let model: EmbeddingModel;
/** the library's raw (unnormalised) vector of every text in the pool */
const reference = new Map<string, Float32Array>();
let pool: string[];

beforeAll(async () => {
  // One thread: on a shared two-core machine two threads spin-waiting on each other run several times slower.
  model = await loadModel(await minilmPath("f32"), { threads: 1 });
  // Short texts of mixed lengths: the first 2 to 12 words of STS-B sentences, all distinct, so a
  // vector answered to the wrong request is another text's vector and fails the cosine.
  const pairs = await readStsBenchmark(join(sharedData, "stsb", "sts-dev.csv"));
  const random = seededRandom(5);
  const fragments = pairs.map((pair) =>
    pair.sentence1
      .split(" ")
      .slice(0, 2 + Math.floor(random() * 11))
      .join(" "),
  );
  pool = [...new Set(fragments)].slice(0, 400);
  const vectors = await model.embed(pool, { normalize: false });
  pool.forEach((text, i) => reference.set(text, vectors[i]!.embedding));
});
afterAll(() => model.dispose());

function makeCases(count: number, seed: number): Case[] {
  const random = seededRandom(seed);
  const pick = () => pool[Math.floor(random() * pool.length)]!;
  const sizes = [1, 1, 1, 1, 1, 1, 2, 2, 4, 8];
  return Array.from({ length: count }, () => {
    const texts = Array.from({ length: sizes[Math.floor(random() * sizes.length)]! }, pick);
    const kind = random();
    if (kind < 0.4) return { texts, route: "/embed", normalize: true };
    if (kind < 0.55) return { texts, route: "/embed", normalize: false };
    if (kind < 0.7) return { texts, route: "/embed", normalize: true, dimensions: 128 };
    return { texts, route: "/v1/embeddings", normalize: true };
  });
}

async function send(url: string, request: Case): Promise<{ status: number; vectors?: number[][]; body: any }> {
  const dimensions = request.dimensions === undefined ? {} : { dimensions: request.dimensions };
  if (request.route === "/embed") {
    const response = await postJson(`${url}/embed`, {
      inputs: request.texts,
      normalize: request.normalize,
      ...dimensions,
    });
    return { ...response, ...(response.status === 200 ? { vectors: response.body } : {}) };
  }
  const response = await postJson(`${url}/v1/embeddings`, {
    input: request.texts,
    encoding_format: "float",
    ...dimensions,
  });
  return {
    ...response,
    ...(response.status === 200
      ? { vectors: response.body.data.map((item: { embedding: number[] }) => item.embedding) }
      : {}),
  };
}

/** What is wrong with a response's vectors for its request, or undefined. */
function mismatch(request: Case, vectors: number[][]): string | undefined {
  if (vectors.length !== request.texts.length) return `${vectors.length} vectors for ${request.texts.length} inputs`;
  for (const [i, text] of request.texts.entries()) {
    const raw = reference.get(text)!;
    const expected = request.dimensions === undefined ? raw : raw.subarray(0, request.dimensions);
    const actual = Float32Array.from(vectors[i]!);
    if (actual.length !== expected.length)
      return `input ${i}: ${actual.length} dimensions, expected ${expected.length}`;
    const cosine = cosineSimilarity(actual, expected);
    if (!(cosine >= minimumCosine)) return `input ${i} ${JSON.stringify(text)}: cosine ${cosine}`;
    const norm = Math.hypot(...actual);
    const expectedNorm = request.normalize ? 1 : Math.hypot(...expected);
    if (Math.abs(norm - expectedNorm) > 1e-3 * expectedNorm)
      return `input ${i}: norm ${norm}, expected ${expectedNorm}`;
  }
  return undefined;
}

/** Runs `cases` from `clients` concurrent clients, each taking the next case when its last is answered. */
async function drive(url: string, cases: Case[], clients: number) {
  const outcomes: { status: number; problem?: string; body: any }[] = new Array(cases.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < cases.length) {
        const index = next++;
        const response = await send(url, cases[index]!);
        outcomes[index] = {
          status: response.status,
          body: response.body,
          ...(response.vectors ? { problem: mismatch(cases[index]!, response.vectors) } : {}),
        };
      }
    }),
  );
  return outcomes;
}

describe("concurrent clients", () => {
  it("64 clients, 2,000 requests of mixed sizes and options: every response is its own inputs' vectors", async () => {
    const server = await startServer(model);
    const cases = makeCases(2000, 11);
    const outcomes = await drive(server.url, cases, 64);
    const failures = outcomes.flatMap((outcome, i) =>
      outcome.status !== 200 || outcome.problem ? [{ request: i, ...outcome }] : [],
    );
    expect(failures.slice(0, 5)).toEqual([]);

    // The requests really were merged: fewer model calls than requests.
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const batches = Number(/^ctxembed_batch_requests_count (\d+)/m.exec(metrics)![1]);
    const merged = Number(/^ctxembed_batch_requests_sum (\d+)/m.exec(metrics)![1]);
    expect(merged).toBe(2000);
    expect(batches).toBeLessThan(2000);
    expect(server.unexpected).toEqual([]);
    await server.app.close();
  });

  it("a full queue answers 429 at once; every admitted request is still answered correctly", async () => {
    const server = await startServer(model, { maxConcurrentRequests: 4 });
    const cases = makeCases(256, 12);
    const outcomes = await drive(server.url, cases, 32);

    const refused = outcomes.filter((outcome) => outcome.status === 429);
    const answered = outcomes.filter((outcome) => outcome.status === 200);
    expect(refused.length).toBeGreaterThan(0);
    expect(answered.length).toBeGreaterThan(0);
    expect(refused.length + answered.length).toBe(cases.length);
    expect(answered.filter((outcome) => outcome.problem !== undefined)).toEqual([]);
    for (const outcome of refused) {
      expect(outcome.body.error_type ?? outcome.body.error?.type).toMatch(/^(overloaded|rate_limit_error)$/);
    }

    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const counted = [
      ...metrics.matchAll(/^ctxembed_requests_total\{route="[^"]+",outcome="overloaded"\} (\d+)/gm),
    ].reduce((sum, match) => sum + Number(match[1]), 0);
    expect(counted).toBe(refused.length);
    await server.app.close();
  });
});
