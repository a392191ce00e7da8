// The loop behind `embed` and `tokens`: read records, embed them a chunk at a time and write the
// results in input order, with memory bounded by a few chunks whatever the corpus size.
//
// Chunks are cut by input count and characters, not by tokens: the model already packs each
// chunk into batches by its token budget (as llama-embedding does), and counting tokens here
// would tokenize every input twice. The chunk is the unit of pipelining and of memory: while
// chunk N is embedded (on the native thread), chunk N+1 is read and queued and chunk N-1 is
// written, and a slow output holds the reading back.
import type { Embedding, EmbeddingModel } from "../embedding/embedding-model.js";
import type { EmbedInput, EmbedOptions } from "../embedding/embed-options.js";
import type { InputReader, InputRecord } from "./inputs.js";
import { watchInterrupts } from "./interrupt.js";
import { checkResumable, InputDigests, writeRunRecord, type RunIdentity } from "./run-record.js";
import type { VectorSink } from "./sinks.js";
import { ExitError, formatDuration, note, ProgressLine } from "./terminal.js";

export interface JobOptions {
  /** most inputs in one chunk */
  chunk: number;
  /** continue the output a previous run left */
  resume: boolean;
  /** what the model reads for a record (default: its text), e.g. the text with spans to read in it */
  inputOf?: (record: InputRecord) => EmbedInput;
}

/** Inputs of many characters (documents) close a chunk early, so that a chunk stays small in memory. */
const chunkCharacters = 4 << 20;

interface Chunk {
  records: InputRecord[];
  results: Promise<Embedding[]>;
}

interface Totals {
  items: number;
  tokens: number;
  truncated: number;
  /** inputs whose prompt left demonstrations out to keep the input whole */
  fewerExamples: number;
}

/**
 * Embeds what `reader` gives into `sink`. An output file gets a run record of `identity`
 * (lib/cli/run-record.ts): written as incomplete before the first result, as complete only after
 * the last, and checked before --resume continues the file; a sink without an output file (an
 * index, which records its own settings) takes none. `settings` is what the summary line
 * adds about how the vectors were made (the prompt, say).
 */
export async function runCorpusJob(
  model: EmbeddingModel,
  reader: InputReader,
  options: EmbedOptions,
  sink: VectorSink,
  job: JobOptions,
  identity: RunIdentity | undefined,
  settings?: string,
): Promise<void> {
  if (job.resume && sink.output && identity) await checkResumable(sink.output, identity);
  const done = job.resume ? await sink.resume() : 0;
  const record = (complete: boolean): Promise<void> =>
    sink.output && identity ? writeRunRecord(sink.output, identity, complete, done + totals.items) : Promise.resolve();
  const interrupts = watchInterrupts();
  const progress = new ProgressLine();
  const started = performance.now();
  const totals: Totals = { items: 0, tokens: 0, truncated: 0, fewerExamples: 0 };
  let firstRead: number | undefined;
  await record(false);

  const written = (embedded: Embedding[]): void => {
    totals.items += embedded.length;
    for (const result of embedded) {
      totals.tokens += result.tokenCount;
      if (result.truncated) totals.truncated++;
      if ((result.examplesDropped ?? 0) > 0 && totals.fewerExamples++ === 0) {
        progress.clear();
        note(
          `some inputs with their demonstrations are longer than the ${model.maxSequenceTokens} tokens ${model.info.name} embeds: those inputs get fewer demonstrations (the farthest from the input left out first), counted in the summary`,
        );
      }
    }
    progress.update(() => progressText(totals, started, reader.position(), firstRead));
  };

  try {
    const tooFew = (seen: number) =>
      `${sink.output} holds ${done} results but ${reader.name} has only ${seen} inputs: it is not this input's output`;
    // An output file's results are matched to the records they were made from (run-record.ts).
    let digests: InputDigests | undefined;
    const read = reader.records(interrupts.signal);
    let records: AsyncIterable<InputRecord>;
    if (!sink.output || !identity) records = skipDone(read, done, tooFew, interrupts.signal);
    else if (job.resume) {
      const resumed = { output: sink.output, done, tooFew, signal: interrupts.signal };
      records = InputDigests.resume(read, resumed, (ready) => (digests = ready));
    } else {
      digests = await InputDigests.start(sink.output);
      records = read;
    }
    const onChunkRead = (): void => {
      firstRead ??= reader.position()?.read;
    };
    const run = {
      chunk: job.chunk,
      signal: interrupts.signal,
      beforeWrite: (written: InputRecord[]) => digests?.append(written),
      onChunkRead,
      onWritten: written,
      ...(job.inputOf ? { inputOf: job.inputOf } : {}),
    };
    await embedRecords(model, records, options, sink, run);
  } catch (error) {
    // Whatever was written stays usable by a later --resume; headers, sidecars and the record say it is partial.
    await sink.close(false).catch(() => undefined);
    await record(false).catch(() => undefined);
    throw error;
  } finally {
    interrupts.dispose();
    progress.clear();
  }
  const complete = interrupts.exitCode() === undefined;
  await sink.close(complete);
  await record(complete);
  const seconds = (performance.now() - started) / 1000;
  const earlier = done > 0 ? `, after the ${done} already in ${sink.output}` : "";
  note(
    `embedded ${totals.items} inputs (${totals.tokens} tokens, ${totals.truncated} truncated${totals.fewerExamples > 0 ? `, ${totals.fewerExamples} with fewer demonstrations` : ""}) in ${seconds.toFixed(1)} s with ${model.info.name}${settings ? `, ${settings}` : ""}${earlier}`,
  );
  const exitCode = interrupts.exitCode();
  if (exitCode !== undefined) {
    const where = sink.output
      ? `${done + totals.items} results are in ${sink.output}; run the same command with --resume to continue`
      : "the output is incomplete";
    throw new ExitError(`stopped before the end of ${reader.name}: ${where}`, exitCode);
  }
}

