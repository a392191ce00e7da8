// A sense dictionary from a corpus (after Multi-Sense Embeddings, 2025): the in-context vectors
// of each word, sampled in bounded memory, clustered into senses; a new occurrence takes the
// sense whose centroid has the largest dot product with its vector.
import type { EmbeddingModel } from "../embedding/embedding-model.js";
import type { LayerSpec } from "../embedding/layers.js";
import type { SpanPooling } from "../tokens/spans.js";
import { seededRandom } from "../util/random.js";
import { agglomerative } from "./agglomerative.js";
import { wordsOf } from "./corpus.js";
import { kMeans, type Clustering } from "./kmeans.js";
import { Reservoir } from "./reservoir.js";
import { kMeansBySilhouette } from "./silhouette.js";
import { dot, nearest, l2Normalize, unitMean } from "../vectors/similarity.js";

export type ClusteringMethod =
  | { method: "kmeans"; k: number }
  | { method: "silhouette"; maxK: number; minSilhouette: number }
  | { method: "agglomerative"; threshold: number };

/** What a dictionary was built from and how, stored with it so that its vectors are read the same way. */
export interface DictionarySettings {
  model: string;
  dimensions: number;
  layers?: LayerSpec;
  spanPooling: SpanPooling;
  clustering: ClusteringMethod;
  samplesPerWord: number;
  /** words seen fewer times keep a single sense */
  minOccurrencesToSplit: number;
  seed: number;
}

export interface Sense {
  /** unit-length centre of the sense's sampled vectors */
  centroid: Float32Array;
  /** sampled occurrences in this sense */
  samples: number;
  /** the texts of the samples closest to the centroid, most typical first */
  contexts: string[];
}

export interface WordSenses {
  word: string;
  /** occurrences in the corpus (not only the sampled ones) */
  occurrences: number;
  senses: Sense[];
}

export class SenseDictionary {
  private readonly byWord: Map<string, WordSenses>;

  constructor(
    readonly settings: DictionarySettings,
    words: Iterable<WordSenses>,
  ) {
    this.byWord = new Map([...words].map((entry) => [entry.word, entry]));
  }

  get words(): IterableIterator<WordSenses> {
    return this.byWord.values();
  }

  get size(): number {
    return this.byWord.size;
  }

  lookup(word: string): WordSenses | undefined {
    return this.byWord.get(word.toLowerCase());
  }

  /** The sense of `word` whose centroid has the largest dot product with `vector`; undefined for a word the dictionary lacks. */
  assign(word: string, vector: Float32Array): { sense: number; score: number } | undefined {
    const entry = this.lookup(word);
    if (!entry) return undefined;
    if (vector.length !== this.settings.dimensions)
      throw new RangeError(`the vector has ${vector.length} dimensions, the dictionary ${this.settings.dimensions}`);
    const sense = nearest(
      vector,
      entry.senses.map((s) => s.centroid),
    );
    return { sense, score: dot(vector, entry.senses[sense]!.centroid) / Math.sqrt(dot(vector, vector) || 1) };
  }
}

export interface BuildOptions {
  /** the words to collect; without it, every word seen at least `minCount` times (a counting pass first) */
  words?: Iterable<string>;
  minCount?: number;
  layers?: LayerSpec;
  spanPooling?: SpanPooling;
  clustering?: ClusteringMethod;
  samplesPerWord?: number;
  minOccurrencesToSplit?: number;
  contextsPerSense?: number;
  seed?: number;
  /** texts embedded per model call */
  batchTexts?: number;
  onProgress?: (message: string) => void;
}

interface Sample {
  vector: Float32Array;
  context: string;
}

/** Counts every word of the corpus (one pass, no model) and keeps those seen at least `minCount` times. */
export async function frequentWords(corpus: AsyncIterable<string>, minCount: number): Promise<Set<string>> {
  const counts = new Map<string, number>();
  for await (const text of corpus) for (const { word } of wordsOf(text)) counts.set(word, (counts.get(word) ?? 0) + 1);
  return new Set([...counts].filter(([, count]) => count >= minCount).map(([word]) => word));
}

