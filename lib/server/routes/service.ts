// Operations routes: liveness, what is served with which limits, and Prometheus metrics.
import type { FastifyInstance } from "fastify";
import type { ServerMetrics } from "../metrics.js";
import type { RouteContext } from "./context.js";

export function serviceRoutes(
  app: FastifyInstance,
  { service, options, modelName }: RouteContext,
  metrics: ServerMetrics,
): void {
  // While the server shuts down fastify answers 503 for it, which is what a load balancer needs to see.
  app.get("/health", async () => ({ status: "ok" }));

  // Readiness, for a load balancer in front of replicas: 503 while this one cannot take a request
  // (its model gone, or as many requests admitted as it allows), so that new ones go elsewhere.
  app.get("/ready", async (_request, reply) => {
    const reason = service.model.disposed
      ? "the model is not loaded"
      : service.batcher.inFlight >= options.maxConcurrentRequests
        ? `${service.batcher.inFlight} requests in flight, the most this server admits`
        : undefined;
    if (reason) return reply.status(503).send({ status: "not_ready", reason });
    return {
      status: "ready",
      model: modelName,
      in_flight: service.batcher.inFlight,
      max_concurrent_requests: options.maxConcurrentRequests,
    };
  });

  app.get("/info", async () => {
    const info = service.model.info;
    return {
      model_id: modelName,
      ...(options.exposeModelPath ? { model_path: info.path } : {}),
      model_type: { embedding: { pooling: info.defaultPooling } },
      architecture: info.architecture,
      dimensions: info.dimensions,
      max_input_length: service.model.maxSequenceTokens,
      max_batch_tokens: options.maxBatchTokens,
      max_concurrent_requests: options.maxConcurrentRequests,
      max_client_batch_size: options.maxClientBatch,
      batching: options.batching,
      auto_truncate: options.autoTruncate,
      ...(service.promptName === undefined ? {} : { default_prompt_name: service.promptName }),
    };
  });

  app.get("/metrics", async (_request, reply) => reply.type(metrics.contentType).send(await metrics.text()));
}
