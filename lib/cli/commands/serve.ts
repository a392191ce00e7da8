import { Command, Option } from "commander";
import { note } from "../terminal.js";
import { modelOption, openModel, threadsOption, type ModelCommandOptions } from "./model-options.js";

interface ServeCommandOptions extends ModelCommandOptions {
  host: string;
  port: number;
  maxBatchTokens: number;
  maxQueue: number;
  maxClientBatch: number;
  bodyLimit: number;
  batching: boolean;
  autoTruncate?: boolean;
  apiKey?: string;
}

const integer = (value: string) => Number.parseInt(value, 10);

export function serveCommand(): Command {
  return new Command("serve")
    .description("serve embeddings over HTTP: OpenAI-compatible /v1/embeddings and text-embeddings-inference-compatible /embed, /embed_all, /tokenize")
    .addOption(modelOption())
    .option("--host <address>", "address to listen on (loopback unless told otherwise)", "127.0.0.1")
    .addOption(new Option("-p, --port <port>", "TCP port; 0 picks a free one").argParser(integer).default(8080))
    .addOption(new Option("--max-batch-tokens <n>", "token budget of one merged model call").argParser(integer).default(16_384))
    .addOption(new Option("--max-queue <n>", "concurrent requests admitted (waiting or running); more are answered 429").argParser(integer).default(512))
    .addOption(new Option("--max-client-batch <n>", "most inputs in one request; more are answered 422").argParser(integer).default(32))
    .addOption(new Option("--body-limit <bytes>", "largest request body; larger is answered 413").argParser(integer).default(2_000_000))
    .addOption(new Option("--api-key <key>", "require Authorization: Bearer <key> on every route but /health").env("CTXEMBED_API_KEY"))
    .option("--auto-truncate", "cut over-long inputs when a request does not say; without it they are answered 422")
    .option("--no-batching", "give every request its own model call (to measure what batching brings)")
    .addOption(threadsOption())
    .addHelpText(
      "after",
      `
Routes: POST /v1/embeddings (OpenAI), POST /embed, /embed_all, /tokenize (text-embeddings-inference),
GET /health, /ready (503 while at --max-queue), /info, /metrics (Prometheus). Concurrent requests
with the same options are merged into shared model calls. The bound address is printed on standard error; SIGTERM or SIGINT stops
accepting connections, answers the requests in flight, and exits 0.

Examples:
  $ ctxembed serve --model all-minilm-l6-v2
  $ ctxembed serve --model ./my-model.gguf --port 9000 --max-batch-tokens 8192
  $ CTXEMBED_API_KEY=secret ctxembed serve --host 0.0.0.0 --port 8080
  $ curl -s localhost:8080/embed -H 'content-type: application/json' -d '{"inputs": ["a sentence"]}'`,
    )
    .action(async (options: ServeCommandOptions) => {
      // Loaded here, not at the top: every other command would otherwise pay for loading fastify.
      const { buildServer } = await import("../../server/app.js");
      const model = await openModel(options);
      const app = buildServer(
        model,
        {
          maxBatchTokens: options.maxBatchTokens,
          maxConcurrentRequests: options.maxQueue,
          maxClientBatch: options.maxClientBatch,
          bodyLimit: options.bodyLimit,
          batching: options.batching,
          autoTruncate: options.autoTruncate === true,
          ...(options.apiKey ? { apiKey: options.apiKey } : {}),
        },
        { onUnexpectedError: (error) => note(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`) },
      );
      const address = await app.listen({ host: options.host, port: options.port });
      note(`serving ${model.info.name} on ${address}`);
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          note(`${signal}: draining requests in flight`);
          resolve();
        };
        process.once("SIGTERM", () => stop("SIGTERM"));
        process.once("SIGINT", () => stop("SIGINT"));
      });
      await app.close();
      await model.dispose();
      note("stopped");
    });
}
