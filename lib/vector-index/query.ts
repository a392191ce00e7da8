// A query embedded the way its index's vectors were: the stored embed options for sentences,
// the stored phrase reading for phrases, and only with the model the index was built with.
import type { EmbeddingModel } from "../embedding/embedding-model.js";
import { phraseVectors } from "../phrases/phrase-vectors.js";
import { requireText } from "../util/validate.js";
import { requireIndexModel, type IndexSettings } from "./settings.js";
import type { IndexHit, IndexSearchOptions, VectorIndex } from "./vector-index.js";

/** A text, or (phrase indexes) a phrase read inside the sentence that contains it. */
export type IndexQuery = string | { text: string; phrase: string };

export async function embedIndexQuery(
  model: EmbeddingModel,
  settings: IndexSettings,
  query: IndexQuery,
  where: string,
): Promise<Float32Array> {
  await requireIndexModel(settings, model, where);
  if (settings.kind === "phrases") {
    const { layers, spanPooling } = settings.phrases!;
    const input =
      typeof query === "string"
        ? requireText(query, "the query")
        : {
            text: requireText(query.text, "the query's context"),
            phrase: requireText(query.phrase, "the query phrase"),
          };
    const [vector] = await phraseVectors(model, [input], {
      ...(layers === undefined ? {} : { layers }),
      ...(spanPooling === undefined ? {} : { spanPooling }),
    });
    return vector!;
  }
  if (typeof query !== "string")
    throw new TypeError(`${where} holds sentences: a phrase in its context is a query for a phrase index`);
  const [result] = await model.embed([requireText(query, "the query")], settings.embed);
  return result!.embedding;
}

/** The k rows of `index` closest to `query`, embedded with `model` (which must be the index's). */
export async function searchIndex(
  model: EmbeddingModel,
  index: VectorIndex,
  query: IndexQuery,
  options: IndexSearchOptions = {},
): Promise<IndexHit[]> {
  const vector = await embedIndexQuery(model, index.settings, query, `${index.directory} (table "${index.tableName}")`);
  return index.search(vector, options);
}
