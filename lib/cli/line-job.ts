// The loop behind `embed` and `tokens`: read lines (a file, standard input or --text), embed
// them a chunk at a time, write one JSON line per input in order, report progress and a summary.
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { EmbeddingModel } from "../models/embedding-model.js";
import type { EmbedOptions } from "../models/embed-options.js";
import type { VectorSink } from "./sinks.js";
import { note, ProgressLine } from "./terminal.js";

export interface LineSource {
  /** file path, or "-" for standard input */
  input: string;
  /** texts given on the command line instead of a file */
  text?: string[];
  output?: string;
  skipEmpty: boolean;
  chunk: number;
}

interface PendingLine {
  index: number;
  text: string;
}

async function* numberedLines(source: LineSource): AsyncGenerator<PendingLine> {
  if (source.text) {
    yield* source.text.map((text, index) => ({ index, text }));
    return;
  }
  const lines = createInterface({ input: source.input === "-" ? process.stdin : createReadStream(source.input), crlfDelay: Infinity });
  let index = 0;
  for await (const text of lines) {
    const lineNumber = ++index;
    if (text.length === 0) {
      if (source.skipEmpty) continue;
      throw new RangeError(`line ${lineNumber} of ${source.input === "-" ? "standard input" : source.input} is empty; pass --skip-empty to leave empty lines out`);
    }
    yield { index: lineNumber - 1, text };
  }
}

/** Runs the job, handing each embedded chunk to `sink` in input order. */
export async function runLineJob(model: EmbeddingModel, source: LineSource, options: EmbedOptions, sink: VectorSink): Promise<void> {
  const progress = new ProgressLine();
  const started = performance.now();
  let items = 0;
  let tokens = 0;
  let truncated = 0;
  let pending: PendingLine[] = [];

  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const results = await model.embed(pending.map((line) => line.text), options);
    for (const result of results) {
      tokens += result.tokenCount;
      if (result.truncated) truncated++;
    }
    items += results.length;
    await sink.write(results, pending.map((line) => line.index));
    pending = [];
    const seconds = (performance.now() - started) / 1000;
    progress.update(() => `ctxembed: ${items} embedded, ${Math.round(tokens / seconds)} tokens/s`);
  };

  for await (const line of numberedLines(source)) {
    pending.push(line);
    if (pending.length >= source.chunk) await flush();
  }
  await flush();
  progress.clear();
  await sink.close();
  const seconds = (performance.now() - started) / 1000;
  note(`embedded ${items} inputs (${tokens} tokens, ${truncated} truncated) in ${seconds.toFixed(1)} s with ${model.info.name}`);
}
