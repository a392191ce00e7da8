// Sense dictionaries and WiC methods on the real model: two senses of a word recovered from a
// small corpus, the same vectors through the CLI, and the WiC methods on a slice of the data.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, type EmbeddingModel } from "../../../lib/embedding/embedding-model.js";
import { buildSenseDictionary, type SenseDictionary } from "../../../lib/senses/dictionary.js";
import { loadDictionary, saveDictionary } from "../../../lib/senses/dictionary-file.js";
import { dot, l2Normalize, unitMean } from "../../../lib/vectors/similarity.js";
import { accuracyAt, fitThreshold, pairCosines, readWic, wicWordVectors, type WicPair } from "../../../lib/eval/wic.js";
import { wicPos } from "../../../lib/eval/wic-features.js";
import { evaluateWic } from "../../../lib/eval/wic-methods.js";
import { WordNet } from "../../../lib/wordnet/database.js";
import { sentenceKey } from "../../../lib/wordnet/sense-inventory.js";
import { minilmPath, repositoryRoot, sharedData } from "../models.js";

const river = [
  "the river",
  "the muddy stream",
  "the flooded creek",
  "the lake",
  "the canal",
  "the quiet brook",
  "the swollen river",
  "the pond",
];
const money = [
  "the loan",
  "her savings account",
  "the mortgage",
  "a cash deposit",
  "the interest rate",
  "his credit card",
  "the overdraft",
  "a wire transfer",
];
const riverText = (place: string, i: number) =>
  `We walked along the bank of ${place} and watched the water ${["rise", "fall", "flow", "swirl"][i % 4]}.`;
const moneyText = (thing: string, i: number) =>
  `She called the bank about ${thing} and asked the clerk ${["twice", "again", "politely", "early"][i % 4]}.`;

async function* corpusOf(lines: string[]): AsyncGenerator<string> {
  yield* lines;
}

let model: EmbeddingModel;
let modelFile: string;
let dictionary: SenseDictionary;
const directory = mkdtempSync(join(tmpdir(), "ctxembed-senses-model-"));
const corpus = [
  ...river.map(riverText),
  ...money.map(moneyText),
  ...river.map((p, i) => riverText(p, i + 1)),
  ...money.map((m, i) => moneyText(m, i + 1)),
];

beforeAll(async () => {
  modelFile = await minilmPath("f32");
  model = await loadModel(modelFile, { threads: 2 });
  dictionary = await buildSenseDictionary(model, () => corpusOf(corpus), {
    words: ["bank"],
    clustering: { method: "kmeans", k: 2 },
    seed: 3,
  });
});
afterAll(async () => {
  await model.dispose();
  rmSync(directory, { recursive: true, force: true });
});

describe("sense dictionary from a corpus", () => {
  it("separates the river bank from the money bank", async () => {
    const entry = dictionary.lookup("bank")!;
    expect(entry.occurrences).toBe(corpus.length);
    expect(entry.senses).toHaveLength(2);
    // Each sense's typical contexts are all of one kind.
    for (const sense of entry.senses) {
      const kinds = new Set(sense.contexts.map((context) => (context.includes("water") ? "river" : "money")));
      expect(kinds.size).toBe(1);
    }
    // New sentences of each kind go to the sense whose contexts are of that kind.
    const fresh = ["They fished from the grassy bank of the stream.", "The bank approved the business loan on Monday."];
    const vectors = await model.embed(
      fresh.map((text) => ({ text, spans: [{ find: "bank" }] })),
      { normalize: false },
    );
    const assigned = vectors.map((v) => entry.senses[dictionary.assign("bank", v.spans![0]!.embedding)!.sense]!);
    expect(assigned[0]!.contexts[0]).toMatch(/water/);
    expect(assigned[1]!.contexts[0]).not.toMatch(/water/);
  });

  it("the CLI builds the same dictionary and assigns with it", async () => {
    const corpusFile = join(directory, "corpus.txt");
    const wordsFile = join(directory, "words.txt");
    writeFileSync(corpusFile, `${corpus.join("\n")}\n`);
    writeFileSync(wordsFile, "bank\n");
    const out = join(directory, "bank.ctxsense");
    const cli = (args: string[]) =>
      spawnSync(process.execPath, ["--import", "tsx", join(repositoryRoot, "lib", "cli", "main.ts"), ...args], {
        encoding: "utf8",
        cwd: repositoryRoot,
      });
    const build = cli([
      "senses",
      "build",
      "--model",
      modelFile,
      "--corpus",
      corpusFile,
      "--words",
      wordsFile,
      "--k",
      "2",
      "--seed",
      "3",
      "--out",
      out,
    ]);
    expect(build.status, build.stderr).toBe(0);
    const saved = join(directory, "library.ctxsense");
    await saveDictionary(dictionary, saved);
    const [fromCli, fromLibrary] = [await loadDictionary(out), await loadDictionary(saved)];
    expect(fromCli.lookup("bank")!.senses.map((s) => s.contexts)).toEqual(
      fromLibrary.lookup("bank")!.senses.map((s) => s.contexts),
    );

    const show = cli(["senses", "show", "--dict", out, "--word", "Bank"]);
    expect(show.status, show.stderr).toBe(0);
    expect(JSON.parse(show.stdout).senses).toHaveLength(2);
    const assign = cli([
      "senses",
      "assign",
      "--dict",
      out,
      "--model",
      modelFile,
      "--text",
      "The boat drifted towards the bank of the river.",
      "--word",
      "bank",
    ]);
    expect(assign.status, assign.stderr).toBe(0);
    expect(JSON.parse(assign.stdout).contexts[0]).toMatch(/water/);
    expect(cli(["senses", "show", "--dict", out, "--word", "absent"]).status).toBe(1);
  });
});

