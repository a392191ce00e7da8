// A phrase's vector read inside its text, or the phrase alone (PiC's context-free baseline).
// Both are the same pooling of the phrase's own tokens, so the only difference between them is
// the context the model saw.
import type { LayerSpec } from "../layers.js";
import type { EmbeddingModel } from "../models/embedding-model.js";
import type { SpanPooling, SpanRequest } from "../tokens/spans.js";
import { describe, requireText } from "../validate.js";

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

function embedSettings(options: PhraseVectorOptions) {
  return { spanPooling: options.spanPooling ?? "mean", ...(options.layers === undefined ? {} : { layers: options.layers }) };
}

/** Unit vectors of many spans per passage, each passage read once (windowed when longer than the context). */
export async function spanVectorsInPassages(model: EmbeddingModel, passages: readonly PassageSpans[], options: PhraseVectorOptions = {}): Promise<Float32Array[][]> {
  const reading = passages.filter((passage) => passage.spans.length > 0);
  const results =
    reading.length === 0
      ? []
      : await model.embed(
          reading.map(({ text, spans }) => ({ text, spans: spans.map(({ start, end }) => ({ start, end })) })),
          { ...embedSettings(options), window: true },
        );
  let next = 0;
  return passages.map((passage) => (passage.spans.length === 0 ? [] : results[next++]!.spans!.map((span) => span.embedding)));
}

/** Unit vectors of phrases with nothing around them (each deduplicated text embedded once). */
export async function phrasesAlone(model: EmbeddingModel, phrases: readonly string[], options: PhraseVectorOptions = {}): Promise<Float32Array[]> {
  const distinct = [...new Set(phrases.map((phrase, i) => requireText(phrase.trim(), `phrases[${i}]`)))];
  const vectors = await spanVectorsInPassages(model, distinct.map((text) => ({ text, spans: [{ start: 0, end: text.length }] })), options);
  const byText = new Map(distinct.map((text, i) => [text, vectors[i]![0]!]));
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
 * Unit vectors of phrases, in context by default: a phrase given with its text is read inside
 * it. With `context: false` every phrase is embedded alone, its text ignored.
 */
export async function phraseVectors(
  model: EmbeddingModel,
  phrases: readonly PhraseInput[],
  options: PhraseVectorOptions & { context?: boolean } = {},
): Promise<Float32Array[]> {
  const { context = true, ...vectorOptions } = options;
  phrases.forEach((input, i) => {
    if (typeof input !== "string" && (input === null || typeof input !== "object")) throw new TypeError(`phrases[${i}] must be a string or an object, got ${describe(input)}`);
  });
  if (!context) return phrasesAlone(model, phrases.map((input) => (typeof input === "string" ? input : phraseTextOf(input))), vectorOptions);
  const inContext = phrases.flatMap((input, i) => (typeof input === "string" ? [] : [{ i, text: requireText(input.text, `phrases[${i}].text`), span: spanRequestOf(input, `phrases[${i}]`) }]));
  const alone = phrases.flatMap((input, i) => (typeof input === "string" ? [{ i, text: input }] : []));
  const vectors = new Array<Float32Array>(phrases.length);
  if (inContext.length > 0) {
    const results = await model.embed(
      inContext.map(({ text, span }) => ({ text, spans: [span] })),
      { ...embedSettings(vectorOptions), window: true },
    );
    inContext.forEach(({ i }, k) => (vectors[i] = results[k]!.spans![0]!.embedding));
  }
  const aloneVectors = await phrasesAlone(model, alone.map(({ text }) => text), vectorOptions);
  alone.forEach(({ i }, k) => (vectors[i] = aloneVectors[k]!));
  return vectors;
}