function cluster(points: Sample[], clustering: ClusteringMethod, seed: number): Clustering {
  const vectors = points.map((point) => point.vector);
  switch (clustering.method) {
    case "kmeans":
      return kMeans(vectors, clustering.k, { seed });
    case "silhouette":
      return kMeansBySilhouette(vectors, clustering.maxK, clustering.minSilhouette, { seed });
    case "agglomerative":
      return agglomerative(vectors, clustering.threshold);
  }
}

function sensesOf(samples: Sample[], settings: DictionarySettings, contextsPerSense: number): Sense[] {
  const clustering =
    samples.length < settings.minOccurrencesToSplit
      ? {
          centroids: [
            unitMean(
              samples.map((s) => s.vector),
              settings.dimensions,
            ),
          ],
          assignments: samples.map(() => 0),
        }
      : cluster(samples, settings.clustering, settings.seed);
  return clustering.centroids.map((centroid, c) => {
    const members = samples.filter((_, i) => clustering.assignments[i] === c);
    const typical = members
      .map((m) => ({ context: m.context, score: dot(m.vector, centroid) }))
      .sort((a, b) => b.score - a.score);
    return {
      centroid,
      samples: members.length,
      contexts: [...new Set(typical.map((t) => t.context))].slice(0, contextsPerSense),
    };
  });
}

/**
 * Streams `corpus` once through the model, keeps a uniform sample of each target word's
 * in-context vectors (at most `samplesPerWord`, by reservoir sampling) and clusters them.
 * `corpus` is called once more first when the words come from `minCount`.
 */
export async function buildSenseDictionary(
  model: EmbeddingModel,
  corpus: () => AsyncIterable<string>,
  options: BuildOptions,
): Promise<SenseDictionary> {
  const settings: DictionarySettings = {
    model: model.info.name,
    dimensions: 0,
    ...(options.layers === undefined ? {} : { layers: options.layers }),
    spanPooling: options.spanPooling ?? "mean",
    clustering: options.clustering ?? { method: "kmeans", k: 20 },
    samplesPerWord: options.samplesPerWord ?? 1000,
    minOccurrencesToSplit: options.minOccurrencesToSplit ?? 10,
    seed: options.seed ?? 1,
  };
  const progress = options.onProgress ?? (() => {});
  if (!options.words && options.minCount === undefined) throw new TypeError("give the words to collect or a minCount");
  const targets = options.words
    ? new Set([...options.words].map((w) => w.toLowerCase()))
    : await frequentWords(corpus(), options.minCount!);
  progress(`collecting vectors of ${targets.size} words`);
  const random = seededRandom(settings.seed);
  const reservoirs = new Map<string, Reservoir<Sample>>();
  let batch: { text: string; words: string[]; spans: { start: number; end: number }[] }[] = [];
  let texts = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const results = await model.embed(
      batch.map(({ text, spans }) => ({ text, spans })),
      {
        normalize: false,
        spanPooling: settings.spanPooling,
        ...(settings.layers === undefined ? {} : { layers: settings.layers }),
      },
    );
    batch.forEach(({ text, words }, i) => {
      results[i]!.spans!.forEach((span, s) => {
        const word = words[s]!;
        let reservoir = reservoirs.get(word);
        if (!reservoir) reservoirs.set(word, (reservoir = new Reservoir<Sample>(settings.samplesPerWord, random)));
        reservoir.offer(() => ({ vector: l2Normalize(Float32Array.from(span.embedding)), context: text }));
      });
    });
    texts += batch.length;
    progress(`${texts} texts embedded`);
    batch = [];
  };
  for await (const text of corpus()) {
    const found = wordsOf(text).filter((occurrence) => targets.has(occurrence.word));
    if (found.length === 0) continue;
    batch.push({ text, words: found.map((f) => f.word), spans: found.map(({ start, end }) => ({ start, end })) });
    if (batch.length >= (options.batchTexts ?? 64)) await flush();
  }
  await flush();
  const first = reservoirs.values().next().value;
  settings.dimensions = first?.items[0]?.vector.length ?? 0;
  progress(`clustering ${reservoirs.size} words`);
  const entries = [...reservoirs].map(([word, reservoir]) => ({
    word,
    occurrences: reservoir.seen,
    senses: sensesOf(reservoir.items, settings, options.contextsPerSense ?? 5),
  }));
  return new SenseDictionary(settings, entries);
}
