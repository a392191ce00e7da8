import { Command, InvalidArgumentError, Option } from "commander";
import type { FastifyInstance } from "fastify";
import { note } from "../terminal.js";
import { modelOption, openModel, threadsOption, type ModelCommandOptions } from "./model-options.js";
import {
  addPromptOptions,
  describePrompt,
  promptOptionsFor,
  readPromptChoice,
  type PromptCommandOptions,
} from "./prompt-options.js";
import { loadVectorIndex } from "./search.js";
import { positiveInteger } from "./source-options.js";

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
  drainTimeout: number;
  maxResponseBytes: number;
  showModelPath?: boolean;
  index?: string;
  indexRefresh: number;
}

const portNumber = (value: string): number => {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new InvalidArgumentError("expected a port number from 0 to 65535");
  return port;
};

const positiveSeconds = (value: string): number => {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new InvalidArgumentError("expected a positive number of seconds");
  return seconds;
};

const nonNegativeSeconds = (value: string): number => {
  const seconds = Number(value);
  if (value.trim() === "" || !Number.isFinite(seconds) || seconds < 0)
    throw new InvalidArgumentError("expected a number of seconds, 0 or more");
  return seconds;
};

const signalNumbers = { SIGTERM: 15, SIGINT: 2 } as const;

/** Resolves with the first stop signal; a second one ends the process at once (128 + its number). */
function stopSignal(): Promise<keyof typeof signalNumbers> {
  return new Promise((resolve) => {
    const names = Object.keys(signalNumbers) as (keyof typeof signalNumbers)[];
    let received = false;
    for (const name of names) {
      process.on(name, () => {
        if (received) process.exit(128 + signalNumbers[name]);
        received = true;
        resolve(name);
      });
    }
  });
}

/**
 * Stops accepting, ends connections that hold no request in flight, and waits up to `seconds`
 * for the rest; resolves to false when the deadline came first (the connections still open are
 * then closed unanswered).
 */
async function drain(app: FastifyInstance, seconds: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"deadline">(
    (resolve) => (timer = setTimeout(() => resolve("deadline"), seconds * 1000)),
  );
  const outcome = await Promise.race([app.close().then(() => "drained" as const), deadline]);
  clearTimeout(timer);
  if (outcome === "drained") return true;
  app.server.closeAllConnections();
  return false;
}

