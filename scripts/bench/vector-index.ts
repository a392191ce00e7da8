// npm run bench -- --index: the LanceDB index. (1) Random vectors (a seeded Gaussian mixture,
// random-vectors.ts) written as `index build` writes them (IndexWriter: its commits, compaction
// and id index, all but the embedding): rows/s and the data fragments left after the build,
// query latency p50/p99 by flat search and by the IVF-PQ index, and the ANN index's recall@10
// against flat. (2) Phrase search over State of the
// Union passages: once indexed (`ctxembed index build --phrases`), a query is one small
// forward pass and one table search; brute-force phrase-search re-reads the whole corpus.
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { quantile } from "simple-statistics";
import { loadModel } from "../../lib/embedding/embedding-model.js";
import { searchPhrases } from "../../lib/phrases/search.js";
import { searchIndex } from "../../lib/vector-index/query.js";
import type { IndexSettings } from "../../lib/vector-index/settings.js";
import { IndexWriter } from "../../lib/vector-index/index-writer.js";
import { openIndex } from "../../lib/vector-index/vector-index.js";
import { table } from "./measure.js";
import { corpusPassages } from "./phrases.js";
import { clusteredVectors } from "./random-vectors.js";

export interface IndexBenchOptions {
  /** table sizes, in vectors */
  sizes: number[];
  dimensions: number;
  queries: number;
  modelPath: string;
  corpusPath: string;
  corpusName: string;
  /** passages of the corpus indexed for the phrase comparison */
  passages: number;
  threads: number;
  cli: string[];
}

/** Vectors generated at a time: a million 384-wide vectors would not fit in memory twice. */
const addBatch = 10_000;

async function latencies(
  queries: readonly Float32Array[],
  search: (query: Float32Array) => Promise<unknown>,
): Promise<{ p50: number; p99: number }> {
  await search(queries[0]!);
  const milliseconds: number[] = [];
  for (const query of queries) {
    const started = performance.now();
    await search(query);
    milliseconds.push(performance.now() - started);
  }
  return { p50: quantile(milliseconds, 0.5), p99: quantile(milliseconds, 0.99) };
}

async function randomVectorRows(
  options: IndexBenchOptions,
  directory: string,
): Promise<Record<string, string | number>[]> {
  const rows: Record<string, string | number>[] = [];
  for (const size of options.sizes) {
    const settings: IndexSettings = {
      kind: "sentences",
      model: { reference: "random", name: "random vectors", sha256: "0".repeat(64) },
      dimensions: options.dimensions,
    };
    const index = await openIndex(join(directory, `random-${size}`), { settings });
    const writer = new IndexWriter(index);
    let seconds = 0;
    for (let start = 0; start < size; start += addBatch) {
      const count = Math.min(addBatch, size - start);
      const vectors = clusteredVectors({
        count,
        dimensions: options.dimensions,
        seed: start + 1,
        clusters: Math.max(1, Math.round(count / 100)),
      });
      const started = performance.now();
      for (const [i, vector] of vectors.entries())
        await writer.write(`v${start + i}`, [{ id: `v${start + i}`, vector }]);
      seconds += (performance.now() - started) / 1000;
    }
    // The end of a build: the last commit and the final compaction, without the ANN index (timed below).
    const finishing = performance.now();
    const { fragments } = await writer.finish(Number.POSITIVE_INFINITY);
    seconds += (performance.now() - finishing) / 1000;
    // Queries from the first batch's mixture, as real queries are about what was indexed.
    const queries = clusteredVectors({
      count: addBatch + options.queries,
      dimensions: options.dimensions,
      seed: 1,
      clusters: Math.round(Math.min(addBatch, size) / 100),
    }).slice(addBatch);
    const flat = await latencies(queries, (query) => index.search(query, { k: 10, exact: true }));
    const annStarted = performance.now();
    await index.updateAnnIndex(1);
    const annSeconds = (performance.now() - annStarted) / 1000;
    const ann = await latencies(queries, (query) => index.search(query, { k: 10 }));
    let found = 0;
    for (const query of queries) {
      const exact = new Set((await index.search(query, { k: 10, exact: true })).map((hit) => hit.id));
      found += (await index.search(query, { k: 10 })).filter((hit) => exact.has(hit.id)).length;
    }
    await index.close();
    rows.push({
      vectors: size,
      "build rows/s": Math.round(size / seconds),
      fragments,
      "flat p50 ms": flat.p50.toFixed(2),
      "flat p99 ms": flat.p99.toFixed(2),
      "IVF-PQ build s": annSeconds.toFixed(1),
      "IVF-PQ p50 ms": ann.p50.toFixed(2),
      "IVF-PQ p99 ms": ann.p99.toFixed(2),
      "recall@10": (found / (10 * queries.length)).toFixed(3),
    });
  }
  return rows;
}