export interface EmbedRecordsOptions {
  chunk: number;
  /** stops reading once aborted; the chunks in hand are still written */
  signal?: AbortSignal;
  onChunkRead?: () => void;
  onWritten?: (results: Embedding[]) => void;
  /** called with a chunk's records before its results are written */
  beforeWrite?: (records: InputRecord[]) => Promise<void> | undefined;
  /** what the model reads for a record (default: its text) */
  inputOf?: (record: InputRecord) => EmbedInput;
}

/**
 * Embeds `records` into `sink` a chunk at a time, in input order: while one chunk is embedded
 * the next is read, and the one before is written. The sink is left open.
 */
export async function embedRecords(
  model: EmbeddingModel,
  records: AsyncIterable<InputRecord>,
  options: EmbedOptions,
  sink: VectorSink,
  run: EmbedRecordsOptions,
): Promise<void> {
  const writeChunk = async ({ records, results }: Chunk): Promise<void> => {
    const embedded = await results;
    await run.beforeWrite?.(records);
    await sink.write(embedded, records);
    run.onWritten?.(embedded);
  };
  let previous: Chunk | undefined;
  for await (const chunk of chunks(records, run.chunk)) {
    if (run.signal?.aborted) break;
    run.onChunkRead?.();
    const current = { records: chunk, results: embedChunk(model, chunk, options, run.inputOf) };
    // Rejections surface when the chunk's turn to be written comes; until then they are expected.
    current.results.catch(() => undefined);
    if (previous) await writeChunk(previous);
    previous = current;
  }
  if (previous) await writeChunk(previous);
}

/** Leaves out the inputs a resumed output already holds, checking that the input has that many. */
async function* skipDone(
  records: AsyncIterable<InputRecord>,
  done: number,
  tooFew: (seen: number) => string,
  signal: AbortSignal,
): AsyncGenerator<InputRecord> {
  let seen = 0;
  for await (const record of records) if (seen++ >= done) yield record;
  if (seen < done && !signal.aborted) throw new Error(tooFew(seen));
}

async function* chunks(records: AsyncIterable<InputRecord>, size: number): AsyncGenerator<InputRecord[]> {
  let chunk: InputRecord[] = [];
  let characters = 0;
  for await (const record of records) {
    chunk.push(record);
    characters += record.text.length;
    if (chunk.length >= size || characters >= chunkCharacters) {
      yield chunk;
      chunk = [];
      characters = 0;
    }
  }
  if (chunk.length > 0) yield chunk;
}

async function embedChunk(
  model: EmbeddingModel,
  records: InputRecord[],
  options: EmbedOptions,
  inputOf: (record: InputRecord) => EmbedInput = (record) => record.text,
): Promise<Embedding[]> {
  try {
    return await model.embed(records.map(inputOf), options);
  } catch (error) {
    // The library names an input by its place in the call ("inputs[3] has 300 tokens…"); a
    // person knows it by its place in the file.
    // The library's advice names its options; here they are flags.
    if (error instanceof Error) {
      error.message = error.message
        .replace(/^inputs\[(\d+)\]/, (found, k: string) => records[Number(k)]?.where ?? found)
        .replace(
          "pass truncate: true to cut it, or window: true to split it",
          "leave out --no-truncate to cut it, or pass --window SIZE to split it",
        );
    }
    throw error;
  }
}

function progressText(
  totals: Totals,
  started: number,
  position: { read: number; total: number } | undefined,
  firstRead: number | undefined,
): string {
  const seconds = (performance.now() - started) / 1000;
  const parts = [
    `${totals.items.toLocaleString("en-US")} inputs`,
    `${Math.round(totals.tokens / seconds).toLocaleString("en-US")} tokens/s`,
  ];
  if (position && position.total > 0) {
    parts.push(`${Math.floor((100 * position.read) / position.total)}%`);
    const progressed = position.read - (firstRead ?? 0);
    if (progressed > 0) parts.push(`ETA ${formatDuration((seconds * (position.total - position.read)) / progressed)}`);
  }
  return `ctxembed: ${parts.join(" · ")}`;
}
