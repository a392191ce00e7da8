import { Command, Option } from "commander";
import { note } from "../terminal.js";
import { modelOption, openModel, threadsOption, type ModelCommandOptions } from "./model-options.js";
import { addPromptOptions, describePrompt, promptOptionsFor, readPromptChoice, type PromptCommandOptions } from "./prompt-options.js";

interface ServeCommandOptions extends ModelCommandOptions, PromptCommandOptions {
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
  return addPromptOptions(new Command("serve"), "each request's inputs (unless the request names a prompt_name)")
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
GET /health, /info, /metrics (Prometheus). Concurrent requests with the same options are merged
into shared model calls.

Prompts (docs/prompting.md): --prompt, --task and --examples set the prompt of requests that name
none; a request's "prompt_name" picks another preset (the server's --task and --examples go with
the server's own preset only) and "role": "query" | "document" the form, on /embed, /embed_all,
/tokenize and /v1/embeddings (an extra body field there). The bound address is printed on standard error; SIGTERM or SIGINT stops
accepting connections, answers the requests in flight, and exits 0.

Examples:
  $ ctxembed serve --model all-minilm-l6-v2
  $ ctxembed serve --model ./my-model.gguf --port 9000 --max-batch-tokens 8192
  $ CTXEMBED_API_KEY=secret ctxembed serve --host 0.0.0.0 --port 8080
  $ curl -s localhost:8080/embed -H 'content-type: application/json' -d '{"inputs": ["a sentence"]}'
  $ ctxembed serve --model gemma-3-270m --prompt prompteol --examples demo.jsonl
  $ curl -s localhost:8080/embed -H 'content-type: application/json' -d '{"inputs": ["a passage"], "role": "document"}'`,
    )
    .action(async (options: ServeCommandOptions, command: Command) => {
      const prompt = await readPromptChoice(options, command);
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
          ...(prompt ? { prompt: promptOptionsFor(prompt, model) } : {}),
        },
        { onUnexpectedError: (error) => note(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`) },
      );
      const address = await app.listen({ host: options.host, port: options.port });
      note(`serving ${model.info.name} on ${address}${prompt ? `, ${describePrompt(prompt)} by default` : ""}`);
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
