// What every embedding route shares: prompts, token counts, the too-long check, and the way
// into the batcher. Lengths are checked here, per request, before batching, so that one
// request's over-long input is that request's 422 and never a failed batch for its neighbours.
//
// Prompts are applied here too, before batching: the texts go to the batcher already in their
// prompts (demonstrations retrieved once, token counts exact), with only what the preset says
// about pooling and the end token left for the model call. Requests whose presets agree on those
// therefore share a batch, and the library lays out each batch so that the prompts with a
// common start (an instruction, the same demonstrations) share that prefix's evaluation.
import type { EmbedOptions } from "../embedding/embed-options.js";
import type { Embedding, EmbeddingModel } from "../embedding/embedding-model.js";
import { applyPrompt, planPrompt, type PromptOptions, type PromptPlan, type PromptRole } from "../prompts/prompting.js";
import { querySlots } from "../prompts/templates.js";
import type { TokenSpan } from "../tokens/offsets.js";
import { Batcher, type BatcherOptions } from "./batcher.js";
import { maxJsonBytesPerFloat, responseTooLarge } from "./bounded-json.js";
import { ApiError, validated } from "./errors.js";
import type { ServerMetrics } from "./metrics.js";

/** Which prompt a request asks for: a preset by name (default: the server's prompt), in the query or document form. */
export interface PromptRequest {
  promptName?: string | undefined;
  role?: PromptRole | undefined;
}

export interface EmbedRequest extends PromptRequest {
  texts: string[];
  normalize: boolean;
  /** cut inputs longer than the model's limit (true) or answer 422 (false) */
  truncate: boolean;
  dimensions?: number | undefined;
  /** per-token vectors */
  tokens?: boolean;
}

/** The library's errors about an input (TypeError, RangeError) are the client's: 422. */
async function embedOrReject(model: EmbeddingModel, texts: string[], options: EmbedOptions): Promise<Embedding[]> {
  try {
    return await model.embed(texts, options);
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) throw new ApiError("validation", error.message);
    throw error;
  }
}

export class EmbeddingService {
  readonly batcher: Batcher<EmbedOptions, Embedding>;
  /** the server's prompt, for requests that name none (or name its preset) */
  private readonly defaultPrompt: PromptOptions | undefined;
  private readonly defaultPreset: string | undefined;

  constructor(
    readonly model: EmbeddingModel,
    batching: BatcherOptions,
    metrics: ServerMetrics,
    /** largest answer with per-token vectors, in bytes */
    private readonly maxResponseBytes: number,
    defaultPrompt?: PromptOptions,
  ) {
    this.batcher = new Batcher(
      (texts, options) => embedOrReject(model, texts, options),
      batching,
      (report) => metrics.recordBatch(report),
    );
    this.defaultPrompt = defaultPrompt;
    this.defaultPreset = defaultPrompt === undefined ? undefined : planPrompt(defaultPrompt)!.preset.name;
  }

  /** The name of the server's prompt preset, when it has one. */
  get promptName(): string | undefined {
    return this.defaultPreset;
  }

  async embed(request: EmbedRequest): Promise<Embedding[]> {
    const limit = this.model.maxSequenceTokens;
    const plan = this.promptPlan(request);
    const texts = plan ? await promptedTexts(request.texts, plan) : request.texts;
    const counts = texts.map((text) => this.countTokens(text, true));
    if (!request.truncate) {
      const index = counts.findIndex((count) => count > limit);
      if (index >= 0) {
        throw new ApiError(
          "validation",
          `input ${index} has ${counts[index]} tokens, more than the model's limit of ${limit}; send truncate: true to cut it`,
        );
      }
    }
    const kept = counts.map((count) => Math.min(count, limit));
    // Refused before the model runs: the vectors of every token, at the most bytes each can take.
    if (
      request.tokens &&
      kept.reduce((sum, count) => sum + count, 0) * (this.model.info.dimensions * maxJsonBytesPerFloat + 3) >
        this.maxResponseBytes
    ) {
      throw responseTooLarge("the per-token vectors of these inputs", this.maxResponseBytes);
    }
    const options: EmbedOptions = {
      normalize: request.normalize,
      truncate: request.truncate,
      ...(request.dimensions === undefined ? {} : { dimensions: request.dimensions }),
      ...(request.tokens ? { tokens: true } : {}),
      // The texts are prompted already: what is left of the preset is its pooling and end token.
      ...(plan
        ? {
            prompt: {
              template: {
                name: plan.preset.name,
                query: "{query}",
                pooling: plan.preset.pooling,
                appendEos: plan.preset.appendEos,
              },
            },
          }
        : {}),
    };
    return this.batcher.submit(texts, kept, options);
  }

  /** The texts as the model sees them: inside the request's prompt when one applies. */
  async promptedTexts(texts: string[], request: PromptRequest): Promise<string[]> {
    const plan = this.promptPlan(request);
    return plan ? promptedTexts(texts, plan) : texts;
  }

  /** Tokens of a text given by `promptedTexts`. */
  tokenize(prompted: string, addSpecial: boolean): TokenSpan[] {
    return validated(() => this.model.tokenize(prompted, { addSpecial }));
  }

  /** The number of tokens `tokenize` would give. */
  countTokens(prompted: string, addSpecial: boolean): number {
    return validated(() => this.model.countTokens(prompted, { addSpecial }));
  }

  /**
   * The prompt of a request: the preset it names, else the server's prompt. The server's
   * instruction and demonstrations go with the server's own preset only: they are written for
   * its format (PromptEOL's one-word answers are no bge-en-icl responses).
   */
  private promptPlan({ promptName, role }: PromptRequest): PromptPlan | undefined {
    const base =
      promptName === undefined || promptName === this.defaultPreset ? this.defaultPrompt : { template: promptName };
    // A role without any prompt changes nothing: the text is embedded as it is, as either.
    if (base === undefined) return undefined;
    let plan: PromptPlan;
    try {
      plan = validated(() => planPrompt({ ...base, ...(role === undefined ? {} : { role }) }))!;
    } catch (error) {
      if (error instanceof ApiError && base !== this.defaultPrompt) error.message = `prompt_name: ${error.message}`;
      throw error;
    }
    if (plan.role === "query" && querySlots(plan.preset).task && plan.task === undefined) {
      const serverSide =
        this.defaultPreset === undefined
          ? "this server has no prompt"
          : `this server's instruction is for ${this.defaultPreset}`;
      throw new ApiError(
        "validation",
        `prompt_name ${JSON.stringify(plan.preset.name)} needs an instruction for its {task} slot, and ${serverSide} (ctxembed serve --prompt ${plan.preset.name} --task TEXT)`,
      );
    }
    return plan;
  }
}

/** The texts in their prompts; the library's complaints about them are the client's (422). */
async function promptedTexts(texts: string[], plan: PromptPlan): Promise<string[]> {
  try {
    return await applyPrompt(texts, plan);
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) throw new ApiError("validation", error.message);
    throw error;
  }
}
