// Retrieval of in-context demonstrations: for each query, the demonstrations of a pool whose
// queries are nearest to it, so that a prompt's examples resemble the text being embedded.
import { cosineSimilarity } from "../vectors/similarity.js";
import { describe, requireInteger, requireText } from "../util/validate.js";
import type { Demonstration } from "./templates.js";

/** Embeds texts, one vector per text in the same order (unit vectors, though cosine does not rely on it). */
export type EmbedTexts = (texts: string[]) => Promise<Float32Array[]>;

export class DemonstrationSelector {
  private readonly pool: readonly Demonstration[];
  private readonly embed: EmbedTexts;
  // One promise for the pool's vectors: concurrent first calls wait on the same embedding.
  private poolVectors: Promise<Float32Array[]> | undefined;

  constructor(pool: readonly Demonstration[], embed: EmbedTexts) {
    if (!Array.isArray(pool) || pool.length === 0)
      throw new TypeError(`the demonstration pool must be a non-empty array, got ${describe(pool)}`);
    if (typeof embed !== "function") throw new TypeError(`embed must be a function, got ${describe(embed)}`);
    this.pool = Object.freeze(
      pool.map((demonstration, index) =>
        Object.freeze({
          query: requireText(demonstration?.query, `pool[${index}].query`),
          response: requireText(demonstration?.response, `pool[${index}].response`),
        }),
      ),
    );
    this.embed = embed;
  }

  get size(): number {
    return this.pool.length;
  }

  /** The pool, in its order. */
  get demonstrations(): readonly Demonstration[] {
    return this.pool;
  }

  /** The k demonstrations nearest to `query`, least similar first, so the nearest stands next to the query in a prompt. */
  async select(query: string, k: number): Promise<Demonstration[]> {
    const [selected] = await this.selectMany([query], k);
    return selected!;
  }

  /**
   * select() for many queries, embedded in one call. Ranking is by cosine between the query and
   * each demonstration's query, ties going to the earlier demonstration of the pool; a
   * demonstration whose query is the query itself is never chosen.
   */
  async selectMany(queries: readonly string[], k: number): Promise<Demonstration[][]> {
    if (!Array.isArray(queries)) throw new TypeError(`queries must be an array of strings, got ${describe(queries)}`);
    queries.forEach((query, index) => requireText(query, `queries[${index}]`));
    requireInteger(k, "k", 1, this.pool.length);
    if (queries.length === 0) return [];
    const [poolVectors, queryVectors] = await Promise.all([
      this.embeddedPool(),
      this.embedChecked([...queries], "queries"),
    ]);
    return queries.map((query, index) => this.nearest(query, queryVectors[index]!, poolVectors, k));
  }

  private nearest(query: string, queryVector: Float32Array, poolVectors: Float32Array[], k: number): Demonstration[] {
    const candidates = this.pool
      .map((demonstration, index) => ({ demonstration, index }))
      .filter(({ demonstration }) => demonstration.query !== query);
    if (candidates.length < k) {
      throw new RangeError(
        `k is ${k}, but only ${candidates.length} demonstrations remain once those identical to the query are left out`,
      );
    }
    return candidates
      .map((candidate) => ({ ...candidate, similarity: cosineSimilarity(queryVector, poolVectors[candidate.index]!) }))
      .sort((a, b) => b.similarity - a.similarity || a.index - b.index)
      .slice(0, k)
      .reverse()
      .map(({ demonstration }) => demonstration);
  }

  private embeddedPool(): Promise<Float32Array[]> {
    if (this.poolVectors) return this.poolVectors;
    const vectors = this.embedChecked(
      this.pool.map((demonstration) => demonstration.query),
      "the demonstration pool",
    );
    this.poolVectors = vectors;
    // A failed embedding is not kept: the next call tries again.
    vectors.catch(() => {
      if (this.poolVectors === vectors) this.poolVectors = undefined;
    });
    return vectors;
  }

  private async embedChecked(texts: string[], what: string): Promise<Float32Array[]> {
    const vectors = await this.embed(texts);
    if (!Array.isArray(vectors) || vectors.length !== texts.length) {
      throw new TypeError(
        `embed returned ${Array.isArray(vectors) ? `${vectors.length} vectors` : describe(vectors)} for ${texts.length} texts of ${what}`,
      );
    }
    vectors.forEach((vector, index) => {
      if (!(vector instanceof Float32Array))
        throw new TypeError(`embed returned ${describe(vector)} for text ${index} of ${what}, not a Float32Array`);
    });
    return vectors;
  }
}
