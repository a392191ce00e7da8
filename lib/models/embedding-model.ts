import { availableParallelism } from "node:os";
import { packBatches } from "../batching.js";
import { readGgufHeader } from "../gguf/reader.js";
import { nativeAddon, NativePooling, type NativeEmbeddingContext, type NativeModel } from "../native/addon.js";
import { l2Normalize, poolRows, poolingModes, type PoolingMode } from "../pooling.js";
import { SerialQueue } from "../serial-queue.js";
import { truncateTokens } from "../tokens/truncate.js";
import {
  requireBoolean,
  requireInteger,
  requireKnownKeys,
  requireOneOf,
  requireOptions,
  requireText,
  requireTexts,
} from "../validate.js";
import { modelInfo, type ModelInfo } from "./model-info.js";
import { resolveModel, type ProgressCallback } from "./pull.js";

export interface LoadOptions {
  /** CPU threads per forward pass; default: every core */
  threads?: number;
  /** layers to offload to a GPU in a CUDA build; default 0 */
  gpuLayers?: number;
  /** longest input in tokens; default: the model's own limit (decoders: at most 512) */
  maxSequenceTokens?: number;
  /** token budget of one packed batch; default: 256 for encoders, 512 for decoders, at least maxSequenceTokens */
  batchTokens?: number;
}

export interface EmbedOptions {
  /** "model" (default) uses the pooling the model was trained with */
  pooling?: "model" | PoolingMode;
  /** scale each vector to unit length; default true */
  normalize?: boolean;
  /** cut inputs longer than maxSequenceTokens (true, default) or reject them (false) */
  truncate?: boolean;
}

export interface Embedding {
  embedding: Float32Array;
  /** tokens that were embedded, special tokens included */
  tokenCount: number;
  /** whether the input was cut to maxSequenceTokens */
  truncated: boolean;
}

interface PreparedInput {
  ids: Int32Array;
  truncated: boolean;
}

interface ContextSlot {
  context: NativeEmbeddingContext;
  queue: SerialQueue;
}

const loadOptionKeys = ["threads", "gpuLayers", "maxSequenceTokens", "batchTokens"] as const;
const embedOptionKeys = ["pooling", "normalize", "truncate"] as const;
const nativePoolingOf: Partial<Record<PoolingMode, NativePooling>> = {
  mean: NativePooling.Mean,
  cls: NativePooling.Cls,
  last: NativePooling.Last,
};
// Decoder outputs carry a vocabulary-sized logits row per token; keep their batches modest.
const decoderSequenceCap = 512;
const maxSequencesPerBatch = 256;

export class EmbeddingModel {
  readonly info: ModelInfo;
  readonly threads: number;
  readonly maxSequenceTokens: number;
  readonly batchTokens: number;
  private native: NativeModel | undefined;
  private readonly contexts = new Map<NativePooling, Promise<ContextSlot>>();

  private constructor(native: NativeModel, info: ModelInfo, threads: number, maxSequenceTokens: number, batchTokens: number) {
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
    const threads = given.threads === undefined ? availableParallelism() : requireInteger(given.threads, "threads", 1, 1024);
    const gpuLayers = given.gpuLayers === undefined ? 0 : requireInteger(given.gpuLayers, "gpuLayers", 0, 10_000);

    await readGgufHeader(path);
    const native = await nativeAddon().loadModel(path, { gpuLayers, useMmap: true });
    const info = modelInfo(path, native.metadata());
    const modelLimit = info.causal ? Math.min(info.maxSequenceLength, decoderSequenceCap) : info.maxSequenceLength;
    const maxSequenceTokens =
      given.maxSequenceTokens === undefined
        ? modelLimit
        : requireInteger(given.maxSequenceTokens, "maxSequenceTokens", 1, info.trainingContextLength);
    const batchTokens = Math.max(
      maxSequenceTokens,
      given.batchTokens === undefined ? (info.causal ? 512 : 256) : requireInteger(given.batchTokens, "batchTokens", 1, 1 << 20),
    );
    return new EmbeddingModel(native, info, threads, maxSequenceTokens, batchTokens);
  }

  get disposed(): boolean {
    return this.native === undefined;
  }

  /** Token ids of `text` as the model sees it, special tokens included unless addSpecial is false. */
  tokenize(text: string, options: { addSpecial?: boolean } = {}): Int32Array {
    requireText(text, "text");
    const addSpecial = options.addSpecial === undefined ? true : requireBoolean(options.addSpecial, "addSpecial");
    return this.requireNative().tokenize(text, addSpecial, false);
  }

  embed(text: string, options?: EmbedOptions): Promise<Embedding>;
  embed(texts: string[], options?: EmbedOptions): Promise<Embedding[]>;
  async embed(input: string | string[], options: EmbedOptions = {}): Promise<Embedding | Embedding[]> {
    if (typeof input === "string") {
      const [single] = await this.embedMany([requireText(input, "text")], options);
      return single!;
    }
    return this.embedMany(requireTexts(input), options);
  }

