// POST /search: the rows of an index closest to a query, embedded with the server's model,
// which serve checked is the index's own. Hits are what `ctxembed search` prints, as one array.
import type { FastifyInstance } from "fastify";
import type { EmbeddingModel } from "../../embedding/embedding-model.js";
import { searchIndex, type IndexQuery } from "../../vector-index/query.js";
import type { VectorIndex } from "../../vector-index/vector-index.js";
import { ApiError } from "../errors.js";
import { optionalBoolean, optionalString, requestBody } from "../fields.js";

function queryOf(body: Record<string, unknown>): IndexQuery {
  const query = optionalString(body.query, "query");
  const context = optionalString(body.query_context, "query_context");
  const find = optionalString(body.find, "find");
  if (context !== undefined || find !== undefined) {
    if (context === undefined || find === undefined)
      throw new ApiError(
        "validation",
        "query_context and find go together: the phrase to find, and the sentence it is read in",
      );
    if (query !== undefined) throw new ApiError("validation", "give query, or query_context with find, not both");
    return { text: context, phrase: find };
  }
  if (query === undefined) throw new ApiError("validation", "query is required (or query_context with find)");
  return query;
}

export function searchRoutes(app: FastifyInstance, model: EmbeddingModel, indexes: readonly VectorIndex[]): void {
  const byName = new Map(indexes.map((index) => [index.tableName, index]));
  app.post("/search", async (request) => {
    const body = requestBody(request.body, [
      "query",
      "query_context",
      "find",
      "k",
      "filter",
      "exact",
      "phrases",
      "table",
    ]);
    const phrases = optionalBoolean(body.phrases, "phrases", false);
    const tableName = optionalString(body.table, "table") ?? (phrases ? "phrases" : "sentences");
    const index = byName.get(tableName);
    if (!index)
      throw new ApiError(
        "validation",
        `the index has no table "${tableName}"; its tables are ${[...byName.keys()].map((name) => JSON.stringify(name)).join(", ")}`,
      );
    const query = queryOf(body);
    const filter = optionalString(body.filter, "filter");
    const options = {
      exact: optionalBoolean(body.exact, "exact", false),
      ...(body.k === undefined ? {} : { k: body.k as number }),
      ...(filter === undefined ? {} : { filter }),
    };
    try {
      return await searchIndex(model, index, query, options);
    } catch (error) {
      // The library's argument errors (k out of range, a filter LanceDB cannot run) are the client's.
      if (error instanceof TypeError || error instanceof RangeError) throw new ApiError("validation", error.message);
      throw error;
    }
  });
}
