// Phrase retrieval (PiC's PR and PSD): the spans of passages closest to a query, by their
// vectors or their tokens'. In context (the default) every candidate of a passage comes from the
// one forward pass over that passage; `context: false` embeds each candidate alone, the baseline
// PiC compares against.
import type { EmbeddingModel } from "../embedding/embedding-model.js";
import {
  describe,
  requireBoolean,
  requireInteger,
  requireKnownKeys,
  requireOptions,
  requireText,
} from "../util/validate.js";
import {
  candidateSettings,
  candidateSpans,
  phraseOccurrences,
  type CandidateOptions,
  type CandidateSpan,
} from "./candidates.js";
import {
  readPhrases,
  readPhrasesAlone,
  readSpansInPassages,
  type PhraseForm,
  type PhraseInput,
  type PhraseReading,
  type PhraseVectorOptions,
} from "./phrase-vectors.js";
import { phraseMatch, scoringForm, type PhraseScoringOptions } from "./similarity.js";

export interface PhraseSearchOptions extends PhraseScoringOptions, CandidateOptions {
  /** read candidates inside their passage (default) or alone */
  context?: boolean;
  /** score only the occurrences of this phrase (sense disambiguation) instead of generated candidates */
  phrase?: string;
  /** how many matches to return; default 5 */
  top?: number;
}

export interface PhraseMatch extends CandidateSpan {
  /** index of the passage the span is in */
  passage: number;
  /** similarity to the query: the cosine of the two vectors, or with scoring "tokens" phraseMatch */
  score: number;
}

export interface CorpusSearchOptions extends PhraseSearchOptions {
  /** passages embedded per model call; default 32 */
  batchSize?: number;
  /** called after each batch with the passages read so far */
  onProgress?: (passagesRead: number) => void;
}

const searchOptionKeys = [
  "context",
  "phrase",
  "top",
  "maxWords",
  "minWords",
  "mode",
  "layers",
  "spanPooling",
  "scoring",
  "batchSize",
  "onProgress",
];

interface SearchSettings {
  context: boolean;
  top: number;
  /** the candidates of a passage: the occurrences of `phrase` when one is given, else generated ones */
  candidates: (text: string, phrase?: string) => CandidateSpan[];
  vectors: PhraseVectorOptions;
  form: PhraseForm;
}

function searchSettings(options: unknown): SearchSettings {
  const given = requireOptions(options, "phrase search options") as PhraseSearchOptions;
  requireKnownKeys(given, "phrase search options", searchOptionKeys);
  const candidates = candidateSettings(given);
  const phrase = given.phrase === undefined ? undefined : requireText(given.phrase, "phrase");
  return {
    context: given.context === undefined ? true : requireBoolean(given.context, "context"),
    top: given.top === undefined ? 5 : requireInteger(given.top, "top", 1),
    candidates: (text, own = phrase) =>
      own === undefined ? candidateSpans(text, candidates) : phraseOccurrences(text, own),
    vectors: {
      ...(given.layers === undefined ? {} : { layers: given.layers }),
      ...(given.spanPooling === undefined ? {} : { spanPooling: given.spanPooling }),
    },
    form: scoringForm(given),
  };
}

/** The best `top` of `matches` by score, ties kept in reading order. */
function best(matches: PhraseMatch[], top: number): PhraseMatch[] {
  return matches
    .sort((a, b) => b.score - a.score || a.passage - b.passage || a.start - b.start || a.end - b.end)
    .slice(0, top);
}