  /** Frees the weights and contexts. Work already running finishes; later calls throw. */
  async dispose(): Promise<void> {
    const native = this.native;
    if (!native) return;
    this.native = undefined;
    const slots = await Promise.allSettled(this.contexts.values());
    this.contexts.clear();
    for (const slot of slots) if (slot.status === "fulfilled") slot.value.context.dispose();
    native.dispose();
  }

  private async embedMany(texts: string[], options: EmbedOptions): Promise<Embedding[]> {
    const given = requireOptions(options, "embed options");
    requireKnownKeys(given, "embed options", embedOptionKeys);
    const requested = given.pooling === undefined ? "model" : requireOneOf(given.pooling, "pooling", ["model", ...poolingModes]);
    const pooling: PoolingMode = requested !== "model" ? requested : this.info.defaultPooling === "none" ? "mean" : this.info.defaultPooling;
    const normalize = given.normalize === undefined ? true : requireBoolean(given.normalize, "normalize");
    const truncate = given.truncate === undefined ? true : requireBoolean(given.truncate, "truncate");
    const inputs = texts.map((text, index) => this.prepare(text, index, truncate));

    const nativePooling = nativePoolingOf[pooling];
    const slot = await this.context(nativePooling ?? NativePooling.None);
    const vectors: Float32Array[] = new Array(inputs.length);
    const dimensions = this.info.dimensions;
    for (const batch of packBatches(inputs.map((input) => input.ids.length), { batchTokens: this.batchTokens, maxSequences: maxSequencesPerBatch })) {
      const lengths = Uint32Array.from(batch, (index) => inputs[index]!.ids.length);
      const tokens = new Int32Array(lengths.reduce((sum, length) => sum + length, 0));
      let offset = 0;
      for (const index of batch) {
        tokens.set(inputs[index]!.ids, offset);
        offset += inputs[index]!.ids.length;
      }
      const result = await slot.queue.run(() =>
        slot.context.embed(tokens, lengths, { tokenVectors: nativePooling === undefined, layers: new Int32Array(0) }),
      );
      let tokenOffset = 0;
      batch.forEach((index, s) => {
        const length = lengths[s]!;
        vectors[index] = result.pooled
          ? result.pooled.subarray(s * dimensions, (s + 1) * dimensions)
          : poolRows(result.tokens!.subarray(tokenOffset * dimensions, (tokenOffset + length) * dimensions), dimensions, pooling);
        tokenOffset += length;
      });
    }
    return inputs.map((input, index) => ({
      embedding: normalize ? l2Normalize(vectors[index]!) : vectors[index]!,
      tokenCount: input.ids.length,
      truncated: input.truncated,
    }));
  }

  private prepare(text: string, index: number, truncate: boolean): PreparedInput {
    const ids = this.requireNative().tokenize(text, true, false);
    if (ids.length === 0) throw new RangeError(`texts[${index}] produced no tokens for ${this.info.name}: there is nothing to embed`);
    const special = this.info.specialTokens;
    const trailing = [...(special.addSep ? [special.sep] : []), ...(special.addEos ? [special.eos] : [])];
    const cut = truncateTokens(ids, this.maxSequenceTokens, trailing);
    if (cut.truncated && !truncate) {
      throw new RangeError(
        `texts[${index}] has ${cut.originalLength} tokens but ${this.info.name} embeds at most ${this.maxSequenceTokens} (pass truncate: true to cut it)`,
      );
    }
    return { ids: cut.ids, truncated: cut.truncated };
  }

  private context(pooling: NativePooling): Promise<ContextSlot> {
    let slot = this.contexts.get(pooling);
    if (!slot) {
      const causal = this.info.causal;
      slot = this.requireNative()
        .createEmbeddingContext({
          contextTokens: this.batchTokens,
          batchTokens: this.batchTokens,
          microBatchTokens: causal ? Math.min(this.batchTokens, 512) : this.batchTokens,
          maxSequences: Math.min(maxSequencesPerBatch, this.batchTokens),
          threads: this.threads,
          pooling,
          causal,
        })
        .then((context) => ({ context, queue: new SerialQueue() }));
      slot.catch(() => this.contexts.delete(pooling));
      this.contexts.set(pooling, slot);
    }
    return slot;
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
export async function loadModel(nameOrPath: string, options: LoadOptions & { onProgress?: ProgressCallback } = {}): Promise<EmbeddingModel> {
  const { onProgress, ...loadOptions } = requireOptions(options, "load options") as LoadOptions & { onProgress?: ProgressCallback };
  if (typeof nameOrPath !== "string" || nameOrPath.length === 0) throw new TypeError("the model must be a GGUF path or a catalogue name");
  const path = await resolveModel(nameOrPath, { onProgress });
  return EmbeddingModel.load(path, loadOptions);
}
