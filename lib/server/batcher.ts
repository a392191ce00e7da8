// Dynamic batching: requests that arrive together, or while the model is busy, wait in a
// queue, and the next model call takes as many of them as fit a token budget, so concurrent
// clients share batches instead of each paying for a model call of its own. Only requests with
// identical options are merged (one call runs with one set of options); the oldest request
// always goes next, so a request that does not fit beside others is delayed by one batch at
// most, never starved. The queue is bounded: when it is full a request is refused at once
// (HTTP 429) instead of waiting without limit.
import { ApiError } from "./errors.js";

/** The model call a batch runs: one result per text, in order. */
export type BatchFunction<Options, Result> = (texts: string[], options: Options) => Promise<Result[]>;

export interface BatcherOptions {
  /** token budget of one merged call; a single request above it runs on its own */
  maxBatchTokens: number;
  /** requests admitted at once, waiting or running; the next one is refused */
  maxRequests: number;
  /** false: every request gets a model call of its own (the unbatched baseline) */
  merge: boolean;
}

export interface BatchReport {
  requests: number;
  inputs: number;
  tokens: number;
  /** seconds each request waited in the queue before its batch started */
  waits: number[];
  /** seconds the model call took */
  seconds: number;
}

interface Pending<Options, Result> {
  texts: string[];
  tokens: number;
  options: Options;
  key: string;
  enqueued: number;
  resolve: (results: Result[]) => void;
  reject: (error: unknown) => void;
}

export class Batcher<Options, Result> {
  private readonly queue: Pending<Options, Result>[] = [];
  private admitted = 0;
  private running = false;
  private closing = false;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly run: BatchFunction<Options, Result>,
    private readonly options: BatcherOptions,
    private readonly onBatch: (report: BatchReport) => void = () => {},
  ) {}

  /** Requests waiting for a batch (not counting those whose batch is running). */
  get waiting(): number {
    return this.queue.length;
  }

  /** Requests admitted and not yet answered. */
  get inFlight(): number {
    return this.admitted;
  }

  /**
   * Queues `texts` (with their token counts, used for the budget) and resolves with their results
   * in order. Options are compared by their JSON form: pass plain data.
   */
  submit(texts: string[], tokenCounts: number[], options: Options): Promise<Result[]> {
    const tokens = tokenCounts.reduce((sum, count) => sum + count, 0);
    return this.admit(
      () =>
        new Promise<Result[]>((resolve, reject) => {
          this.queue.push({
            texts,
            tokens,
            options,
            key: JSON.stringify(options),
            enqueued: performance.now(),
            resolve,
            reject,
          });
          void this.pump();
        }),
    );
  }

  /**
   * Runs `work` as an admitted request: it counts against the request limit (refused with 429
   * when full, 503 when closing) and closing waits for it, but it takes no place in a batch.
   * For work beside the model calls, such as tokenizing.
   */
  async admit<T>(work: () => Promise<T>): Promise<T> {
    if (this.closing) throw new ApiError("unavailable", "the server is shutting down");
    if (this.admitted >= this.options.maxRequests) {
      throw new ApiError(
        "overloaded",
        `the server is at its limit of ${this.options.maxRequests} concurrent requests; retry later`,
      );
    }
    this.admitted++;
    try {
      return await work();
    } finally {
      this.admitted--;
      if (this.admitted === 0) this.idleWaiters.splice(0).forEach((wake) => wake());
    }
  }

  /** Refuses new requests and resolves once every admitted request has been answered. */
  close(): Promise<void> {
    this.closing = true;
    if (this.admitted === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0) {
        // Let the event loop finish reading what has already arrived, so that requests that came
        // in together start together instead of the first one running alone.
        await new Promise((resolve) => setImmediate(resolve));
        await this.runBatch(this.takeBatch());
      }
    } finally {
      this.running = false;
    }
  }

  /** The oldest request, then later ones with the same options while the token budget allows. */
  private takeBatch(): Pending<Options, Result>[] {
    const first = this.queue.shift()!;
    const batch = [first];
    if (!this.options.merge) return batch;
    let tokens = first.tokens;
    for (let i = 0; i < this.queue.length && tokens < this.options.maxBatchTokens; ) {
      const candidate = this.queue[i]!;
      if (candidate.key === first.key && tokens + candidate.tokens <= this.options.maxBatchTokens) {
        batch.push(candidate);
        tokens += candidate.tokens;
        this.queue.splice(i, 1);
      } else {
        i++;
      }
    }
    return batch;
  }

  private async runBatch(batch: Pending<Options, Result>[]): Promise<void> {
    const texts = batch.flatMap((request) => request.texts);
    const started = performance.now();
    let results: Result[];
    try {
      results = await this.run(texts, batch[0]!.options);
      if (results.length !== texts.length)
        throw new Error(`the model returned ${results.length} results for ${texts.length} inputs`);
    } catch (error) {
      // One request's bad input must not fail the requests it was merged with: run each alone,
      // so that every request gets its own result or its own error.
      if (batch.length === 1) batch[0]!.reject(error);
      else for (const request of batch) await this.runBatch([request]);
      return;
    }
    this.onBatch({
      requests: batch.length,
      inputs: texts.length,
      tokens: batch.reduce((sum, request) => sum + request.tokens, 0),
      waits: batch.map((request) => (started - request.enqueued) / 1000),
      seconds: (performance.now() - started) / 1000,
    });
    let next = 0;
    for (const request of batch) request.resolve(results.slice(next, (next += request.texts.length)));
  }
}
