// A phrase-in-context evaluation set in the shape of the PiC tasks, derived from WordNet 3.0:
// every multiword lemma that one of its synset's example sentences uses becomes an occurrence,
// and occurrences turn into phrase similarity pairs, phrase retrieval items and phrase sense
// disambiguation items. docs/phrase-set.md gives the recipe and the resulting counts.
import { createHash } from "node:crypto";
import { seededRandom, shuffle } from "../util/random.js";
import { wordsOf } from "../senses/corpus.js";
import type { PhraseAnswer, PhraseRetrievalItem, PhraseSimilarityPair } from "./pic-data.js";
import { requireInteger, requireKnownKeys, requireOptions } from "../util/validate.js";
import { type Synset, type WordNet, wordNetPartsOfSpeech } from "../wordnet/database.js";
import { findLemma } from "../wordnet/sense-inventory.js";

/** Changes whenever the recipe does, so that results name the set they were measured on. */
export const phraseSetVersion = "wordnet-3.0-phrases-1";

export const phraseSplits = ["train", "dev", "test"] as const;
export type PhraseSplit = (typeof phraseSplits)[number];

export interface PhraseSet {
  ps: Record<PhraseSplit, PhraseSimilarityPair[]>;
  pr: Record<PhraseSplit, PhraseRetrievalItem[]>;
  psd: Record<PhraseSplit, PhraseRetrievalItem[]>;
}

export interface PhraseSetOptions {
  /** draws substitutes, queries and passage order; the split of an expression never depends on it */
  seed?: number;
}

/** Very polysemous phrasal verbs ("take up", "break down") would otherwise dominate PSD. */
const maxSensePairsPerExpression = 3;

/** A multiword lemma of a synset, found in one of the synset's example sentences. */
interface Occurrence {
  synset: Synset;
  lemma: string;
  example: string;
  start: number;
  end: number;
}

/** The expression an item is about: lower-cased, single-spaced ("Act_of_God" = "act of god"). */
export function expressionKey(expression: string): string {
  return expression
    .toLowerCase()
    .split(/[\s_]+/)
    .filter((word) => word.length > 0)
    .join(" ");
}

/** The split of an expression, from a hash of its key alone: 60% train, 20% dev, 20% test. */
export function phraseSplitOf(expression: string): PhraseSplit {
  const bucket = hash32(expressionKey(expression)) % 100;
  return bucket < 60 ? "train" : bucket < 80 ? "dev" : "test";
}

export function buildPhraseSet(wordnet: WordNet, options: PhraseSetOptions = {}): PhraseSet {
  const given = requireOptions(options, "phrase set options");
  requireKnownKeys(given, "phrase set options", ["seed"]);
  const seed = given.seed === undefined ? 1 : requireInteger(given.seed, "seed", 0, 0xffffffff);
  const set: PhraseSet = { ps: emptySplits(), pr: emptySplits(), psd: emptySplits() };
  const byExpression = new Map<string, Occurrence[]>();
  const retrievalCounts = new Map<string, number>();
  for (const occurrence of occurrences(wordnet)) {
    const key = expressionKey(occurrence.lemma);
    const split = phraseSplitOf(key);
    const at = `${occurrence.synset.id}\u0000${key}\u0000${occurrence.example}`;
    set.ps[split].push(...similarityPairs(wordnet, occurrence, randomFor(seed, `ps\u0000${at}`)));
    const n = retrievalCounts.get(occurrence.synset.id) ?? 0;
    const item = retrievalItem(
      wordnet,
      occurrence,
      `pr-${occurrence.synset.id}-${n}`,
      randomFor(seed, `pr\u0000${at}`),
    );
    if (item) {
      set.pr[split].push(item);
      retrievalCounts.set(occurrence.synset.id, n + 1);
    }
    const sameExpression = byExpression.get(key) ?? [];
    sameExpression.push(occurrence);
    byExpression.set(key, sameExpression);
  }
  for (const [key, found] of byExpression) {
    set.psd[phraseSplitOf(key)].push(...disambiguationItems(key, found, randomFor(seed, `psd\u0000${key}`)));
  }
  return set;
}

function* occurrences(wordnet: WordNet): Generator<Occurrence> {
  for (const pos of wordNetPartsOfSpeech) {
    for (const synset of wordnet.allSynsets(pos)) {
      const multiword = synset.lemmas.filter((lemma) => lemma.includes(" "));
      for (const example of synset.examples) {
        for (const lemma of multiword) {
          const at = findLemma(wordnet, example, lemma, pos);
          if (at) yield { synset, lemma, example, ...at };
        }
      }
    }
  }
}

/**
 * PS, as PiC-PS builds it (sentence2 is sentence1 with the phrase replaced): the occurrence
 * against a synonym from its synset (true) and against a lemma of another synset of the same
 * expression (false). An occurrence gives both pairs or none, so labels stay balanced.
 */