describe("WiC methods on a slice of WiC", () => {
  it("fit on train, score dev; the cosine method agrees with the reference threshold search", async () => {
    const wic = join(directory, "wic");
    mkdirSync(wic);
    for (const [split, count] of [
      ["train", 30],
      ["dev", 20],
    ] as const) {
      for (const kind of ["data", "gold"]) {
        const lines = (await readFile(join(sharedData, "wic", `${split}.${kind}.txt`), "utf8"))
          .split("\n")
          .slice(0, count);
        writeFileSync(join(wic, `${split}.${kind}.txt`), `${lines.join("\n")}\n`);
      }
    }
    const train = await readWic(wic, "train");
    const dev = await readWic(wic, "dev");
    // A small sense dictionary of the slice's words from the slice's sentences (plumbing only: no labels are read).
    const sentences = [...train, ...dev].flatMap((p) => [p.sentence1, p.sentence2]);
    const words = [...new Set([...train, ...dev].map((p) => p.word))];
    const sliceDictionary = await buildSenseDictionary(model, () => corpusOf(sentences), {
      words,
      clustering: { method: "kmeans", k: 2 },
      minOccurrencesToSplit: 2,
    });
    const wordnet = await WordNet.open();
    const results = await evaluateWic(
      model,
      wic,
      "dev",
      [
        "cosine",
        "dictionary",
        "wordnet",
        "wordnet-sentence",
        { method: "logistic", features: ["wordnet", "wordnetSentence", "dictionary"] },
      ],
      { wordnet, dictionary: sliceDictionary },
    );
    const cosine = results.find((r) => r.method === "cosine")!;
    // Reference: the baseline's per-layer cosines (lib/eval/wic.ts), averaged over the chosen layers, and its threshold search.
    const [from, to] = (cosine.parameters.layers as string).split("-").map(Number) as [number, number];
    const layers = Array.from({ length: to - from + 1 }, (_, i) => from + i);
    const meanCosine = async (pairs: Awaited<ReturnType<typeof readWic>>) => {
      const vectors = await wicWordVectors(model, pairs, layers);
      const perLayer = layers.map((_, slot) => pairCosines(vectors, [slot]));
      return pairs.map((_, p) => perLayer.reduce((sum, layer) => sum + layer[p]!, 0) / layers.length);
    };
    const fitted = fitThreshold(
      await meanCosine(train),
      train.map((p) => p.same!),
    );
    expect(cosine.trainAccuracy).toBeCloseTo(fitted.accuracy, 6);
    expect(cosine.accuracy).toBeCloseTo(
      accuracyAt(
        await meanCosine(dev),
        dev.map((p) => p.same!),
        fitted.threshold,
      ),
      6,
    );
    expect(results.find((r) => r.method === "wordnet")!.parameters.coveredPercent).toBeGreaterThan(90);

    // Reference for wordnet-sentence: each sentence's nearest synset by the mean of its cosines to
    // "word: definition" and to the centroid of the examples left after dropping every dev sentence.
    const sentenceMethod = results.find((r) => r.method === "wordnet-sentence")!;
    expect(sentenceMethod.parameters.coveredPercent).toBe(100);
    const devKeys = new Set(dev.flatMap((p) => [sentenceKey(p.sentence1), sentenceKey(p.sentence2)]));
    const vectorOf = async (text: string) => l2Normalize((await model.embed(text)).embedding);
    const nearestSynset = async (pair: WicPair, text: string) => {
      const occurrence = await vectorOf(text);
      const scores: number[] = [];
      for (const synset of wordnet.synsets(pair.word, wicPos(pair.partOfSpeech))) {
        const definition = dot(occurrence, await vectorOf(`${pair.word}: ${synset.definition}`));
        const examples = await Promise.all(synset.examples.filter((e) => !devKeys.has(sentenceKey(e))).map(vectorOf));
        scores.push(
          examples.length === 0
            ? definition
            : (definition + dot(occurrence, unitMean(examples, occurrence.length))) / 2,
        );
      }
      return scores.indexOf(Math.max(...scores));
    };
    let agreeing = 0;
    for (const pair of dev)
      agreeing += Number(
        ((await nearestSynset(pair, pair.sentence1)) === (await nearestSynset(pair, pair.sentence2))) === pair.same,
      );
    expect(sentenceMethod.accuracy).toBeCloseTo((100 * agreeing) / dev.length, 6);
    // Reference for the dictionary's coverage: the dev pairs whose lemma is itself an entry (a pair
    // is also covered through its surface form, so this is a lower bound), most of this slice.
    const lemmaCovered =
      (100 * dev.filter((pair) => sliceDictionary.lookup(pair.word.toLowerCase())).length) / dev.length;
    expect(lemmaCovered).toBeGreaterThan(50);
    expect(results.find((r) => r.method === "dictionary")!.parameters.coveredPercent).toBeGreaterThanOrEqual(
      lemmaCovered,
    );
    const logisticFeatures = Object.keys(
      results.find((r) => r.method === "logistic")!.parameters.weights as Record<string, number>,
    );
    for (const inventory of ["wordnet ", "wordnetSentence ", "dictionary "])
      expect(
        logisticFeatures.some((name) => name.startsWith(inventory)),
        inventory,
      ).toBe(true);
    // Every method scores each of the dev pairs once: its accuracy is a whole number of them.
    for (const result of results)
      expect(Number.isInteger(Number(((result.accuracy * dev.length) / 100).toFixed(6))), result.method).toBe(true);
  }, 900_000);
});
