// The vector index on real LanceDB tables in a temporary directory, with random vectors
// (scripts/bench/random-vectors.ts: a seeded Gaussian mixture), against brute-force cosine.
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dot } from "../../../lib/vectors/similarity.js";
import type { IndexSettings } from "../../../lib/vector-index/settings.js";
import { IndexFilterError, IndexOpenError, openIndex, type IndexRow } from "../../../lib/vector-index/vector-index.js";
import { clusteredVectors } from "../../../scripts/bench/random-vectors.js";
import { IndexWriter } from "../../../lib/vector-index/index-writer.js";

const settingsFor = (dimensions: number): IndexSettings => ({
  kind: "sentences",
  model: { reference: "random", name: "random vectors", sha256: "0".repeat(64) },
  dimensions,
  embed: { pooling: "model", normalize: true },
});

function bruteForce(vectors: readonly Float32Array[], query: Float32Array, k: number): { id: string; score: number }[] {
  return vectors
    .map((vector, i) => ({ id: `v${i}`, score: dot(vector, query) }))
    .sort((a, b) => b.score - a.score)
    .slice(0, k);
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "ctxembed-index-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("flat search", () => {
  const dimensions = 32;
  const drawn = clusteredVectors({ count: 2020, dimensions, seed: 1 });
  const vectors = drawn.slice(0, 2000);
  const queries = drawn.slice(2000);
  let directory: string;

  beforeAll(async () => {
    directory = join(root, "flat");
    const index = await openIndex(directory, { settings: settingsFor(dimensions) });
    const rows: IndexRow[] = vectors.map((vector, i) => ({
      id: `v${i}`,
      vector,
      group: i % 2 === 0 ? "even" : "odd",
      position: i,
    }));
    // Two calls: the first makes the table, the second upserts into it.
    await index.add(rows.slice(0, 700));
    await index.add(rows.slice(700));
    await index.close();
  });

  it("ranks exactly as brute-force cosine does", async () => {
    const index = await openIndex(directory);
    try {
      for (const query of queries) {
        const hits = await index.search(query, { k: 10 });
        const expected = bruteForce(vectors, query, 10);
        expect(hits.map((hit) => hit.id)).toEqual(expected.map((hit) => hit.id));
        hits.forEach((hit, i) => expect(hit.score).toBeCloseTo(expected[i]!.score, 5));
      }
    } finally {
      await index.close();
    }
  });

  it("filters on stored columns, and names a filter it cannot run", async () => {
    const index = await openIndex(directory);
    try {
      const hits = await index.search(queries[0]!, { k: 10, filter: "group = 'odd' AND position < 1000" });
      const expected = bruteForce(vectors, queries[0]!, 2000).filter(
        (hit) => Number(hit.id.slice(1)) % 2 === 1 && Number(hit.id.slice(1)) < 1000,
      );
      expect(hits.map((hit) => hit.id)).toEqual(expected.slice(0, 10).map((hit) => hit.id));
      expect(hits.every((hit) => hit.group === "odd")).toBe(true);
      await expect(index.search(queries[0]!, { filter: "colour = 'red'" })).rejects.toThrow(IndexFilterError);
      await expect(index.search(queries[0]!, { filter: "colour = 'red'" })).rejects.toThrow(/colour/);
      await expect(index.search(new Float32Array(5))).rejects.toThrow(/5 values; the index holds 32/);
    } finally {
      await index.close();
    }
  });
});

describe("upserts", () => {
  it("leaves one row per id after adding the same ids twice, with the later values", async () => {
    const directory = join(root, "upsert");
    const vectors = clusteredVectors({ count: 300, dimensions: 16, seed: 3 });
    for (const label of ["first", "second"]) {
      const index = await openIndex(directory, { settings: settingsFor(16) });
      await index.add(vectors.map((vector, i) => ({ id: `v${i}`, vector, label })));
      await index.close();
    }
    const index = await openIndex(directory);
    try {
      expect(await index.count()).toBe(300);
      expect((await index.values()).size).toBe(300);
      expect(await index.count("label = 'second'")).toBe(300);
    } finally {
      await index.close();
    }
  });

  it("replaces a passage's spans: the ones its new reading lacks go, other passages' stay", async () => {
    const directory = join(root, "replacing");
    const [a, b, c] = clusteredVectors({ count: 3, dimensions: 8, seed: 6 });
    const index = await openIndex(directory, { settings: settingsFor(8) });
    try {
      await index.add([
        { id: "p:0-4", vector: a!, passage: "p" },
        { id: "p:5-9", vector: b!, passage: "p" },
        { id: "q:0-4", vector: c!, passage: "q" },
      ]);
      await index.add([{ id: "p:0-4", vector: b!, passage: "p" }], { column: "passage", values: ["p"] });
      expect([...(await index.values())].sort()).toEqual(["p:0-4", "q:0-4"]);
      await index.add([], { column: "passage", values: ["q"] });
      expect([...(await index.values())]).toEqual(["p:0-4"]);
    } finally {
      await index.close();
    }
  });

  it("refuses a second writer and vectors made with other settings", async () => {
    const directory = join(root, "writers");
    const writer = await openIndex(directory, { settings: settingsFor(8) });
    await writer.add([{ id: "a", vector: new Float32Array(8).fill(1) }]);
    await expect(openIndex(directory, { settings: settingsFor(8) })).rejects.toThrow(/already open for writing/);
    await writer.close();
    const other = { ...settingsFor(8), model: { reference: "other", name: "other", sha256: "1".repeat(64) } };
    await expect(openIndex(directory, { settings: other })).rejects.toThrow(/built with other settings/);
  });
});

