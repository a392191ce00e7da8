// Shared by the server tests: a server on a free loopback port and plain JSON requests to it.
import type { FastifyInstance } from "fastify";
import type { EmbeddingModel } from "../../../lib/embedding/embedding-model.js";
import { buildServer } from "../../../lib/server/app.js";
import type { ServerOptions } from "../../../lib/server/options.js";

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  /** errors the server answered 500 for: a test expects none */
  unexpected: unknown[];
}

export async function startServer(model: EmbeddingModel, options: ServerOptions = {}): Promise<RunningServer> {
  const unexpected: unknown[] = [];
  const app = buildServer(model, options, { onUnexpectedError: (error) => unexpected.push(error) });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  return { app, url, unexpected };
}

export async function postJson(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text.length > 0 ? JSON.parse(text) : undefined };
}
