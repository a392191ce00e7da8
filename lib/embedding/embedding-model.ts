import { statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { packBatches, packPrefixBatches, type PrefixBatch } from "./batching.js";
import { quantize, truncateDimensions, type QuantizedVector } from "../output/quantize-vectors.js";
import { DemonstrationSelector } from "../prompts/demonstrations.js";
import type { Demonstration } from "../prompts/templates.js";
import { readGgufHeader } from "../gguf/reader.js";
import { combinedWidth, combineLayers } from "./layers.js";
import { nativeAddon, NativePooling, type NativeEmbeddingContext, type NativeModel } from "../native/addon.js";
import { l2Normalize } from "../vectors/similarity.js";
import { poolRows, type PoolingMode } from "../vectors/pooling.js";
import { SerialQueue } from "../util/serial-queue.js";
import { alignTokens, type TokenSpan } from "../tokens/offsets.js";
import { specialFrame } from "../tokens/special-frame.js";
import { characterRange, resolveSpan, rowPoolingOf, type ResolvedSpan } from "../tokens/spans.js";
import { truncateTokens } from "../tokens/truncate.js";
import { planWindows, type WindowPlan } from "../tokens/windows.js";
import { requireBoolean, requireInteger, requireKnownKeys, requireOptions, requireText } from "../util/validate.js";
import {
  embedSettings,
  normalizeInput,
  type EmbedInput,
  type EmbedOptions,
  type EmbedSettings,
  type NormalizedInput,
} from "./embed-options.js";
import { modelInfo, refuseUnembeddableArchitecture, type ModelInfo } from "./model-info.js";
import { repackByDefault } from "./weight-repacking.js";
import {
  applyPromptAt,
  checkPromptParts,
  planPrompt,
  type PromptBudget,
  type PromptOptions,
  type PromptPlan,
} from "../prompts/prompting.js";
import type { ProgressCallback } from "../hub/pull.js";

export interface LoadOptions {
  /** CPU threads per forward pass; default: every core */
  threads?: number;
  /** layers to offload to a GPU in a CUDA build; default 0 */
  gpuLayers?: number;
  /** longest input in tokens; default: the model's own limit (decoders: at most 512) */
  maxSequenceTokens?: number;
  /** token budget of one packed batch; default: 256 for encoders, 512 for decoders, at least maxSequenceTokens */
  batchTokens?: number;
  /**
   * Let llama.cpp repack weights (f32, bf16, Q4_0, Q4_K, Q8_0, ...) for faster CPU matrix kernels.
   * Default: on for a file whose matrices are all f32, bf16 or Q8_0 where the addon has ctxembed's
   * AVX-512 kernels for them (f32; bf16 with AVX512_BF16; Q8_0 with VNNI), which compute a
   * text's vector alike alone and in any batch; off otherwise, since llama.cpp's other repacked
   * kernels take another path for larger batches and a text's vector would depend on what it is
   * batched with (cosine ~0.999 on gemma-3-270m Q4_K_M).
   */
  repackWeights?: boolean;
}

export interface TokenVector extends TokenSpan {
  embedding: Float32Array;
}

export interface SpanVector extends ResolvedSpan {
  embedding: Float32Array;
}

export interface Embedding {
  /** the sentence (or document) vector */
  embedding: Float32Array;
  /** with `precision`: the same vector in that storage form (int8 keeps its scale) */
  quantized?: QuantizedVector;
  /** tokens that were embedded, special tokens included */
  tokenCount: number;
  /** whether the input was cut to maxSequenceTokens */
  truncated: boolean;
  /** with `prompt`: demonstrations left out so that the prompt fits maxSequenceTokens with the whole input */
  examplesDropped?: number;
  /** how many windows a long input was split into (1 when it fitted) */
  windows: number;
  /** with `prompt`: the text the model embedded, the input in its prompt (token ranges index into it; span ranges into the input) */
  promptedText?: string;
  /** with `tokens: true`: every token with its character range and vector */
  tokens?: TokenVector[];
  /** one per requested span, in request order */
  spans?: SpanVector[];
}

/** An input after tokenization: the sequences it sends to the model and how to read them back. */
interface PreparedInput {
  text: string;
  ids: Int32Array;
  truncated: boolean;
  sequences: Int32Array[];
  /** for windowed inputs: where each token's row comes from */
  windowSource?: WindowPlan["source"];
  tokens?: TokenSpan[];
  spans: ResolvedSpan[];
}

/**
 * How sequences go through the model: llama.cpp's in-graph pooling; a causal model's last token
 * alone; or every token's row, for token vectors, spans, layers and pooling done here.
 */
type RunMode = "pooled" | "last-token" | "token-level";

/** What the model returned for one sequence: a pooled vector, or one row per token. */
interface SequenceOutput {
  pooled?: Float32Array;
  rows?: Float32Array;
}

interface ContextSlot {
  context: NativeEmbeddingContext;
  maxSequences: number;
  queue: SerialQueue;
}

const loadOptionKeys = ["threads", "gpuLayers", "maxSequenceTokens", "batchTokens", "repackWeights"] as const;
const nativePoolingOf: Partial<Record<PoolingMode | "none", NativePooling>> = {
  mean: NativePooling.Mean,
  cls: NativePooling.Cls,
  last: NativePooling.Last,
};
// Decoder outputs carry a vocabulary-sized logits row per token; keep their batches modest.
const decoderSequenceCap = 512;
const maxSequencesPerBatch = 256;
// A decoder's per-token contexts give each sequence a KV stream of its own (see context());
// the streams' cells together stay within this many tokens.
const separateStreamCells = 16_384;
// Below this a shared prefix saves less than the extra decode call costs.
const minimumSharedPrefix = 8;

/** What a prompt did to one input: the input as given, and what made way for it. */
interface PromptFit {
  input: string;
  examplesDropped: number;
  cut: boolean;
}

/**
 * The inputs in their prompts, each span resolved in its own input and moved to where the input
 * sits in the prompt (a phrase is found in the input, never in a demonstration).
 */
async function promptedInputs(
  inputs: NormalizedInput[],
  plan: PromptPlan,
  budget: PromptBudget,
): Promise<{ inputs: NormalizedInput[]; inputStarts: number[]; fits: PromptFit[] }> {
  const prompted = await applyPromptAt(
    inputs.map((input) => input.text),
    plan,
    budget,
  );
  return {
    inputs: prompted.map(({ text, inputStart }, i) => ({
      text,
      spans: inputs[i]!.spans.map((request, k) => {
        const [start, end] = characterRange(inputs[i]!.text, request, `inputs[${i}].spans[${k}]`);
        return { start: start + inputStart, end: end + inputStart };
      }),
    })),
    inputStarts: prompted.map((text) => text.inputStart),
    fits: prompted.map(({ examplesDropped, cut }, i) => ({ input: inputs[i]!.text, examplesDropped, cut })),
  };
}

/** A prompted input's result: spans' characters back in the input's own indices, and the prompted text beside them. */
function inInputCoordinates(result: Embedding, promptedText: string, inputStart: number, fit: PromptFit): Embedding {
  const spans = result.spans?.map((span) => ({ ...span, start: span.start - inputStart, end: span.end - inputStart }));
  return {
    ...result,
    promptedText,
    examplesDropped: fit.examplesDropped,
    truncated: result.truncated || fit.cut,
    ...(spans ? { spans } : {}),
  };
}

/** Applies Matryoshka truncation and the storage precision to the sentence vector. */
function storageForm(result: Embedding, settings: EmbedSettings): Embedding {
  const embedding =
    settings.dimensions === undefined
      ? result.embedding
      : truncateDimensions(result.embedding, settings.dimensions, settings.normalize);
  return {
    ...result,
    embedding,
    ...(settings.precision ? { quantized: quantize(embedding, settings.precision) } : {}),
  };
}

/** Rows of a windowed input, each token's row taken from the window that gives it most context. */
function stitchWindows(source: WindowPlan["source"], outputs: SequenceOutput[], width: number): Float32Array {
  const rows = new Float32Array(source.window.length * width);
  for (let t = 0; t < source.window.length; t++) {
    const from = source.row[t]! * width;
    rows.set(outputs[source.window[t]!]!.rows!.subarray(from, from + width), t * width);
  }
  return rows;
}

export class EmbeddingModel {
  readonly info: ModelInfo;
  readonly threads: number;
  readonly maxSequenceTokens: number;
  readonly batchTokens: number;
  private native: NativeModel | undefined;
  private readonly contexts = new Map<string, Promise<ContextSlot>>();
  /** embed calls under way, which dispose() lets finish */
  private readonly running = new Set<Promise<unknown>>();
  /** demonstrations (fixed, or a selector's pool) already checked against maxSequenceTokens */
  private readonly checkedExamples = new WeakSet<object>();
  private disposal: Promise<void> | undefined;

  private constructor(
    native: NativeModel,
    info: ModelInfo,
    threads: number,
    maxSequenceTokens: number,
    batchTokens: number,
  ) {
    this.native = native;
    this.info = info;
    this.threads = threads;
    this.maxSequenceTokens = maxSequenceTokens;
    this.batchTokens = batchTokens;
  }

  /** Loads a GGUF file. The header is checked first, so a truncated or foreign file gets an error, not a crash. */
  static async load(path: string, options: LoadOptions = {}): Promise<EmbeddingModel> {
    const given = requireOptions(options, "load options");
    requireKnownKeys(given, "load options", loadOptionKeys);
    if (typeof path !== "string" || path.length === 0) throw new TypeError("the model must be a GGUF path");
    const threads =
      given.threads === undefined ? availableParallelism() : requireInteger(given.threads, "threads", 1, 1024);
    const gpuLayers = given.gpuLayers === undefined ? 0 : requireInteger(given.gpuLayers, "gpuLayers", 0, 10_000);

    const header = await readGgufHeader(path);
    // before the native load, so that a refused file costs no weights read
    refuseUnembeddableArchitecture(path, header.metadata.get("general.architecture"));
    const addon = nativeAddon();
    const repackWeights =
      given.repackWeights === undefined
        ? repackByDefault(header.tensors, addon.systemInfo())
        : requireBoolean(given.repackWeights, "repackWeights");
    const native = await addon.loadModel(path, { gpuLayers, useMmap: true, repackWeights });
    const info = modelInfo(path, native.metadata());
    const modelLimit = info.causal ? Math.min(info.maxSequenceLength, decoderSequenceCap) : info.maxSequenceLength;
    const maxSequenceTokens =
      given.maxSequenceTokens === undefined
        ? modelLimit
        : requireInteger(given.maxSequenceTokens, "maxSequenceTokens", 1, info.trainingContextLength);
    const batchTokens = Math.max(
      maxSequenceTokens,
      given.batchTokens === undefined
        ? info.causal
          ? 512
          : 256
        : requireInteger(given.batchTokens, "batchTokens", 1, 1 << 20),
    );
    return new EmbeddingModel(native, info, threads, maxSequenceTokens, batchTokens);
  }

  /** true from the moment dispose() is called */
  get disposed(): boolean {
    return this.disposal !== undefined;
  }

  /** The tokens of `text` as the model sees them: ids, pieces and character ranges in `text`. */
  tokenize(text: string, options: { addSpecial?: boolean } = {}): TokenSpan[] {
    this.refuseWhenDisposed();
    requireText(text, "text");
    const addSpecial = options.addSpecial === undefined ? true : requireBoolean(options.addSpecial, "addSpecial");
    return this.align(text, this.requireNative().tokenize(text, addSpecial, false));
  }

  /** How many tokens `text` has, without the character ranges `tokenize` works out. */
  countTokens(text: string, options: { addSpecial?: boolean } = {}): number {
    this.refuseWhenDisposed();
    requireText(text, "text");
    const addSpecial = options.addSpecial === undefined ? true : requireBoolean(options.addSpecial, "addSpecial");
    return this.requireNative().tokenize(text, addSpecial, false).length;
  }

  /**
   * Embeds texts, or texts with spans: `{text, spans: [{find: "bank"}]}`. One options object
   * composes pooling, normalisation, layers, token vectors, span vectors and windows.
   */
  embed(input: EmbedInput, options?: EmbedOptions): Promise<Embedding>;
  embed(inputs: EmbedInput[], options?: EmbedOptions): Promise<Embedding[]>;
  async embed(input: EmbedInput | EmbedInput[], options: EmbedOptions = {}): Promise<Embedding | Embedding[]> {
    this.refuseWhenDisposed();
    const work = this.embedEither(input, options);
    this.running.add(work);
    try {
      return await work;
    } finally {
      this.running.delete(work);
    }
  }

  private async embedEither(input: EmbedInput | EmbedInput[], options: EmbedOptions): Promise<Embedding | Embedding[]> {
    const settings = embedSettings(options, this.info, this.maxSequenceTokens);
    if (!Array.isArray(input)) {
      const [single] = await this.embedMany([normalizeInput(input, "input")], settings);
      return single!;
    }
    return this.embedMany(
      input.map((item, index) => normalizeInput(item, `inputs[${index}]`)),
      settings,
    );
  }

  /**
   * Retrieval of in-context examples: a selector over `pool` that embeds the pool once, with this
   * model's plain sentence vectors, and picks the demonstrations closest to each input.
   */
  demonstrationSelector(pool: readonly Demonstration[]): DemonstrationSelector {
    return new DemonstrationSelector(pool, async (texts) =>
      (await this.embed(texts)).map((result) => result.embedding),
    );
  }

  /**
   * Frees the weights and contexts once the embed calls already under way have finished (all their
   * batches); calls made after dispose() throw. Calling it again returns the same promise.
   */
  dispose(): Promise<void> {
    this.disposal ??= this.release();
    return this.disposal;
  }

  private async release(): Promise<void> {
    await Promise.allSettled(this.running);
    const native = this.native;
    if (!native) return;
    this.native = undefined;
    const slots = await Promise.allSettled(this.contexts.values());
    this.contexts.clear();
    for (const slot of slots) if (slot.status === "fulfilled") slot.value.context.dispose();
    native.dispose();
  }

  private async embedMany(given: NormalizedInput[], settings: EmbedSettings): Promise<Embedding[]> {
    const { inputs, inputStarts, fits } = settings.prompt
      ? await this.promptedInputs(given, settings)
      : { inputs: given, inputStarts: undefined, fits: undefined };
    const tokenLevel =
      settings.layers !== undefined ||
      settings.tokens ||
      settings.window !== undefined ||
      nativePoolingOf[settings.pooling] === undefined ||
      inputs.some((input) => input.spans.length > 0);
    const mode: RunMode = tokenLevel
      ? "token-level"
      : this.info.causal && settings.pooling === "last"
        ? "last-token"
        : "pooled";
    const prepared = inputs.map((input, index) => this.prepare(input, index, settings, fits?.[index]));
    const outputs = await this.run(
      prepared.flatMap((input) => input.sequences),
      settings,
      mode,
    );
    const width = settings.layers ? combinedWidth(settings.layers, this.info.hiddenSize) : this.info.dimensions;
    let next = 0;
    return prepared.map((input, i) => {
      const own = outputs.slice(next, (next += input.sequences.length));
      const result = tokenLevel
        ? this.assembleTokenLevel(input, own, width, settings)
        : this.assemblePooled(input, own[0]!.pooled!, settings);
      return storageForm(
        inputStarts ? inInputCoordinates(result, input.text, inputStarts[i]!, fits![i]!) : result,
        settings,
      );
    });
  }

  /**
   * Refuses a prompt whose template (with its instruction) or one of whose demonstrations cannot
   * fit in maxSequenceTokens with any input, naming the part; embed() checks the same before its
   * first input, so this only moves the error before any work.
   */
  checkPrompt(prompt: PromptOptions): void {
    this.refuseWhenDisposed();
    const plan = planPrompt(prompt)!;
    this.checkPromptParts(plan, this.promptBudget(plan, false));
  }

  private checkPromptParts(plan: PromptPlan, budget: PromptBudget): void {
    // Each set of demonstrations is checked once per model: a CLI run embeds with the same one per chunk.
    const examples = Array.isArray(plan.examples) ? plan.examples : plan.examples.selector;
    checkPromptParts(this.checkedExamples.has(examples) ? { ...plan, examples: [] } : plan, budget);
    this.checkedExamples.add(examples);
  }

  private promptBudget(plan: PromptPlan, cutInputs: boolean): PromptBudget {
    const eos = this.info.specialTokens.eos;
    return {
      model: this.info.name,
      maxTokens: this.maxSequenceTokens,
      countTokens: (text) => {
        const ids = this.requireNative().tokenize(text, true, false);
        return ids.length + (plan.preset.appendEos && eos >= 0 && ids[ids.length - 1] !== eos ? 1 : 0);
      },
      cutInputs,
    };
  }

  private async promptedInputs(
    given: NormalizedInput[],
    settings: EmbedSettings,
  ): Promise<{ inputs: NormalizedInput[]; inputStarts: number[]; fits: PromptFit[] }> {
    const plan = settings.prompt!;
    // Windows split a long input instead, and a span could end up past a cut input's end.
    const cutInputs =
      settings.truncate && settings.window === undefined && given.every((input) => input.spans.length === 0);
    const budget = this.promptBudget(plan, cutInputs);
    this.checkPromptParts(plan, budget);
    return promptedInputs(given, plan, budget);
  }

  private prepare(input: NormalizedInput, index: number, settings: EmbedSettings, fit?: PromptFit): PreparedInput {
    const tokenized = this.requireNative().tokenize(input.text, true, false);
    const frame = specialFrame(tokenized, this.info.specialTokens);
    // Whitespace, NUL, U+FFFD or lone combining marks tokenize to nothing: refused as "" is, instead
    // of returning the vector of the bare special tokens as if it were this text's.
    if (tokenized.length - frame.leading - frame.trailing <= 0) {
      throw new RangeError(
        `inputs[${index}] has no tokens for ${this.info.name} besides its special ones (the tokenizer drops all of its characters): there is nothing to embed`,
      );
    }
    const eos = this.info.specialTokens.eos;
    const closeWithEos =
      settings.prompt?.preset.appendEos === true && eos >= 0 && tokenized[tokenized.length - 1] !== eos;
    const all = closeWithEos ? Int32Array.from([...tokenized, eos]) : tokenized;
    if (closeWithEos) frame.trailing += 1;
    let ids = all;
    let truncated = false;
    let windowPlan: WindowPlan | undefined;
    if (all.length > this.maxSequenceTokens) {
      if (settings.window) {
        windowPlan = planWindows(all, frame, settings.window, this.info.causal);
      } else if (settings.truncate) {
        ({ ids, truncated } = truncateTokens(all, this.maxSequenceTokens, frame));
      } else {
        throw new RangeError(
          `inputs[${index}] has ${this.tokensAsGiven(all.length, fit)} but ${this.info.name} embeds at most ${this.maxSequenceTokens} (pass truncate: true to cut it, or window: true to split it)`,
        );
      }
    }
    const needOffsets = settings.tokens || input.spans.length > 0;
    const tokens = needOffsets ? this.align(input.text, ids) : undefined;
    const spans = input.spans.map((request, k) =>
      resolveSpan(input.text, request, tokens!, `inputs[${index}].spans[${k}]`),
    );
    return {
      text: input.text,
      ids,
      truncated,
      sequences: windowPlan?.windows ?? [ids],
      ...(windowPlan ? { windowSource: windowPlan.source } : {}),
      ...(tokens ? { tokens } : {}),
      spans,
    };
  }

  /**
   * Packs the sequences into batches and runs them through one native context. A causal model
   * pooled at its last token outputs only that token, and evaluates the prefix a batch's
   * sequences share (an instruction, demonstrations) once per batch instead of once per sequence.
   */
  private async run(sequences: Int32Array[], settings: EmbedSettings, mode: RunMode): Promise<SequenceOutput[]> {
    const slot = await this.context(
      mode === "pooled" ? nativePoolingOf[settings.pooling]! : NativePooling.None,
      settings.layers !== undefined,
    );
    const layers = Int32Array.from(settings.layers?.layers ?? []);
    const outputs: SequenceOutput[] = new Array(sequences.length);
    const dimensions = this.info.dimensions;
    const limits = { batchTokens: this.batchTokens, maxSequences: slot.maxSequences };
    const batches: PrefixBatch[] =
      mode === "last-token"
        ? packPrefixBatches(sequences, limits, minimumSharedPrefix)
        : packBatches(
            sequences.map((sequence) => sequence.length),
            limits,
          ).map((indices) => ({ indices, prefixLength: 0 }));
    for (const { indices: batch, prefixLength } of batches) {
      const prefix = sequences[batch[0]!]!.slice(0, prefixLength);
      const suffixes = batch.map((index) => sequences[index]!.subarray(prefixLength));
      const lengths = Uint32Array.from(suffixes, (suffix) => suffix.length);
      const tokens = new Int32Array(lengths.reduce((sum, length) => sum + length, 0));
      let offset = 0;
      for (const suffix of suffixes) {
        tokens.set(suffix, offset);
        offset += suffix.length;
      }
      const result = await slot.queue.run(() =>
        slot.context.embed(tokens, lengths, {
          tokenVectors: mode !== "pooled" && settings.layers === undefined,
          layers,
          lastTokenOnly: mode === "last-token",
          ...(prefixLength > 0 ? { prefix } : {}),
        }),
      );
      let first = 0;
      batch.forEach((index, s) => {
        const length = lengths[s]!;
        if (mode === "pooled")
          outputs[index] = { pooled: result.pooled!.subarray(s * dimensions, (s + 1) * dimensions) };
        else if (mode === "last-token")
          outputs[index] = { pooled: result.tokens!.subarray(s * dimensions, (s + 1) * dimensions) };
        else if (settings.layers)
          outputs[index] = {
            rows: combineLayers(result.layers!, tokens.length, this.info.hiddenSize, settings.layers, first, length),
          };
        else outputs[index] = { rows: result.tokens!.subarray(first * dimensions, (first + length) * dimensions) };
        first += length;
      });
    }
    return outputs;
  }

  private assemblePooled(input: PreparedInput, pooled: Float32Array, settings: EmbedSettings): Embedding {
    return {
      embedding: settings.normalize ? l2Normalize(pooled) : pooled,
      tokenCount: input.ids.length,
      truncated: input.truncated,
      windows: 1,
    };
  }

  private assembleTokenLevel(
    input: PreparedInput,
    outputs: SequenceOutput[],
    width: number,
    settings: EmbedSettings,
  ): Embedding {
    const rows = input.windowSource ? stitchWindows(input.windowSource, outputs, width) : outputs[0]!.rows!;
    const finish = (vector: Float32Array) => (settings.normalize ? l2Normalize(vector) : vector);
    // Pool before normalising the token rows in place: pooled vectors use the raw states.
    const embedding =
      settings.pooling === "none" ? new Float32Array(0) : finish(poolRows(rows, width, settings.pooling));
    const spans = input.spans.map((span) => ({
      ...span,
      embedding: finish(
        poolRows(rows.slice(span.tokenStart * width, span.tokenEnd * width), width, rowPoolingOf(settings.spanPooling)),
      ),
    }));
    const tokens = settings.tokens
      ? input.tokens!.map((token, t) => ({ ...token, embedding: finish(rows.slice(t * width, (t + 1) * width)) }))
      : undefined;
    return {
      embedding,
      tokenCount: input.windowSource ? input.windowSource.window.length : input.ids.length,
      truncated: input.truncated,
      windows: outputs.length,
      ...(tokens ? { tokens } : {}),
      ...(input.spans.length > 0 ? { spans } : {}),
    };
  }

  /** An over-long input's tokens, the prompt's apart: "300 tokens", or "300 tokens, 14 more in its prompt …". */
  private tokensAsGiven(total: number, fit: PromptFit | undefined): string {
    if (!fit) return `${total} tokens`;
    const own = this.requireNative().tokenize(fit.input, false, false).length;
    return `${own} tokens, ${total - own} more in its prompt ${fit.examplesDropped > 0 ? "without demonstrations" : ""}`.trimEnd();
  }

  private align(text: string, ids: Int32Array): TokenSpan[] {
    const native = this.requireNative();
    return alignTokens(text, ids, native.tokenPieces(ids), native.tokenAttributes(ids), this.info.vocabularyType);
  }

  /**
   * How a context lays out its KV cache. Per-token contexts of a causal model give every
   * sequence a stream of its own, laid out as if the sequence were evaluated alone, so that its
   * vectors do not depend on its batch mates. llama.cpp splits a batch over separate streams
   * into micro-batches that cut sequences apart, which neither its in-graph pooling nor the
   * capture of hidden states (one graph for the whole batch) allows: those keep one unified cache.
   */
  private contextShape(
    pooling: NativePooling,
    capturesLayers: boolean,
  ): { contextTokens: number; maxSequences: number; separateSequences: boolean } {
    if (this.info.causal && pooling === NativePooling.None && !capturesLayers) {
      const maxSequences = Math.max(1, Math.min(32, Math.floor(separateStreamCells / this.maxSequenceTokens)));
      return { contextTokens: maxSequences * this.maxSequenceTokens, maxSequences, separateSequences: true };
    }
    return {
      contextTokens: this.batchTokens,
      maxSequences: Math.min(maxSequencesPerBatch, this.batchTokens),
      separateSequences: false,
    };
  }

  private context(pooling: NativePooling, capturesLayers: boolean): Promise<ContextSlot> {
    const shape = this.contextShape(pooling, capturesLayers);
    const key = `${pooling}:${shape.separateSequences}`;
    let slot = this.contexts.get(key);
    if (!slot) {
      const causal = this.info.causal;
      slot = this.requireNative()
        .createEmbeddingContext({
          ...shape,
          batchTokens: this.batchTokens,
          microBatchTokens: causal ? Math.min(this.batchTokens, 512) : this.batchTokens,
          threads: this.threads,
          pooling,
          causal,
          // CPU flash attention over an f16 KV cache switches kernels (and rounding) with the
          // batch size, making a decoder's vectors depend on their batch mates (cosine ~0.999);
          // encoders keep it: their V is the f32 batch itself, and it is 2.4x faster there.
          flashAttention: !causal,
        })
        .then((context) => ({ context, maxSequences: shape.maxSequences, queue: new SerialQueue() }));
      slot.catch(() => this.contexts.delete(key));
      this.contexts.set(key, slot);
    }
    return slot;
  }

  private refuseWhenDisposed(): void {
    if (this.disposal) throw new Error(`the model ${this.info.name} has been disposed`);
  }

  private requireNative(): NativeModel {
    if (!this.native) throw new Error(`the model ${this.info.name} has been disposed`);
    return this.native;
  }
}

/**
 * Loads a model from a GGUF path or a catalogue name ("all-minilm-l6-v2"), pulling a catalogue
 * model into the cache on first use; `onProgress` hears about that download.
 */
export async function loadModel(
  nameOrPath: string,
  options: LoadOptions & { onProgress?: ProgressCallback } = {},
): Promise<EmbeddingModel> {
  const { onProgress, ...loadOptions } = requireOptions(options, "load options") as LoadOptions & {
    onProgress?: ProgressCallback;
  };
  if (typeof nameOrPath !== "string" || nameOrPath.length === 0)
    throw new TypeError("the model must be a GGUF path or a catalogue name");
  // The hub brings the wheel reader, the converter, the quantizer and an HTTP client, ~170 ms of
  // CPU to load: only a name needs it, not a GGUF file (test/unit/loaded-modules.test.ts).
  if (statSync(nameOrPath, { throwIfNoEntry: false })?.isFile()) return EmbeddingModel.load(nameOrPath, loadOptions);
  const { resolveModel } = await import("../hub/pull.js");
  const path = await resolveModel(nameOrPath, { onProgress });
  return EmbeddingModel.load(path, loadOptions);
}