describe("directories that are not indexes", () => {
  it("names a missing directory, a missing table, and a damaged one", async () => {
    await expect(openIndex(join(root, "nowhere"))).rejects.toThrow(/there is no index at .*nowhere/);
    const empty = join(root, "empty");
    await openIndex(empty, { settings: settingsFor(4) }).then((index) => index.close());
    await expect(openIndex(empty)).rejects.toThrow(/has no table "sentences"; it holds no tables/);

    const damaged = join(root, "damaged");
    const index = await openIndex(damaged, { settings: settingsFor(4) });
    await index.add([{ id: "a", vector: [1, 0, 0, 0] }]);
    await index.close();
    const versions = join(damaged, "sentences.lance", "_versions");
    for (const name of await readdir(versions)) await writeFile(join(versions, name), "not a manifest");
    const opened = openIndex(damaged).then(async (reopened) => {
      await reopened.search([1, 0, 0, 0]);
      return reopened;
    });
    await expect(opened).rejects.toThrow(IndexOpenError);
    await expect(opened).rejects.toThrow(/damaged/);
  });
});

describe("ANN index", () => {
  it("finds >= 95% of the flat top 10 on 20,000 vectors", async () => {
    const dimensions = 64;
    // Queries drawn from the same mixture as the data, as real queries are about what was indexed.
    const drawn = clusteredVectors({ count: 20_050, dimensions, seed: 4 });
    const vectors = drawn.slice(0, 20_000);
    const queries = drawn.slice(20_000);
    const directory = join(root, "ann");
    const writer = await openIndex(directory, { settings: settingsFor(dimensions) });
    await writer.add(vectors.map((vector, i) => ({ id: `v${i}`, vector })));
    expect(await writer.updateAnnIndex(10_000)).toBe("built");
    await writer.close();

    const index = await openIndex(directory);
    try {
      expect(index.annIndexed).toBe(true);
      let found = 0;
      for (const query of queries) {
        const flat = new Set((await index.search(query, { k: 10, exact: true })).map((hit) => hit.id));
        const approximate = await index.search(query, { k: 10 });
        found += approximate.filter((hit) => flat.has(hit.id)).length;
      }
      const recall = found / (10 * queries.length);
      console.log(`recall@10 of IVF-PQ against flat search: ${recall.toFixed(3)}`);
      expect(recall).toBeGreaterThanOrEqual(0.95);
    } finally {
      await index.close();
    }
  }, 120_000);
});

