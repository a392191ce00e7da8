// What every embedding route shares: prompt presets, token counts, the too-long check, and the
// way into the batcher. Lengths are checked here, per request, before batching, so that one
// request's over-long input is that request's 422 and never a failed batch for its neighbours.
import type { EmbedOptions } from "../models/embed-options.js";
import type { Embedding, EmbeddingModel } from "../models/embedding-model.js";
import { buildQuery, findPreset } from "../prompts/templates.js";
import type { TokenSpan } from "../tokens/offsets.js";
import { Batcher, type BatcherOptions } from "./batcher.js";
import { maxJsonBytesPerFloat, responseTooLarge } from "./bounded-json.js";
import { ApiError, validated } from "./errors.js";
import type { ServerMetrics } from "./metrics.js";

export interface EmbedRequest {
  texts: string[];
  normalize: boolean;
  /** cut inputs longer than the model's limit (true) or answer 422 (false) */
  truncate: boolean;
  dimensions?: number | undefined;
  /** a prompt preset (lib/prompts/templates.ts) each text is put in, as a query */
  promptName?: string | undefined;
  /** per-token vectors */
  tokens?: boolean;
}

interface TokenizeOptions {
  addSpecial: boolean;
  /** a prompt preset the text is put in, as a query */
  promptName?: string | undefined;
}

const prompt = (text: string, promptName: string | undefined): string => (promptName === undefined ? text : buildQuery(findPreset(promptName), { query: text }));

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

  constructor(
    readonly model: EmbeddingModel,
    batching: BatcherOptions,
    metrics: ServerMetrics,
    /** largest answer with per-token vectors, in bytes */
    private readonly maxResponseBytes: number,
  ) {
    this.batcher = new Batcher((texts, options) => embedOrReject(model, texts, options), batching, (report) => metrics.recordBatch(report));
  }

  async embed(request: EmbedRequest): Promise<Embedding[]> {
    const limit = this.model.maxSequenceTokens;
    const counts = request.texts.map((text) => this.countTokens(text, { addSpecial: true, promptName: request.promptName }));
    if (!request.truncate) {
      const index = counts.findIndex((count) => count > limit);
      if (index >= 0) {
        throw new ApiError("validation", `input ${index} has ${counts[index]} tokens, more than the model's limit of ${limit}; send truncate: true to cut it`);
      }
    }
    const kept = counts.map((count) => Math.min(count, limit));
    // Refused before the model runs: the vectors of every token, at the most bytes each can take.
    if (request.tokens && kept.reduce((sum, count) => sum + count, 0) * (this.model.info.dimensions * maxJsonBytesPerFloat + 3) > this.maxResponseBytes) {
      throw responseTooLarge("the per-token vectors of these inputs", this.maxResponseBytes);
    }
    const options: EmbedOptions = {
      normalize: request.normalize,
      truncate: request.truncate,
      ...(request.dimensions === undefined ? {} : { dimensions: request.dimensions }),
      ...(request.tokens ? { tokens: true } : {}),
      ...(request.promptName === undefined ? {} : { prompt: { template: request.promptName } }),
    };
    return this.batcher.submit(request.texts, kept, options);
  }

  /** Tokens of `text` as the model sees them, inside the prompt preset when one is named: `text` is then the prompted text. */
  tokenize(text: string, options: TokenizeOptions): { text: string; tokens: TokenSpan[] } {
    return validated(() => {
      const prompted = prompt(text, options.promptName);
      return { text: prompted, tokens: this.model.tokenize(prompted, { addSpecial: options.addSpecial }) };
    });
  }

  /** The number of tokens `tokenize` would give. */
  countTokens(text: string, options: TokenizeOptions): number {
    return validated(() => this.model.countTokens(prompt(text, options.promptName), { addSpecial: options.addSpecial }));
  }
}
