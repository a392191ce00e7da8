// `ctxembed serve` stopped by SIGTERM while clients hold connections they never finish: a bare
// TCP connection, headers cut short, a body cut short. Before, each kept the process alive for
// as long as the client stayed; now they are closed at once, a request in flight is still
// answered, and the process exits 0 well within the drain deadline.
import { connect, type Socket } from "node:net";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCli, type CliProcess } from "../cli/cli-process.js";
import { tinyModelPath } from "../tiny-model.js";

let modelFile: string;
beforeAll(async () => {
  modelFile = await tinyModelPath();
});

const sockets: Socket[] = [];
afterAll(() => sockets.forEach((socket) => socket.destroy()));

async function openConnection(port: number, send: string): Promise<Socket> {
  const socket = connect(port, "127.0.0.1");
  sockets.push(socket);
  socket.on("error", () => undefined);
  await once(socket, "connect");
  if (send) socket.write(send);
  return socket;
}

async function serve(drainSeconds: number, ...more: string[]): Promise<{ server: CliProcess; port: number }> {
  const server = startCli([
    "serve",
    "--model",
    modelFile,
    "--port",
    "0",
    "--threads",
    "1",
    "--drain-timeout",
    String(drainSeconds),
    ...more,
  ]);
  const [, port] = await server.waitForStderr(/serving .* on http:\/\/127\.0\.0\.1:(\d+)/);
  return { server, port: Number(port) };
}

describe("serve on SIGTERM", () => {
  it("closes idle and half-sent connections at once, answers the request in flight, and exits 0 within the deadline", {
    timeout: 120_000,
  }, async () => {
    const drainSeconds = 10;
    const { server, port } = await serve(drainSeconds);
    const url = `http://127.0.0.1:${port}`;
    const bare = await openConnection(port, "");
    const partialHeaders = await openConnection(port, "POST /embed HTTP/1.1\r\nHost: localhost\r\nContent-Type: appli");
    const partialBody = await openConnection(
      port,
      'POST /embed HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"inputs": ',
    );
    // A keep-alive connection that finished a request and stays open: idle.
    expect((await fetch(`${url}/health`)).status).toBe(200);
    const closed = [bare, partialHeaders, partialBody].map((socket) => once(socket, "close"));

    // A request in flight when the signal comes must still get its answer.
    const inFlight = fetch(`${url}/embed`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ inputs: Array(32).fill("a sentence ".repeat(40)) }),
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const signalled = performance.now();
    server.child.kill("SIGTERM");
    await Promise.all(closed);
    const { status } = await server.exited;
    const seconds = (performance.now() - signalled) / 1000;
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(await answer.json()).toHaveLength(32);
    expect(status, server.stderr()).toBe(0);
    expect(seconds).toBeLessThan(drainSeconds);
    expect(server.stderr()).toMatch(/SIGTERM: draining requests in flight[\s\S]*stopped/);
  });

  it("cuts off a request that outlasts --drain-timeout and exits 1 at the deadline", { timeout: 120_000 }, async () => {
    const { server, port } = await serve(0.2, "--max-client-batch", "2000", "--body-limit", "10000000");
    // 2,000 inputs of 256 tokens: seconds of work for the tiny model on one thread.
    const slow = fetch(`http://127.0.0.1:${port}/embed`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ inputs: Array(2000).fill("word ".repeat(250)), truncate: true }),
    }).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 500));
    server.child.kill("SIGTERM");
    const { status } = await server.exited;
    const slowAnswer = await slow;
    expect(
      status,
      `${server.stderr()} ${slowAnswer instanceof Response ? `${slowAnswer.status} ${await slowAnswer.text()}`.slice(0, 300) : ""}`,
    ).toBe(1);
    expect(server.stderr()).toMatch(/drain deadline of 0.2 s cut off requests still in flight/);
    expect(slowAnswer).toBeInstanceOf(Error);
  });

  it("warns that --api-key is visible to other users, and takes the key from CTXEMBED_API_KEY silently", {
    timeout: 60_000,
  }, async () => {
    const flagged = await serve(10, "--api-key", "s3cret");
    flagged.server.child.kill("SIGTERM");
    await flagged.server.exited;
    expect(flagged.server.stderr()).toMatch(/warning: --api-key is visible .*; set CTXEMBED_API_KEY instead/);

    const server = startCli(["serve", "--model", modelFile, "--port", "0", "--threads", "1"], {
      CTXEMBED_API_KEY: "s3cret",
    });
    const [, port] = await server.waitForStderr(/serving .* on http:\/\/127\.0\.0\.1:(\d+)/);
    expect((await fetch(`http://127.0.0.1:${port}/info`)).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${port}/info`, { headers: { authorization: "Bearer s3cret" } })).status).toBe(
      200,
    );
    server.child.kill("SIGTERM");
    await server.exited;
    expect(server.stderr()).not.toMatch(/warning/);
  });
});
