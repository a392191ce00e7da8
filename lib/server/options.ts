// The server's settings, their defaults (those of text-embeddings-inference where it has one),
// and their checks.
import { planPrompt, type PromptOptions } from "../prompts/prompting.js";
import { requireBoolean, requireInteger, requireKnownKeys, requireOptions } from "../util/validate.js";

export interface ServerOptions {
  /** token budget of one merged model call; default 16,384 */
  maxBatchTokens?: number;
  /** requests admitted at once (waiting or running); more are answered 429; default 512 */
  maxConcurrentRequests?: number;
  /** most inputs in one request; default 32 */
  maxClientBatch?: number;
  /** merge concurrent requests into shared model calls; default true */
  batching?: boolean;
  /** largest request body in bytes, larger is 413; default 2,000,000 */
  bodyLimit?: number;
  /** cut over-long inputs when a request does not say (OpenAI requests never say); default false: 422 */
  autoTruncate?: boolean;
  /** require `Authorization: Bearer <apiKey>` on every route but /health */
  apiKey?: string;
  /** the model name reported by /info and OpenAI responses; default: the model's own name */
  modelName?: string;
  /** largest /embed_all or /tokenize response in bytes; a request that would get more is answered 413; default 16 MiB */
  maxResponseBytes?: number;
  /** report the model file's path in /info; default false (it tells clients about the host's files) */
  exposeModelPath?: boolean;
  /**
   * the prompt of requests that name none (TEI's default prompt), with its instruction and
   * demonstrations; a request's prompt_name picks another preset, its role the query or document form
   */
  prompt?: PromptOptions;
}

type OptionalSettings = "apiKey" | "modelName" | "prompt";
export type ResolvedServerOptions = Required<Omit<ServerOptions, OptionalSettings>> &
  Pick<ServerOptions, OptionalSettings>;

const optionKeys = [
  "maxBatchTokens",
  "maxConcurrentRequests",
  "maxClientBatch",
  "batching",
  "bodyLimit",
  "autoTruncate",
  "apiKey",
  "modelName",
  "maxResponseBytes",
  "exposeModelPath",
  "prompt",
] as const;

export function resolveServerOptions(options: ServerOptions = {}): ResolvedServerOptions {
  const given = requireOptions(options, "server options");
  requireKnownKeys(given, "server options", optionKeys);
  const integer = (key: keyof ServerOptions, fallback: number) =>
    given[key] === undefined ? fallback : requireInteger(given[key], key, 1);
  const flag = (key: keyof ServerOptions, fallback: boolean) =>
    given[key] === undefined ? fallback : requireBoolean(given[key], key);
  const text = (key: keyof ServerOptions) => {
    const value = given[key];
    if (value !== undefined && (typeof value !== "string" || value.length === 0))
      throw new TypeError(`${key} must be a non-empty string`);
    return value as string | undefined;
  };
  const apiKey = text("apiKey");
  const modelName = text("modelName");
  // Checked now, so that a wrong default prompt stops the server from starting rather than failing every request.
  planPrompt(given.prompt);
  return {
    maxBatchTokens: integer("maxBatchTokens", 16_384),
    maxConcurrentRequests: integer("maxConcurrentRequests", 512),
    maxClientBatch: integer("maxClientBatch", 32),
    batching: flag("batching", true),
    bodyLimit: integer("bodyLimit", 2_000_000),
    autoTruncate: flag("autoTruncate", false),
    maxResponseBytes: integer("maxResponseBytes", 16 << 20),
    exposeModelPath: flag("exposeModelPath", false),
    ...(apiKey === undefined ? {} : { apiKey }),
    ...(modelName === undefined ? {} : { modelName }),
    ...(given.prompt === undefined ? {} : { prompt: given.prompt as PromptOptions }),
  };
}
