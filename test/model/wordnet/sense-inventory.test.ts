// Needs WordNet 3.0 from Debian (apt-get install wordnet-base; .ci/run installs it): these
// tests fail, not skip, without it.
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readWic, type WicPair } from "../../../lib/eval/wic.js";
import { leaveOutInventories, wicPos } from "../../../lib/eval/wic-features.js";
import { parseDataLine, parseGloss, WordNet } from "../../../lib/wordnet/database.js";
import { dot, l2Normalize, unitMean } from "../../../lib/vectors/similarity.js";
import { findLemma, sentenceKey, WordNetSenses } from "../../../lib/wordnet/sense-inventory.js";
import type { SpanEmbedder } from "../../../lib/wordnet/span-embedder.js";
import { sharedData } from "../models.js";

/** A stand-in model: a deterministic vector per (text, span), and a log of what was embedded. */
function fakeEmbedder(log: string[]): SpanEmbedder {
  return async (requests) =>
    requests.map(({ text, start, end }) => {
      log.push(text);
      return Float32Array.from({ length: 8 }, (_, d) => Math.sin((text.length + start * 3 + end * 7) * (d + 1)));
    });
}

let wordnet: WordNet;
beforeAll(async () => {
  wordnet = await WordNet.open();
}, 60_000);

describe("WordNet database files", () => {
  it("parses a data line: id, lemmas, definition, examples", () => {
    const line =
      '07565259 13 n 02 board 0 table 0 002 @ 07555863 n 0000 + 02334371 v 0101 | food or meals in general; "she sets a fine table"; "room and board"  ';
    expect(parseDataLine(line, "noun")).toEqual({
      id: "07565259-n",
      pos: "noun",
      lemmas: ["board", "table"],
      definition: "food or meals in general",
      examples: ["she sets a fine table", "room and board"],
    });
    expect(parseGloss("a gloss without examples")).toEqual({ definition: "a gloss without examples", examples: [] });
  });

  it("reads the installed WordNet 3.0 (a synset read back from its offset is the one asked for)", () => {
    const synsets = wordnet.synsets("board", "noun");
    expect(synsets.length).toBeGreaterThanOrEqual(9);
    for (const synset of synsets) expect(synset.lemmas).toContain("board");
    expect(wordnet.synsets("no-such-lemma-here", "verb")).toEqual([]);
  });

  it("finds a lemma through inflections and irregular forms", () => {
    expect(findLemma(wordnet, "This letter is being circulated among the faculty", "circulate", "verb")).toEqual({
      start: 21,
      end: 31,
    });
    expect(findLemma(wordnet, "She ran home", "run", "verb")).toEqual({ start: 4, end: 7 });
    expect(findLemma(wordnet, "he took off his hat", "take off", "verb")).toEqual({ start: 3, end: 11 });
    expect(findLemma(wordnet, "nothing to see", "run", "verb")).toBeUndefined();
  });
});

describe("WordNet senses read as whole sentences", () => {
  it("embeds the definition and every example whole, and scores an occurrence by the mean of its two cosines", async () => {
    const log: string[] = [];
    const embed = fakeEmbedder(log);
    const inventory = WordNetSenses.create(wordnet, embed, "sentence").excluding(["room and board"]);
    const senses = await inventory.senses("board", "noun");
    const synsets = wordnet.synsets("board", "noun");
    // every example counts, whether or not it uses the lemma; the excluded one is gone
    expect(senses.map((sense) => sense.examples.map((e) => e.text))).toEqual(
      synsets.map((synset) => synset.examples.filter((e) => e !== "room and board")),
    );
    for (const sense of senses)
      for (const example of sense.examples)
        expect(example).toEqual({ text: example.text, start: 0, end: example.text.length });
    expect(log).not.toContain("room and board");

    const text = "He sat on the board of the company";
    const [occurrence] = await inventory.occurrenceVectors([{ text, start: 14, end: 19 }]);
    const [whole] = await embed([{ text, start: 0, end: text.length }]);
    expect(Array.from(occurrence!)).toEqual(Array.from(l2Normalize(whole!)));

    const whole1 = async (value: string) =>
      l2Normalize((await embed([{ text: value, start: 0, end: value.length }]))[0]!);
    for (const [i, sense] of senses.entries()) {
      const definition = await whole1(`board: ${synsets[i]!.definition}`);
      const expected =
        sense.examples.length === 0
          ? dot(occurrence!, definition)
          : (dot(occurrence!, definition) +
              dot(occurrence!, unitMean(await Promise.all(sense.examples.map((e) => whole1(e.text))), 8))) /
            2;
      expect(dot(occurrence!, sense.vector)).toBeCloseTo(expected, 5);
    }
    expect(
      senses.some((sense) => sense.examples.length === 0) && senses.some((sense) => sense.examples.length > 0),
    ).toBe(true);
  });
});

