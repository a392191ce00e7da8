// The HTTP server (fastify) around one loaded model: strict JSON bodies, optional API key,
// dynamic batching, metrics, both API families, and errors in the shape each family expects.
// Returned unstarted, so that tests can `inject` requests or listen on port 0.
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from "fastify";
import type { EmbeddingModel } from "../embedding/embedding-model.js";
import type { VectorIndex } from "../vector-index/vector-index.js";
import { bearerCheck } from "./auth.js";
import { EmbeddingService } from "./embedding-service.js";
import { ApiError, errorBody, errorFamily, type ErrorKind } from "./errors.js";
import { useStrictJsonBodies } from "./json-body.js";
import { ServerMetrics } from "./metrics.js";
import { resolveServerOptions, type ServerOptions } from "./options.js";
import type { RouteContext } from "./routes/context.js";
import { openAiRoutes } from "./routes/openai.js";
import { searchRoutes } from "./routes/search.js";
import { serviceRoutes } from "./routes/service.js";
import { teiRoutes } from "./routes/tei.js";

export interface ServerHooks {
  /** hears about errors that are the server's fault (answered 500) */
  onUnexpectedError?: (error: unknown) => void;
}

const kindOfStatus: Record<number, ErrorKind> = {
  400: "malformed",
  401: "unauthorized",
  404: "not_found",
  413: "too_large",
  415: "media_type",
  422: "validation",
  429: "overloaded",
  503: "unavailable",
};

/** ApiErrors as they are; fastify's own client errors (body too large, bad media type) by their status; anything else is a 500. */
function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const status = (error as FastifyError).statusCode;
  const kind = status === undefined ? undefined : kindOfStatus[status];
  return new ApiError(kind ?? "backend", error instanceof Error ? error.message : String(error));
}

/**
 * Node's own refusals (headers too large: 431, unparsable HTTP: 400, request timeouts: 408) in the
 * documented error body. They come before there is a request, hence before any route's family:
 * they use text-embeddings-inference's shape, the default one.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === "ECONNRESET" || socket.destroyed || !socket.writable) return;
  const status = error.code === "HPE_HEADER_OVERFLOW" ? 431 : error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
  const message =
    status === 431
      ? "the request headers are too large"
      : status === 408
        ? "the request took too long to arrive"
        : `the request is not valid HTTP (${error.code ?? error.message})`;
  const body = JSON.stringify(errorBody(new ApiError(status === 431 ? "too_large" : "malformed", message), "tei"));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/**
 * Closing must not wait for clients that never finish a request: a bare connection, headers or a
 * body cut short. Requests count as in flight once their body has been read (preValidation);
 * when closing starts, every connection without one is ended at once, and the others end after
 * their answer (Connection: close), so that close() waits only for the work it can finish.
 */
function closeUnansweredConnections(app: FastifyInstance): void {
  const answering = new Map<Socket, number>();
  const counted = new WeakSet<FastifyRequest>();
  const connections = new Set<Socket>();
  app.server.on("connection", (socket: Socket) => {
    connections.add(socket);
    socket.once("close", () => {
      connections.delete(socket);
      answering.delete(socket);
    });
  });
  app.addHook("preValidation", async (request) => {
    counted.add(request);
    answering.set(request.raw.socket, (answering.get(request.raw.socket) ?? 0) + 1);
  });
  app.addHook("onResponse", async (request) => {
    if (!counted.has(request)) return;
    const socket = request.raw.socket;
    answering.set(socket, (answering.get(socket) ?? 1) - 1);
  });
  app.addHook("preClose", async () => {
    for (const socket of connections) if (!answering.get(socket)) socket.destroy();
  });
}

/**
 * Builds the server for `model`; closing it drains in-flight requests (the model stays open:
 * dispose it after). With `indexes` (tables built with this model) it also answers POST /search.
 */
export function buildServer(
  model: EmbeddingModel,
  serverOptions: ServerOptions = {},
  hooks: ServerHooks = {},
  indexes: readonly VectorIndex[] = [],
): FastifyInstance {
  const options = resolveServerOptions(serverOptions);
  const app = Fastify({
    bodyLimit: options.bodyLimit,
    return503OnClosing: true,
    clientErrorHandler: answerClientError,
  });
  closeUnansweredConnections(app);
  const metrics = new ServerMetrics();
  const batching = {
    maxBatchTokens: options.maxBatchTokens,
    maxRequests: options.maxConcurrentRequests,
    merge: options.batching,
  };
  const service = new EmbeddingService(model, batching, metrics, options.maxResponseBytes, options.prompt);
  metrics.watchQueue(
    () => service.batcher.waiting,
    () => service.batcher.inFlight,
  );
  const context: RouteContext = { service, options, modelName: options.modelName ?? model.info.name };

  useStrictJsonBodies(app);
  if (options.apiKey !== undefined) {
    const check = bearerCheck(options.apiKey);
    // /health and /ready stay open: load balancers and orchestrators probe them without credentials.
    app.addHook("onRequest", async (request) => {
      if (request.routeOptions.url !== "/health" && request.routeOptions.url !== "/ready")
        check(request.headers.authorization);
    });
  }
  app.addHook("onResponse", async (request, reply) => {
    metrics.recordRequest(request.routeOptions.url ?? "unmatched", reply.statusCode, reply.elapsedTime / 1000);
  });
  // Requests in flight when closing starts are answered with Connection: close; otherwise their
  // keep-alive connections would hold server.close() open until the keep-alive timeout.
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onSend", async (_request, reply) => {
    if (closing) reply.header("connection", "close");
  });
  app.addHook("onClose", () => service.batcher.close());

  app.setErrorHandler((error, request, reply) => {
    const apiError = asApiError(error);
    if (apiError.kind === "backend") hooks.onUnexpectedError?.(error);
    return reply.status(apiError.status).send(errorBody(apiError, errorFamily(request.url)));
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new ApiError("not_found", `no route ${request.method} ${request.url.split("?")[0]}`);
    return reply.status(404).send(errorBody(error, errorFamily(request.url)));
  });

  openAiRoutes(app, context);
  teiRoutes(app, context);
  serviceRoutes(app, context, metrics);
  if (indexes.length > 0) searchRoutes(app, model, indexes);
  return app;
}