function similarityPairs(wordnet: WordNet, occurrence: Occurrence, random: () => number): PhraseSimilarityPair[] {
  const { synset, lemma } = occurrence;
  const own = new Set(synset.lemmas.map(expressionKey));
  const synonym = pick(
    synset.lemmas.filter((other) => expressionKey(other) !== expressionKey(lemma)),
    random,
  );
  const otherSenses = wordnet.synsets(lemma, synset.pos).filter((other) => other.id !== synset.id);
  const foreign = pick(
    [...new Set(otherSenses.flatMap((other) => other.lemmas))].filter((other) => !own.has(expressionKey(other))),
    random,
  );
  if (synonym === undefined || foreign === undefined) return [];
  return [substitution(occurrence, synonym, true), substitution(occurrence, foreign, false)];
}

function substitution(occurrence: Occurrence, substitute: string, label: boolean): PhraseSimilarityPair {
  const { example, start, end } = occurrence;
  const phrase1 = example.slice(start, end);
  // A sentence-initial "Take off your coat" becomes "Remove your coat", not "remove your coat".
  const phrase2 = /^\p{Lu}/u.test(phrase1) ? substitute.charAt(0).toUpperCase() + substitute.slice(1) : substitute;
  return {
    phrase1,
    phrase2,
    sentence1: example,
    sentence2: example.slice(0, start) + phrase2 + example.slice(end),
    label,
  };
}

/**
 * PR: find the occurrence in its example from a synonym that shares no word with it (so the
 * answer cannot be found by string matching), else from the synset's definition. An example
 * that also uses another lemma of the synset outside the occurrence ("they call an access road a
 * slip road") would have a second right answer, so it is left out; one inside it ("record" in
 * "track record") is only a shorter, partly right span.
 */
function retrievalItem(
  wordnet: WordNet,
  occurrence: Occurrence,
  id: string,
  random: () => number,
): PhraseRetrievalItem | undefined {
  const { synset, lemma, example, start, end } = occurrence;
  const others = synset.lemmas.filter((other) => expressionKey(other) !== expressionKey(lemma));
  // blanked, not cut, so that words on either side do not join into a phrase
  const elsewhere = example.slice(0, start) + " ".repeat(end - start) + example.slice(end);
  if (others.some((other) => findLemma(wordnet, elsewhere, other, synset.pos))) return undefined;
  const lemmaWords = new Set(wordsOf(lemma).map(({ word }) => word));
  const query =
    pick(
      others.filter((other) => wordsOf(other).every(({ word }) => !lemmaWords.has(word))),
      random,
    ) ?? synset.definition;
  return { id, context: example, query, answers: [answerIn(occurrence, 0)] };
}

/**
 * PSD: two examples using the same expression in two synsets, joined in a drawn order; one item
 * asks for each synset's meaning (its definition), so each passage is the right one once.
 */
function disambiguationItems(key: string, found: readonly Occurrence[], random: () => number): PhraseRetrievalItem[] {
  // each synset's first example that uses the expression
  const senses = found.filter(
    (occurrence, i) => found.findIndex((other) => other.synset.id === occurrence.synset.id) === i,
  );
  const pairs = senses
    .flatMap((first, i) => senses.slice(i + 1).map((second) => [first, second] as const))
    .filter(([first, second]) => first.example !== second.example);
  return shuffle(pairs, random)
    .slice(0, maxSensePairsPerExpression)
    .flatMap((pair) => {
      const [first, second] = random() < 0.5 ? pair : ([pair[1], pair[0]] as const);
      const context = `${first.example} ${second.example}`;
      const placed = [
        { sense: first, other: second, offset: 0 },
        { sense: second, other: first, offset: first.example.length + 1 },
      ];
      return placed.map(({ sense, other, offset }) => ({
        id: `psd-${sense.synset.id}-${other.synset.id}-${key.replaceAll(" ", "_")}`,
        context,
        query: sense.synset.definition,
        answers: [answerIn(sense, offset)],
      }));
    });
}

function answerIn(occurrence: Occurrence, offset: number): PhraseAnswer {
  return { text: occurrence.example.slice(occurrence.start, occurrence.end), start: offset + occurrence.start };
}

function emptySplits<T>(): Record<PhraseSplit, T[]> {
  return { train: [], dev: [], test: [] };
}

function hash32(text: string): number {
  return createHash("sha256").update(text).digest().readUInt32BE(0);
}

/** One generator per item, so that an item's draws do not depend on the items built before it. */
function randomFor(seed: number, key: string): () => number {
  return seededRandom(hash32(`${seed}\u0000${key}`));
}

function pick<T>(items: readonly T[], random: () => number): T | undefined {
  return items.length === 0 ? undefined : items[Math.floor(random() * items.length)];
}