describe("filters", () => {
  it("refuses a filter with a tail LanceDB would ignore, and keeps what is one predicate", async () => {
    const directory = join(root, "filters");
    const [a, b] = clusteredVectors({ count: 2, dimensions: 4, seed: 8 });
    const writer = await openIndex(directory, { settings: settingsFor(4) });
    await writer.add([
      { id: "a", vector: a!, group: "odd", position: 1 },
      { id: "b", vector: b!, group: "o;dd", position: 2 },
    ]);
    await writer.close();
    const index = await openIndex(directory);
    try {
      for (const filter of [
        "group = 'odd'; DROP TABLE sentences",
        "group = 'odd' garbage",
        "group = 'odd' -- the rest",
        "group = 'odd')",
        "(group = 'odd'",
        "group = 'odd",
      ]) {
        await expect(index.search(a!, { filter }), filter).rejects.toThrow(IndexFilterError);
      }
      await expect(index.search(a!, { filter: "group = 'odd'; DROP TABLE sentences" })).rejects.toThrow(/;/);
      expect((await index.search(a!, { filter: "group = 'o;dd'" })).map((hit) => hit.id)).toEqual(["b"]);
      expect((await index.search(a!, { filter: "(group = 'odd') OR position > 1" })).length).toBe(2);
    } finally {
      await index.close();
    }
  });

  it("names a damaged data file as damage when opening, before LanceDB's reader panics on it", async () => {
    const directory = join(root, "damaged-data");
    const vectors = clusteredVectors({ count: 300, dimensions: 4, seed: 9 });
    const writer = await openIndex(directory, { settings: settingsFor(4) });
    await writer.add(vectors.map((vector, i) => ({ id: `v${i}`, vector, group: `g${i}` })));
    await writer.close();
    const data = join(directory, "sentences.lance", "data");
    const [name] = await readdir(data);
    const intact = await readFile(join(data, name!));
    // A writer killed mid-write leaves a partial file no version names: no damage.
    await writeFile(join(data, "0000partial.lance"), intact.subarray(0, 1000));
    const reopened = await openIndex(directory);
    expect((await reopened.search(vectors[3]!, { k: 1 }))[0]!.id).toBe("v3");
    await reopened.close();
    // Flipped bytes in the file's footer (LanceDB's reader panics on them), and a truncated file.
    const flipped = Buffer.from(intact);
    for (let i = flipped.length - 400; i < flipped.length - 10; i += 3) flipped[i]! ^= 0x5a;
    for (const damaged of [flipped, intact.subarray(0, intact.length - 8)]) {
      await writeFile(join(data, name!), damaged);
      const opened = openIndex(directory);
      await expect(opened).rejects.toThrow(IndexOpenError);
      await expect(opened).rejects.toThrow(`its data file ${name} is damaged`);
      // A writer must not add to it either.
      await expect(openIndex(directory, { settings: settingsFor(4) })).rejects.toThrow(/damaged/);
    }
  });
});

describe("write path", () => {
  it("keeps a declared column type for a field null in the first rows, and makes a table for no rows", async () => {
    const directory = join(root, "declared");
    const vectors = clusteredVectors({ count: 700, dimensions: 8, seed: 10 });
    const empty = await openIndex(directory, {
      settings: settingsFor(8),
      columns: { year: "number", note: undefined },
    });
    await empty.ensureTable();
    await empty.close();
    const reader = await openIndex(directory);
    expect(await reader.count()).toBe(0);
    expect(await reader.search(vectors[0]!)).toEqual([]);
    await reader.close();

    const writer = await openIndex(directory, { settings: settingsFor(8) });
    // The first 600 rows have no year: the column stays a number column.
    await writer.add(vectors.slice(0, 600).map((vector, i) => ({ id: `v${i}`, vector, year: null })));
    await writer.add(vectors.slice(600).map((vector, i) => ({ id: `v${600 + i}`, vector, year: 1950 + i })));
    expect(await writer.count("year > 2000")).toBe(49);
    await expect(writer.add([{ id: "x", vector: vectors[0]!, year: "1999" }])).rejects.toThrow(/"year" holds numbers/);
    await writer.close();
    await expect(openIndex(directory, { settings: settingsFor(8), columns: { year: "string" } })).rejects.toThrow(
      /"year" .*number.*not string/,
    );
  });

  it("commits in its own batches, compacts, indexes ids and counts duplicate ids", async () => {
    const directory = join(root, "writer");
    const vectors = clusteredVectors({ count: 200, dimensions: 8, seed: 11 });
    const index = await openIndex(directory, { settings: settingsFor(8) });
    const writer = new IndexWriter(index, { commitRows: 10, compactEvery: 4 });
    for (const [i, vector] of vectors.entries()) await writer.write(`v${i % 150}`, [{ id: `v${i % 150}`, vector, i }]);
    const summary = await writer.finish(1_000_000);
    await index.close();
    expect(summary.duplicates).toEqual({ inputs: 50, rows: 50, example: "v0" });
    const reader = await openIndex(directory);
    try {
      expect(await reader.count()).toBe(150);
      // The later row of a repeated id is the one kept.
      expect(await reader.count("i >= 150")).toBe(50);
      expect(await reader.fragments()).toBe(1);
      expect(summary.fragments).toBe(1);
      expect(await reader.indexedColumns()).toContain("id");
    } finally {
      await reader.close();
    }
  });

  it("lets a reader see rows added after it opened", async () => {
    const directory = join(root, "refresh");
    const [a, b] = clusteredVectors({ count: 2, dimensions: 4, seed: 12 });
    const writer = await openIndex(directory, { settings: settingsFor(4) });
    await writer.add([{ id: "a", vector: a! }]);
    const reader = await openIndex(directory, { refreshSeconds: 0 });
    try {
      expect((await reader.search(b!)).map((hit) => hit.id)).toEqual(["a"]);
      await writer.add([{ id: "b", vector: b! }]);
      expect((await reader.search(b!)).map((hit) => hit.id)).toEqual(["b", "a"]);
    } finally {
      await reader.close();
      await writer.close();
    }
  });
});
