// Prometheus metrics (prom-client), one registry per server so that several servers in one
// process (tests, the benchmark) keep their counts apart.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { BatchReport } from "./batcher.js";

export type Outcome = "success" | "client_error" | "overloaded" | "server_error";

export function outcomeOf(status: number): Outcome {
  if (status === 429) return "overloaded";
  if (status >= 500) return "server_error";
  return status >= 400 ? "client_error" : "success";
}

const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const countBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];
const tokenBuckets = [16, 64, 256, 1024, 4096, 16384, 65536];

export class ServerMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: "ctxembed_requests_total",
    help: "HTTP requests answered, by route and outcome",
    labelNames: ["route", "outcome"] as const,
    registers: [this.registry],
  });
  private readonly requestSeconds = new Histogram({
    name: "ctxembed_request_duration_seconds",
    help: "time from receiving a request to answering it",
    labelNames: ["route"] as const,
    buckets: latencyBuckets,
    registers: [this.registry],
  });
  private readonly queueWaitSeconds = this.histogram(
    "ctxembed_queue_wait_seconds",
    "time a request waited for its batch to start",
    latencyBuckets,
  );
  private readonly batchSeconds = this.histogram(
    "ctxembed_batch_duration_seconds",
    "time of one model call",
    latencyBuckets,
  );
  private readonly batchRequests = this.histogram(
    "ctxembed_batch_requests",
    "requests merged into one model call",
    countBuckets,
  );
  private readonly batchInputs = this.histogram("ctxembed_batch_inputs", "texts in one model call", countBuckets);
  private readonly batchTokens = this.histogram("ctxembed_batch_tokens", "tokens in one model call", tokenBuckets);
  private readonly tokens = new Counter({
    name: "ctxembed_input_tokens_total",
    help: "tokens embedded",
    registers: [this.registry],
  });

  /** Gauges of the batching queue, read when Prometheus scrapes, so they are never stale. */
  watchQueue(waiting: () => number, inFlight: () => number): void {
    this.gauge("ctxembed_queue_size", "requests waiting for a batch", waiting);
    this.gauge("ctxembed_requests_in_flight", "requests admitted and not yet answered (waiting or running)", inFlight);
  }

  private histogram(name: string, help: string, buckets: number[]): Histogram {
    return new Histogram({ name, help, buckets, registers: [this.registry] });
  }

  private gauge(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  recordRequest(route: string, status: number, seconds: number): void {
    this.requests.inc({ route, outcome: outcomeOf(status) });
    this.requestSeconds.observe({ route }, seconds);
  }

  recordBatch(report: BatchReport): void {
    this.batchRequests.observe(report.requests);
    this.batchInputs.observe(report.inputs);
    this.batchTokens.observe(report.tokens);
    this.batchSeconds.observe(report.seconds);
    this.tokens.inc(report.tokens);
    for (const wait of report.waits) this.queueWaitSeconds.observe(wait);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