/** Every candidate of each passage scored against that passage's query. */
async function scorePassages(
  model: EmbeddingModel,
  queries: readonly PhraseReading[],
  passages: readonly string[],
  firstIndex: number,
  settings: SearchSettings,
  phrases: readonly (string | undefined)[] = [],
): Promise<PhraseMatch[][]> {
  const spans = passages.map((text, i) => {
    if (typeof text !== "string")
      throw new TypeError(`passages[${firstIndex + i}] must be a string, got ${describe(text)}`);
    return settings.candidates(text, phrases[i]);
  });
  const readings = settings.context
    ? await readSpansInPassages(
        model,
        passages.map((text, i) => ({ text, spans: spans[i]! })),
        settings.vectors,
        settings.form,
      )
    : await readPhrasesAlone(
        model,
        spans.flat().map((span) => span.text),
        settings.vectors,
        settings.form,
      ).then((flat) => {
        let next = 0;
        return spans.map((own) => own.map(() => flat[next++]!));
      });
  return spans.map((own, i) =>
    own.map((span, k) => ({ ...span, passage: firstIndex + i, score: phraseMatch(queries[i]!, readings[i]![k]!) })),
  );
}

/**
 * The spans of each passage ranked by similarity to the query (best first, at most `top` per
 * passage). A query given with its text is read in that context; a bare string is read alone.
 */
export async function findPhrase(
  model: EmbeddingModel,
  query: PhraseInput,
  passages: readonly string[],
  options: PhraseSearchOptions = {},
): Promise<PhraseMatch[][]> {
  const settings = searchSettings(options);
  if (!Array.isArray(passages)) throw new TypeError(`passages must be an array of strings, got ${describe(passages)}`);
  const [queryReading] = await readPhrases(model, [query], settings.vectors, settings.form);
  const ranked = await scorePassages(
    model,
    passages.map(() => queryReading!),
    passages,
    0,
    settings,
  );
  return ranked.map((matches) => best(matches, settings.top));
}

/**
 * Like findPhrase, with a query of its own for each passage (PiC's PR and PSD items), and
 * optionally a phrase of its own whose occurrences are the only candidates; queries are
 * embedded together.
 */
export async function rankSpans(
  model: EmbeddingModel,
  items: readonly { query: PhraseInput; passage: string; phrase?: string }[],
  options: PhraseSearchOptions = {},
): Promise<PhraseMatch[][]> {
  const settings = searchSettings(options);
  if (!Array.isArray(items)) throw new TypeError(`items must be an array of {query, passage}, got ${describe(items)}`);
  const phrases = items.map((item, i) => {
    if (item === null || typeof item !== "object")
      throw new TypeError(`items[${i}] must be {query, passage, phrase?}, got ${describe(item)}`);
    return item.phrase === undefined ? undefined : requireText(item.phrase, `items[${i}].phrase`);
  });
  const queryReadings = await readPhrases(
    model,
    items.map((item) => item.query),
    settings.vectors,
    settings.form,
  );
  const ranked = await scorePassages(
    model,
    queryReadings,
    items.map((item) => item.passage),
    0,
    settings,
    phrases,
  );
  return ranked.map((matches) => best(matches, settings.top));
}

/** The best `top` spans across a stream of passages, in bounded memory. */
export async function searchPhrases(
  model: EmbeddingModel,
  query: PhraseInput,
  passages: Iterable<string> | AsyncIterable<string>,
  options: CorpusSearchOptions = {},
): Promise<PhraseMatch[]> {
  const settings = searchSettings(options);
  const batchSize = options.batchSize === undefined ? 32 : requireInteger(options.batchSize, "batchSize", 1);
  if (options.onProgress !== undefined && typeof options.onProgress !== "function")
    throw new TypeError(`onProgress must be a function, got ${describe(options.onProgress)}`);
  const [queryReading] = await readPhrases(model, [query], settings.vectors, settings.form);
  let kept: PhraseMatch[] = [];
  let read = 0;
  let batch: string[] = [];
  const flush = async () => {
    const scored = await scorePassages(
      model,
      batch.map(() => queryReading!),
      batch,
      read,
      settings,
    );
    read += batch.length;
    batch = [];
    kept = best([...kept, ...scored.flat()], settings.top);
    options.onProgress?.(read);
  };
  for await (const passage of passages) {
    batch.push(passage);
    if (batch.length === batchSize) await flush();
  }
  if (batch.length > 0) await flush();
  return kept;
}
