// Needs WordNet 3.0 from Debian (apt-get install wordnet-base; .ci/run installs it): these
// tests fail, not skip, without it. Every item is checked against WordNet itself: the synset it
// names or the example it quotes must hold the expression, the substitute, the query it claims.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  buildPhraseSet,
  expressionKey,
  type PhraseSet,
  type PhraseSplit,
  phraseSplitOf,
  phraseSplits,
} from "../../../lib/eval/wordnet-phrase-set.js";
import { wordsOf } from "../../../lib/senses/corpus.js";
import type { PhraseRetrievalItem, PhraseSimilarityPair } from "../../../lib/eval/pic-data.js";
import { defaultWordNetDirectory, type Synset, WordNet, wordNetPartsOfSpeech } from "../../../lib/wordnet/database.js";
import { findLemma } from "../../../lib/wordnet/sense-inventory.js";

let wordnet: WordNet;
let set: PhraseSet;
const synsetById = new Map<string, Synset>();
const synsetsByExample = new Map<string, Synset[]>();

beforeAll(async () => {
  wordnet = await WordNet.open();
  set = buildPhraseSet(wordnet);
  for (const pos of wordNetPartsOfSpeech) {
    for (const synset of wordnet.allSynsets(pos)) {
      synsetById.set(synset.id, synset);
      for (const example of synset.examples)
        synsetsByExample.set(example, [...(synsetsByExample.get(example) ?? []), synset]);
    }
  }
}, 60_000);

/** The multiword lemmas of `synset` that WordNet's lemma finder places exactly at `start` in `sentence`, spelled `text`. */
function lemmasAt(synset: Synset, sentence: string, start: number, text: string): string[] {
  return synset.lemmas.filter((lemma) => {
    const at = lemma.includes(" ") ? findLemma(wordnet, sentence, lemma, synset.pos) : undefined;
    return at !== undefined && at.start === start && sentence.slice(at.start, at.end) === text;
  });
}

/** The (synset, lemma) occurrences in a PS pair's sentence1 whose replacement by phrase2 gives sentence2. */
function occurrencesReplaced(pair: PhraseSimilarityPair): { synset: Synset; lemma: string }[] {
  return (synsetsByExample.get(pair.sentence1) ?? []).flatMap((synset) =>
    synset.lemmas.flatMap((lemma) => {
      const at = lemma.includes(" ") ? findLemma(wordnet, pair.sentence1, lemma, synset.pos) : undefined;
      const replaced =
        at &&
        pair.sentence1.slice(at.start, at.end) === pair.phrase1 &&
        pair.sentence1.slice(0, at.start) + pair.phrase2 + pair.sentence1.slice(at.end) === pair.sentence2;
      return replaced ? [{ synset, lemma }] : [];
    }),
  );
}

const prId = /^pr-(\d{8}-[nvar])-\d+$/;
const psdId = /^psd-(\d{8}-[nvar])-(\d{8}-[nvar])-(.+)$/;

const sameExpression = (a: string, b: string): boolean => expressionKey(a) === expressionKey(b);
const retrievalTasks = ["pr", "psd"] as const;
const itemsOf = (items: Record<PhraseSplit, PhraseRetrievalItem[]>): PhraseRetrievalItem[] =>
  phraseSplits.flatMap((split) => items[split]);

describe("WordNet synsets in file order", () => {
  it("yields every synset line of each data file, each equal to the synset looked up by lemma", async () => {
    for (const pos of wordNetPartsOfSpeech) {
      const text = await readFile(join(defaultWordNetDirectory, `data.${pos}`), "utf8");
      const lines = text.split("\n").filter((line) => /^\d{8} /.test(line));
      const synsets = [...wordnet.allSynsets(pos)];
      expect(synsets.map((synset) => synset.id.slice(0, 8))).toEqual(lines.map((line) => line.slice(0, 8)));
      for (const synset of synsets.filter((_, i) => i % 997 === 0))
        expect(wordnet.synsets(synset.lemmas[0]!, pos)).toContainEqual(synset);
    }
  });
});

