// The loop behind `embed` and `tokens`: read lines (a file, standard input or --text), embed
// them a chunk at a time, write one JSON line per input in order, report progress and a summary.
import { createReadStream, createWriteStream } from "node:fs";
import { once } from "node:events";
import { createInterface } from "node:readline";
import type { Writable } from "node:stream";
import type { Embedding, EmbeddingModel } from "../models/embedding-model.js";
import type { EmbedOptions } from "../models/embed-options.js";
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

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, "drain");
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

/** Runs the job; `render` turns one result into the JSON fields after "index". */
export async function runLineJob(
  model: EmbeddingModel,
  source: LineSource,
  options: EmbedOptions,
  render: (result: Embedding) => string,
): Promise<void> {
  const out = source.output ? createWriteStream(source.output) : process.stdout;
  const progress = new ProgressLine();
  const started = performance.now();
  let items = 0;
  let tokens = 0;
  let truncated = 0;
  let pending: PendingLine[] = [];

  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const results = await model.embed(pending.map((line) => line.text), options);
    let text = "";
    results.forEach((result, k) => {
      text += `{"index":${pending[k]!.index},${render(result)}${result.truncated ? ',"truncated":true' : ""}}\n`;
      tokens += result.tokenCount;
      if (result.truncated) truncated++;
    });
    items += results.length;
    pending = [];
    await write(out, text);
    const seconds = (performance.now() - started) / 1000;
    progress.update(() => `ctxembed: ${items} embedded, ${Math.round(tokens / seconds)} tokens/s`);
  };

  for await (const line of numberedLines(source)) {
    pending.push(line);
    if (pending.length >= source.chunk) await flush();
  }
  await flush();
  progress.clear();
  if (out !== process.stdout) {
    out.end();
    await once(out, "finish");
  }
  const seconds = (performance.now() - started) / 1000;
  note(`embedded ${items} inputs (${tokens} tokens, ${truncated} truncated) in ${seconds.toFixed(1)} s with ${model.info.name}`);
}
