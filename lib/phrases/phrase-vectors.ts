// A phrase's vector read inside its text, or the phrase alone (PiC's context-free baseline).
// Both are the same pooling of the phrase's own tokens, so the only difference between them is
// the context the model saw. For token matching a phrase is read as its tokens' vectors instead.
import type { LayerSpec } from "../embedding/layers.js";
import type { Embedding, EmbeddingModel } from "../embedding/embedding-model.js";
import type { SpanPooling, SpanRequest } from "../tokens/spans.js";
import { describe, requireText } from "../util/validate.js";

export interface PhraseVectorOptions {
  /** hidden states to read (default: the model's output) */
  layers?: LayerSpec;
  /** how a phrase pools its tokens; default "mean" */
  spanPooling?: SpanPooling;
}

/** A phrase alone, or a phrase inside a text: its first occurrence, or a character range. */
export type PhraseInput = string | { text: string; phrase: string } | { text: string; start: number; end: number };

export interface PassageSpans {
  text: string;
  spans: readonly { start: number; end: number }[];
}

/**
 * How a phrase is read for comparison: its tokens pooled into one vector ("vector"), or its
 * tokens' own vectors ("tokens"), which phraseMatch pairs up one by one.
 */
export const phraseForms = ["vector", "tokens"] as const;
export type PhraseForm = (typeof phraseForms)[number];

/** A phrase as unit vectors: one pooled vector, or one per token. */
export type PhraseReading = Float32Array[];

/** The embed options a phrase reading uses: span vectors read with windows over long passages. */
export function phraseEmbedOptions(options: PhraseVectorOptions, form: PhraseForm) {
  return {
    spanPooling: options.spanPooling ?? "mean",
    window: true,
    ...(options.layers === undefined ? {} : { layers: options.layers }),
    ...(form === "tokens" ? { pooling: "none" as const, tokens: true } : {}),
  };
}

function readingOf(result: Embedding, span: number, form: PhraseForm): PhraseReading {
  const { embedding, tokenStart, tokenEnd } = result.spans![span]!;
  return form === "vector" ? [embedding] : result.tokens!.slice(tokenStart, tokenEnd).map((token) => token.embedding);
}

/** Many spans per passage, each passage read once (windowed when longer than the context). */
export async function readSpansInPassages(
  model: EmbeddingModel,
  passages: readonly PassageSpans[],
  options: PhraseVectorOptions = {},
  form: PhraseForm = "vector",
): Promise<PhraseReading[][]> {
  const reading = passages.filter((passage) => passage.spans.length > 0);
  const results =
    reading.length === 0
      ? []
      : await model.embed(
          reading.map(({ text, spans }) => ({ text, spans: spans.map(({ start, end }) => ({ start, end })) })),
          phraseEmbedOptions(options, form),
        );
  let next = 0;
  return passages.map((passage) => {
    if (passage.spans.length === 0) return [];
    const result = results[next++]!;
    return passage.spans.map((_, k) => readingOf(result, k, form));
  });
}

/** Phrases with nothing around them (each deduplicated text embedded once). */
export async function readPhrasesAlone(
  model: EmbeddingModel,
  phrases: readonly string[],
  options: PhraseVectorOptions = {},
  form: PhraseForm = "vector",
): Promise<PhraseReading[]> {
  const distinct = [...new Set(phrases.map((phrase, i) => requireText(phrase.trim(), `phrases[${i}]`)))];
  const readings = await readSpansInPassages(
    model,
    distinct.map((text) => ({ text, spans: [{ start: 0, end: text.length }] })),
    options,
    form,
  );
  const byText = new Map(distinct.map((text, i) => [text, readings[i]![0]!]));
  return phrases.map((phrase) => byText.get(phrase.trim())!);
}

function spanRequestOf(input: Exclude<PhraseInput, string>, what: string): SpanRequest {
  if ("phrase" in input) return { find: requireText(input.phrase, `${what}.phrase`) };
  if ("start" in input && "end" in input) return { start: input.start, end: input.end };
  throw new TypeError(`${what} must be a phrase, {text, phrase} or {text, start, end}, got ${describe(input)}`);
}

function phraseTextOf(input: Exclude<PhraseInput, string>): string {
  return "phrase" in input ? input.phrase : input.text.slice(input.start, input.end);
}

/**
 * Phrases in context by default: a phrase given with its text is read inside it. With
 * `context: false` every phrase is embedded alone, its text ignored.
 */
export async function readPhrases(
  model: EmbeddingModel,
  phrases: readonly PhraseInput[],
  options: PhraseVectorOptions & { context?: boolean } = {},
  form: PhraseForm = "vector",
): Promise<PhraseReading[]> {
  const { context = true, ...vectorOptions } = options;
  phrases.forEach((input, i) => {
    if (typeof input !== "string" && (input === null || typeof input !== "object"))
      throw new TypeError(`phrases[${i}] must be a string or an object, got ${describe(input)}`);
  });
  if (!context)
    return readPhrasesAlone(
      model,
      phrases.map((input) => (typeof input === "string" ? input : phraseTextOf(input))),
      vectorOptions,
      form,
    );
  const inContext = phrases.flatMap((input, i) =>
    typeof input === "string"
      ? []
      : [{ i, text: requireText(input.text, `phrases[${i}].text`), span: spanRequestOf(input, `phrases[${i}]`) }],
  );
  const alone = phrases.flatMap((input, i) => (typeof input === "string" ? [{ i, text: input }] : []));
  const readings = new Array<PhraseReading>(phrases.length);
  if (inContext.length > 0) {
    const results = await model.embed(
      inContext.map(({ text, span }) => ({ text, spans: [span] })),
      phraseEmbedOptions(vectorOptions, form),
    );
    inContext.forEach(({ i }, k) => (readings[i] = readingOf(results[k]!, 0, form)));
  }
  const aloneReadings = await readPhrasesAlone(
    model,
    alone.map(({ text }) => text),
    vectorOptions,
    form,
  );
  alone.forEach(({ i }, k) => (readings[i] = aloneReadings[k]!));
  return readings;
}

/** Unit vectors of phrases, in context by default (see readPhrases). */
export async function phraseVectors(
  model: EmbeddingModel,
  phrases: readonly PhraseInput[],
  options: PhraseVectorOptions & { context?: boolean } = {},
): Promise<Float32Array[]> {
  return (await readPhrases(model, phrases, options, "vector")).map(([vector]) => vector!);
}