describe("WordNet phrase set", () => {
  it("is the same set build after build, and a seed changes draws, not membership", () => {
    expect(buildPhraseSet(wordnet)).toEqual(set);
    const reseeded = buildPhraseSet(wordnet, { seed: 2 });
    for (const split of phraseSplits) {
      expect(reseeded.pr[split].map((item) => item.id)).toEqual(set.pr[split].map((item) => item.id));
      expect(reseeded.ps[split].map((pair) => pair.sentence1)).toEqual(set.ps[split].map((pair) => pair.sentence1));
    }
    expect(reseeded.ps.train.map((pair) => pair.phrase2)).not.toEqual(set.ps.train.map((pair) => pair.phrase2));
  });

  it("rejects options it does not know and seeds that are not 32-bit integers", () => {
    expect(() => buildPhraseSet(wordnet, { sead: 2 } as never)).toThrow(TypeError);
    expect(() => buildPhraseSet(wordnet, { seed: 1.5 })).toThrow(TypeError);
    expect(() => buildPhraseSet(wordnet, { seed: -1 })).toThrow(RangeError);
  });

  it("assigns expressions to splits by key alone, about 60/20/20", () => {
    expect(phraseSplitOf("Act_of_God")).toBe(phraseSplitOf("act of  god"));
    const all = [
      ...new Set(
        [...synsetById.values()].flatMap((synset) =>
          synset.lemmas.filter((lemma) => lemma.includes(" ")).map(expressionKey),
        ),
      ),
    ];
    const splits = all.map(phraseSplitOf);
    const share = (split: PhraseSplit) => splits.filter((other) => other === split).length / all.length;
    expect(share("train")).toBeCloseTo(0.6, 1);
    expect(share("dev")).toBeCloseTo(0.2, 1);
    expect(share("test")).toBeCloseTo(0.2, 1);
  });

  it("has items in every task and split", () => {
    for (const task of ["ps", "pr", "psd"] as const)
      for (const split of phraseSplits) expect(set[task][split].length).toBeGreaterThan(0);
  });

  it("gives answers that are exact character ranges of their contexts", () => {
    for (const task of retrievalTasks) {
      for (const item of itemsOf(set[task])) {
        expect(item.answers.length).toBeGreaterThan(0);
        for (const { text, start } of item.answers) {
          expect(text.length).toBeGreaterThan(0);
          expect(item.context.slice(start, start + text.length)).toBe(text);
        }
      }
      const ids = itemsOf(set[task]).map((item) => item.id);
      expect(new Set(ids).size).toBe(ids.length);
    }
  });

  it("puts every item in the split its expression hashes to, so no expression is in two splits", () => {
    for (const split of phraseSplits) {
      for (const item of set.pr[split]) {
        const synset = synsetById.get(prId.exec(item.id)![1]!)!;
        const [answer] = item.answers;
        expect(
          lemmasAt(synset, item.context, answer!.start, answer!.text).some((lemma) => phraseSplitOf(lemma) === split),
        ).toBe(true);
      }
      for (const item of set.psd[split]) expect(phraseSplitOf(psdId.exec(item.id)![3]!)).toBe(split);
      for (const pair of set.ps[split])
        expect(occurrencesReplaced(pair).some(({ lemma }) => phraseSplitOf(lemma) === split)).toBe(true);
    }
  });

  it("pairs each occurrence with a synonym (true) and a lemma of another sense of the expression (false), balanced per split", () => {
    for (const split of phraseSplits) {
      const pairs = set.ps[split];
      expect(pairs.filter((pair) => pair.label).length).toBe(pairs.filter((pair) => !pair.label).length);
      for (const pair of pairs) {
        const senses = occurrencesReplaced(pair);
        expect(senses.length).toBeGreaterThan(0);
        expect(sameExpression(pair.phrase1, pair.phrase2)).toBe(false);
        const isSynonym = ({ synset }: { synset: Synset }) =>
          synset.lemmas.some((lemma) => sameExpression(lemma, pair.phrase2));
        if (pair.label) expect(senses.some(isSynonym)).toBe(true);
        else {
          expect(senses.every((sense) => !isSynonym(sense))).toBe(true);
          const otherSenses = senses.flatMap(({ synset, lemma }) =>
            wordnet.synsets(lemma, synset.pos).filter((other) => other.id !== synset.id),
          );
          expect(otherSenses.some((other) => other.lemmas.some((lemma) => sameExpression(lemma, pair.phrase2)))).toBe(
            true,
          );
        }
      }
    }
  });

  it("asks PR for a synonym sharing no word with the answer, or for the synset's definition", () => {
    for (const item of itemsOf(set.pr)) {
      const synset = synsetById.get(prId.exec(item.id)![1]!)!;
      const [answer] = item.answers;
      const [lemma] = lemmasAt(synset, item.context, answer!.start, answer!.text);
      const lemmaWords = new Set(wordsOf(lemma!).map(({ word }) => word));
      const synonym = synset.lemmas.find((other) => other === item.query);
      if (synonym) expect(wordsOf(synonym).some(({ word }) => lemmaWords.has(word))).toBe(false);
      else expect(item.query).toBe(synset.definition);
    }
  });

  it("builds each PSD context from two examples of two senses of the expression, and asks for each sense once", () => {
    const asked = new Map<string, Set<number>>();
    const pairsPerExpression = new Map<string, Set<string>>();
    for (const item of itemsOf(set.psd)) {
      const [, askedId, otherId, expression] = psdId.exec(item.id)!;
      const sense = synsetById.get(askedId!)!;
      const other = synsetById.get(otherId!)!;
      expect(item.query).toBe(sense.definition);
      const [answer] = item.answers;
      const splits = sense.examples.flatMap((mine) =>
        other.examples.flatMap((theirs) => {
          if (item.context === `${mine} ${theirs}`) return [{ mine, offset: 0 }];
          return item.context === `${theirs} ${mine}` ? [{ mine, offset: theirs.length + 1 }] : [];
        }),
      );
      expect(splits.length).toBe(1);
      const [{ mine, offset }] = splits as [{ mine: string; offset: number }];
      expect(
        lemmasAt(sense, mine, answer!.start - offset, answer!.text).some((lemma) =>
          sameExpression(lemma, expression!.replaceAll("_", " ")),
        ),
      ).toBe(true);
      asked.set(item.context, (asked.get(item.context) ?? new Set()).add(offset));
      pairsPerExpression.set(
        expression!,
        (pairsPerExpression.get(expression!) ?? new Set()).add([askedId, otherId].sort().join()),
      );
    }
    for (const halves of asked.values()) expect(halves.size).toBe(2);
    for (const pairs of pairsPerExpression.values()) expect(pairs.size).toBeLessThanOrEqual(3);
  });
});