export function serveCommand(): Command {
  return addPromptOptions(new Command("serve"), "each request's inputs (unless the request names a prompt_name)")
    .description(
      "serve embeddings over HTTP: OpenAI-compatible /v1/embeddings and text-embeddings-inference-compatible /embed, /embed_all, /tokenize",
    )
    .addOption(modelOption())
    .option("--host <address>", "address to listen on (loopback unless told otherwise)", "127.0.0.1")
    .addOption(new Option("-p, --port <port>", "TCP port; 0 picks a free one").argParser(portNumber).default(8080))
    .addOption(
      new Option("--max-batch-tokens <n>", "token budget of one merged model call")
        .argParser(positiveInteger)
        .default(16_384),
    )
    .addOption(
      new Option(
        "--max-queue <n>",
        "concurrent requests admitted (waiting or running, /tokenize included); more are answered 429",
      )
        .argParser(positiveInteger)
        .default(512),
    )
    .addOption(
      new Option("--max-client-batch <n>", "most inputs in one request; more are answered 422")
        .argParser(positiveInteger)
        .default(32),
    )
    .addOption(
      new Option("--body-limit <bytes>", "largest request body; larger is answered 413")
        .argParser(positiveInteger)
        .default(2_000_000),
    )
    .addOption(
      new Option(
        "--max-response-bytes <bytes>",
        "largest /embed_all or /tokenize answer; a request that would get more is answered 413",
      )
        .argParser(positiveInteger)
        .default(16 << 20),
    )
    .addOption(
      new Option(
        "--api-key <key>",
        "require Authorization: Bearer <key> on every route but /health; prefer CTXEMBED_API_KEY: a flag is visible in ps",
      ).env("CTXEMBED_API_KEY"),
    )
    .option("--auto-truncate", "cut over-long inputs when a request does not say; without it they are answered 422")
    .option("--no-batching", "give every request its own model call (to measure what batching brings)")
    .addOption(
      new Option("--drain-timeout <seconds>", "on SIGTERM/SIGINT, how long requests in flight may take to finish")
        .argParser(positiveSeconds)
        .default(10),
    )
    .option(
      "--show-model-path",
      "report the model file's path in /info (hidden by default: it tells any client about the host's file system)",
    )
    .option(
      "--index <dir>",
      "also answer POST /search over this index (built by `ctxembed index build`) with its own model",
    )
    .addOption(
      new Option(
        "--index-refresh <seconds>",
        "with --index: how old the view of the index may get before a search looks for rows added since (0: every search)",
      )
        .argParser(nonNegativeSeconds)
        .default(1),
    )
    .addOption(threadsOption())
    .addHelpText(
      "after",
      `
Routes: POST /v1/embeddings (OpenAI), POST /embed, /embed_all, /tokenize (text-embeddings-inference),
GET /health, /ready (503 while at --max-queue), /info, /metrics (Prometheus); with --index, POST /search {query | query_context + find,
k, filter, phrases, table, exact}, answered with the hits \`ctxembed search\` prints, as one array.
Concurrent requests with the same options are merged into shared model calls. The bound address is
printed on standard error.

Prompts (docs/prompting.md): --prompt, --task and --examples set the prompt of requests that name
none; a request's "prompt_name" picks another preset (the server's --task and --examples go with
the server's own preset only) and "role": "query" | "document" the form, on /embed, /embed_all,
/tokenize and /v1/embeddings (an extra body field there).

Shutdown: SIGTERM or SIGINT stops accepting connections, closes at once every connection with no
request in flight (idle, or headers or body still arriving), answers the requests in flight within
--drain-timeout seconds and exits 0; requests still running at the deadline are cut off (exit 1).
A second signal exits at once. Docs: docs/server.md.

Examples:
  $ ctxembed serve --model all-minilm-l6-v2
  $ ctxembed serve --model ./my-model.gguf --port 9000 --max-batch-tokens 8192
  $ CTXEMBED_API_KEY=secret ctxembed serve --host 0.0.0.0 --port 8080
  $ curl -s localhost:8080/embed -H 'content-type: application/json' -d '{"inputs": ["a sentence"]}'
  $ ctxembed serve --model gemma-3-270m --prompt prompteol --examples demo.jsonl
  $ curl -s localhost:8080/embed -H 'content-type: application/json' -d '{"inputs": ["a passage"], "role": "document"}'
  $ ctxembed serve --index ./idx
  $ curl -s localhost:8080/search -H 'content-type: application/json' -d '{"query": "tax cuts", "k": 5}'`,
    )
    .action(async (options: ServeCommandOptions, command: Command) => {
      if (command.getOptionValueSource("apiKey") === "cli") {
        note("warning: --api-key is visible to every user of this machine (ps, /proc); set CTXEMBED_API_KEY instead");
      }
      const prompt = await readPromptChoice(options, command);
      // Loaded here, not at the top: every other command would otherwise pay for loading fastify.
      const { buildServer } = await import("../../server/app.js");
      const indexes =
        options.index === undefined
          ? []
          : await (await loadVectorIndex()).openIndexTables(options.index, { refreshSeconds: options.indexRefresh });
      const modelGiven = command.getOptionValueSource("model") !== "default";
      // Without --model, the index's own model; with one, it must be that model (checked below).
      const model = await openModel(
        indexes[0] && !modelGiven ? { ...options, model: indexes[0].settings.model.reference } : options,
      );
      const { requireIndexModel } = await import("../../vector-index/settings.js");
      for (const index of indexes)
        await requireIndexModel(index.settings, model, `${index.directory} (table "${index.tableName}")`);
      const app = buildServer(
        model,
        {
          maxBatchTokens: options.maxBatchTokens,
          maxConcurrentRequests: options.maxQueue,
          maxClientBatch: options.maxClientBatch,
          bodyLimit: options.bodyLimit,
          batching: options.batching,
          autoTruncate: options.autoTruncate === true,
          maxResponseBytes: options.maxResponseBytes,
          exposeModelPath: options.showModelPath === true,
          ...(options.apiKey ? { apiKey: options.apiKey } : {}),
          ...(prompt ? { prompt: promptOptionsFor(prompt, model) } : {}),
        },
        {
          onUnexpectedError: (error) =>
            note(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`),
        },
        indexes,
      );
      const stopped = stopSignal();
      const address = await app.listen({ host: options.host, port: options.port });
      note(`serving ${model.info.name} on ${address}${prompt ? `, ${describePrompt(prompt)} by default` : ""}`);
      note(`${await stopped}: draining requests in flight (at most ${options.drainTimeout} s)`);
      const drained = await drain(app, options.drainTimeout);
      await Promise.all(indexes.map((index) => index.close()));
      if (!drained) {
        note(`stopped: the drain deadline of ${options.drainTimeout} s cut off requests still in flight`);
        process.exit(1);
      }
      await model.dispose();
      note("stopped");
    });
}
