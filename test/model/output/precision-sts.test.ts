// What storing all-MiniLM-L6-v2's vectors at lower precision, or fewer dimensions, costs on STS-B
// dev: Spearman x 100 of the gold scores against each form's similarity, beside float32 cosine.
import { join } from "node:path";
import { sampleRankCorrelation } from "simple-statistics";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, type EmbeddingModel } from "../../../lib/embedding/embedding-model.js";
import {
  float16ToFloat32Array,
  hammingSimilarity,
  quantize,
  truncateDimensions,
} from "../../../lib/output/quantize-vectors.js";
import { cosineSimilarity } from "../../../lib/vectors/similarity.js";
import { readStsBenchmark, type StsPair } from "../../../lib/eval/sts.js";
import { minilmPath, sharedData } from "../models.js";

const MATRYOSHKA_DIMENSIONS = 128;

describe("STS-B dev at each stored precision (all-MiniLM-L6-v2)", () => {
  let model: EmbeddingModel;
  let pairs: StsPair[];
  let vectorOf: Map<string, Float32Array>;

  beforeAll(async () => {
    model = await loadModel(await minilmPath("f32"));
    pairs = await readStsBenchmark(join(sharedData, "stsb", "sts-dev.csv"));
    const distinct = [...new Set(pairs.flatMap((pair) => [pair.sentence1, pair.sentence2]))];
    const embeddings = await model.embed(distinct);
    vectorOf = new Map(distinct.map((sentence, index) => [sentence, embeddings[index]!.embedding]));
  });
  afterAll(() => model?.dispose());

  /** Spearman x 100 of the gold scores against `similarity` of each pair's stored forms. */
  function spearman<Stored>(
    store: (vector: Float32Array) => Stored,
    similarity: (a: Stored, b: Stored) => number,
  ): number {
    const stored = new Map([...vectorOf].map(([sentence, vector]) => [sentence, store(vector)]));
    const predicted = pairs.map((pair) => similarity(stored.get(pair.sentence1)!, stored.get(pair.sentence2)!));
    return (
      100 *
      sampleRankCorrelation(
        predicted,
        pairs.map((pair) => pair.score),
      )
    );
  }

  it("int8 and binary stay near float32, float16 matches it", () => {
    const float32 = spearman((vector) => vector, cosineSimilarity);
    const float16 = spearman((vector) => float16ToFloat32Array(quantize(vector, "float16").bits), cosineSimilarity);
    const int8 = spearman((vector) => quantize(vector, "int8").values, cosineSimilarity);
    const binary = spearman(
      (vector) => quantize(vector, "binary"),
      (a, b) => hammingSimilarity(a.bits, b.bits, a.width),
    );
    const truncated = spearman((vector) => truncateDimensions(vector, MATRYOSHKA_DIMENSIONS, true), cosineSimilarity);

    const figures = { float32, float16, int8, binary, [`float32, first ${MATRYOSHKA_DIMENSIONS} dims`]: truncated };
    const lines = Object.entries(figures).map(([form, value]) => `  ${form.padEnd(26)}${value.toFixed(4)}`);
    console.log([`STS-B dev Spearman x 100, all-MiniLM-L6-v2, ${pairs.length} pairs:`, ...lines].join("\n"));

    expect(Math.abs(float16 - float32)).toBeLessThanOrEqual(0.01);
    expect(Math.abs(int8 - float32)).toBeLessThanOrEqual(1);
    expect(Math.abs(binary - float32)).toBeLessThanOrEqual(5);
    // all-MiniLM-L6-v2 was not trained for Matryoshka truncation: its figure is only reported.
  });
});
