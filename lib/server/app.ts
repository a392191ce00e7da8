// The HTTP server (fastify) around one loaded model: strict JSON bodies, optional API key,
// dynamic batching, metrics, both API families, and errors in the shape each family expects.
// Returned unstarted, so that tests can `inject` requests or listen on port 0.
import Fastify, { type FastifyError, type FastifyInstance } from "fastify";
import type { EmbeddingModel } from "../models/embedding-model.js";
import { bearerCheck } from "./auth.js";
import { EmbeddingService } from "./embedding-service.js";
import { ApiError, errorBody, errorFamily, type ErrorKind } from "./errors.js";
import { useStrictJsonBodies } from "./json-body.js";
import { ServerMetrics } from "./metrics.js";
import { resolveServerOptions, type ServerOptions } from "./options.js";
import type { RouteContext } from "./routes/context.js";
import { openAiRoutes } from "./routes/openai.js";
import { serviceRoutes } from "./routes/service.js";
import { teiRoutes } from "./routes/tei.js";

export interface ServerHooks {
  /** hears about errors that are the server's fault (answered 500) */
  onUnexpectedError?: (error: unknown) => void;
}

const kindOfStatus: Record<number, ErrorKind> = { 400: "malformed", 401: "unauthorized", 404: "not_found", 413: "too_large", 415: "media_type", 422: "validation", 429: "overloaded", 503: "unavailable" };

/** ApiErrors as they are; fastify's own client errors (body too large, bad media type) by their status; anything else is a 500. */
function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const status = (error as FastifyError).statusCode;
  const kind = status === undefined ? undefined : kindOfStatus[status];
  return new ApiError(kind ?? "backend", error instanceof Error ? error.message : String(error));
}

/** Builds the server for `model`; closing it drains in-flight requests (the model stays open: dispose it after). */
export function buildServer(model: EmbeddingModel, serverOptions: ServerOptions = {}, hooks: ServerHooks = {}): FastifyInstance {
  const options = resolveServerOptions(serverOptions);
  const app = Fastify({ bodyLimit: options.bodyLimit, return503OnClosing: true });
  const metrics = new ServerMetrics();
  const service = new EmbeddingService(model, { maxBatchTokens: options.maxBatchTokens, maxRequests: options.maxConcurrentRequests, merge: options.batching }, metrics);
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
      if (request.routeOptions.url !== "/health" && request.routeOptions.url !== "/ready") check(request.headers.authorization);
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
  return app;
}
