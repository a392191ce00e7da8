// A query embedded the way its index's vectors were: the stored embed options for sentences,
// the stored phrase reading for phrases, and only with the model the index was built with.
import type { EmbeddingModel } from "../embedding/embedding-model.js";
import type { PromptOptions } from "../prompts/prompting.js";
import { phraseVectors } from "../phrases/phrase-vectors.js";
import { requireText } from "../util/validate.js";
import { requireIndexModel, type IndexSettings } from "./settings.js";
import type { IndexHit, IndexSearchOptions, VectorIndex } from "./vector-index.js";

/** A text, or (phrase indexes) a phrase read inside the sentence that contains it. */
export type IndexQuery = string | { text: string; phrase: string };

/**
 * `queryPrompt` replaces the prompt the index's texts were embedded with, for models that prompt
 * queries and documents differently; without it the query gets the texts' own prompt.
 */
export async function embedIndexQuery(
  model: EmbeddingModel,
  settings: IndexSettings,
  query: IndexQuery,
  where: string,
  queryPrompt?: PromptOptions,
): Promise<Float32Array> {
  await requireIndexModel(settings, model, where);
  if (settings.kind === "phrases") {
    if (queryPrompt !== undefined)
      throw new TypeError(`${where} holds phrases read in their passages: a phrase query takes no prompt`);
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
  const embedOptions = queryPrompt === undefined ? settings.embed : { ...settings.embed, prompt: queryPrompt };
  const [result] = await model.embed([requireText(query, "the query")], embedOptions);
  return result!.embedding;
}

/** The k rows of `index` closest to `query`, embedded with `model` (which must be the index's). */
export async function searchIndex(
  model: EmbeddingModel,
  index: VectorIndex,
  query: IndexQuery,
  options: IndexSearchOptions & { prompt?: PromptOptions } = {},
): Promise<IndexHit[]> {
  const { prompt, ...searchOptions } = options;
  const where = `${index.directory} (table "${index.tableName}")`;
  const vector = await embedIndexQuery(model, index.settings, query, where, prompt);
  return index.search(vector, searchOptions);
}
