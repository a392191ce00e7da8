// The one thing sense inventories need from a model: the vector of a character range inside a
// text. An interface of its own so that inventories can be tested without weights.
import type { EmbeddingModel } from "../embedding/embedding-model.js";
import type { LayerSpec } from "../embedding/layers.js";
import type { SpanPooling } from "../tokens/spans.js";

export interface SpanRequestInText {
  text: string;
  start: number;
  end: number;
}

export type SpanEmbedder = (requests: readonly SpanRequestInText[]) => Promise<Float32Array[]>;

export interface SpanVectorSettings {
  layers?: LayerSpec;
  spanPooling?: SpanPooling;
}

export function modelSpanEmbedder(model: EmbeddingModel, settings: SpanVectorSettings = {}): SpanEmbedder {
  return async (requests) => {
    if (requests.length === 0) return [];
    const results = await model.embed(
      requests.map(({ text, start, end }) => ({ text, spans: [{ start, end }] })),
      {
        normalize: false,
        spanPooling: settings.spanPooling ?? "mean",
        ...(settings.layers === undefined ? {} : { layers: settings.layers }),
      },
    );
    return results.map((result) => Float32Array.from(result.spans![0]!.embedding));
  };
}

/** Reads each request's whole text as a sentence, with the model's own pooling and layer (the range is not used): for inventories that read sentences. */
export function modelSentenceEmbedder(model: EmbeddingModel): SpanEmbedder {
  return async (requests) => {
    if (requests.length === 0) return [];
    const results = await model.embed(
      requests.map(({ text }) => text),
      { normalize: false },
    );
    return results.map((result) => Float32Array.from(result.embedding));
  };
}