describe("WiC leakage filter", () => {
  let dev: WicPair[];
  beforeAll(async () => {
    dev = await readWic(join(sharedData, "wic"), "dev");
  });

  it("drops the sense examples that are sentences of the split being scored", async () => {
    const log: string[] = [];
    const full = WordNetSenses.create(wordnet, fakeEmbedder(log));
    const filtered = full.excluding(dev.flatMap((pair) => [pair.sentence1, pair.sentence2]));
    // dev pair "board": "Room and board ." is WordNet's example of board, food or meals.
    const usedBefore = (await full.senses("board", "noun")).flatMap((sense) => sense.examples.map((e) => e.text));
    const usedAfter = (await filtered.senses("board", "noun")).flatMap((sense) => sense.examples.map((e) => e.text));
    expect(usedBefore).toContain("room and board");
    expect(usedAfter).not.toContain("room and board");
    expect(usedAfter).not.toContain("he nailed boards across the windows");
  });

  it("leaves no dev sentence in any dev word's inventory, and removes some", async () => {
    const devKeys = new Set(dev.flatMap((pair) => [sentenceKey(pair.sentence1), sentenceKey(pair.sentence2)]));
    const full = WordNetSenses.create(wordnet, fakeEmbedder([]));
    const filtered = full.excluding(dev.flatMap((pair) => [pair.sentence1, pair.sentence2]));
    const words = [
      ...new Map(
        dev.map((pair) => [`${pair.word}/${pair.partOfSpeech}`, { lemma: pair.word, pos: wicPos(pair.partOfSpeech) }]),
      ).values(),
    ];
    let leakedBefore = 0;
    for (const { lemma, pos } of words) {
      for (const sense of await full.senses(lemma, pos))
        leakedBefore += sense.examples.filter((e) => devKeys.has(sentenceKey(e.text))).length;
      for (const sense of await filtered.senses(lemma, pos))
        expect(sense.examples.filter((e) => devKeys.has(sentenceKey(e.text)))).toEqual([]);
    }
    // WiC is built from WordNet examples: without the filter, many dev sentences sit in the inventory.
    expect(leakedBefore).toBeGreaterThan(100);
  }, 120_000);

  it("leaves out the whole split for a scored split, and only a pair's own sentences for the split a classifier is fitted on", async () => {
    const inventory = WordNetSenses.create(wordnet, fakeEmbedder([]));
    const examples = wordnet
      .synsets("board", "noun")
      .flatMap((synset) => synset.examples.filter((example) => findLemma(wordnet, example, "board", "noun")));
    expect(examples.length).toBeGreaterThanOrEqual(4);
    const pair = (sentence1: string, sentence2: string): WicPair => ({
      word: "board",
      partOfSpeech: "N",
      sentence1,
      sentence2,
      index1: 0,
      index2: 0,
    });
    const pairs = [pair(examples[0]!, examples[1]!), pair(examples[2]!, examples[3]!)];
    const used = async (senses: WordNetSenses) =>
      new Set((await senses.senses("board", "noun")).flatMap((sense) => sense.examples.map((e) => e.text)));
    const split = leaveOutInventories(inventory, pairs, "split");
    for (const p of pairs)
      for (const sentence of examples.slice(0, 4)) expect(await used(split.of(p))).not.toContain(sentence);
    const perPair = leaveOutInventories(inventory, pairs, "pair");
    const [first, second] = [await used(perPair.of(pairs[0]!)), await used(perPair.of(pairs[1]!))];
    expect(first).not.toContain(examples[0]);
    expect(first).not.toContain(examples[1]);
    expect(first).toContain(examples[2]);
    expect(second).toContain(examples[0]);
    expect(second).not.toContain(examples[3]);
  });

  it("compares sentences ignoring case, spacing and punctuation", () => {
    expect(sentenceKey("Room and board .")).toBe(sentenceKey("room and board"));
    expect(sentenceKey("He nailed boards across the windows .")).toBe("he nailed boards across the windows");
  });
});