const phraseQueries = [
  "the strength of the economy",
  "our armed forces",
  "the public debt",
  "foreign trade",
  "a treaty of peace",
];

async function phraseRows(
  options: IndexBenchOptions,
  directory: string,
): Promise<{ rows: Record<string, string | number>[]; speedup: number }> {
  const passages = await corpusPassages(options.corpusPath, options.passages);
  const corpus = join(directory, "passages.jsonl");
  await writeFile(corpus, passages.map((text, i) => JSON.stringify({ id: `p${i}`, text })).join("\n") + "\n");
  const indexDirectory = join(directory, "phrases");
  const started = performance.now();
  const [executable, ...prefix] = options.cli;
  const build = spawnSync(
    executable!,
    [
      ...prefix,
      "index",
      "build",
      "--input",
      corpus,
      "--index",
      indexDirectory,
      "--phrases",
      "--model",
      options.modelPath,
      "--threads",
      String(options.threads),
    ],
    { encoding: "utf8" },
  );
  if (build.status !== 0) throw new Error(`index build failed: ${build.stderr}`);
  const buildSeconds = (performance.now() - started) / 1000;
  const model = await loadModel(options.modelPath, { threads: options.threads });
  const index = await openIndex(indexDirectory, { table: "phrases" });
  const spans = await index.count();
  let indexedSeconds = 0;
  let bruteSeconds = 0;
  let agreeing = 0;
  await searchIndex(model, index, phraseQueries[0]!, { k: 1 });
  for (const query of phraseQueries) {
    let at = performance.now();
    const [hit] = await searchIndex(model, index, query, { k: 1 });
    indexedSeconds += (performance.now() - at) / 1000;
    at = performance.now();
    const [match] = await searchPhrases(model, query, passages, { top: 1 });
    bruteSeconds += (performance.now() - at) / 1000;
    if (hit?.passage === `p${match!.passage}` && hit.start === match!.start && hit.end === match!.end) agreeing++;
  }
  await index.close();
  await model.dispose();
  const perQuery = (seconds: number) => ((1000 * seconds) / phraseQueries.length).toFixed(1);
  return {
    rows: [
      {
        search: "brute force (searchPhrases, as phrase-search)",
        passages: passages.length,
        "candidate spans": spans,
        "build s": "-",
        "ms per query": perQuery(bruteSeconds),
        "same top hit": "-",
      },
      {
        search: "indexed (index build --phrases, then search)",
        passages: passages.length,
        "candidate spans": spans,
        "build s": buildSeconds.toFixed(1),
        "ms per query": perQuery(indexedSeconds),
        "same top hit": `${agreeing}/${phraseQueries.length}`,
      },
    ],
    speedup: bruteSeconds / indexedSeconds,
  };
}

export async function indexBenchmark(options: IndexBenchOptions): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), "ctxembed-bench-index-"));
  try {
    const random = await randomVectorRows(options, directory);
    const phrases = await phraseRows(options, directory);
    return [
      `LanceDB (@lancedb/lancedb 0.31.0) tables of random ${options.dimensions}-dimensional unit vectors (Gaussian mixture, 100 per cluster), cosine, k = 10, ${options.queries} queries, one process`,
      "",
      table(random),
      "",
      `Phrase search: ${phraseQueries.length} queries over ${options.passages} passages of ${options.corpusName}, default candidates (chunks, up to 4 words), ${options.threads} threads`,
      "",
      table(phrases.rows),
      "",
      `indexed over brute force, per query: ${phrases.speedup.toFixed(0)}x`,
      "",
    ].join("\n");
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
