// WordNet senses as vectors. Read by word, after LMMS (Loureiro and Jorge, 2019): a synset's
// vector combines the lemma's in-context vectors in the synset's example sentences with the
// vector of the lemma read against its definition; a synset whose examples never use the lemma
// keeps the definition's vector alone. Read by sentence: the definition and the examples are
// embedded as whole sentences, and so is the sentence an occurrence stands in. An occurrence is
// disambiguated to the synset with the nearest vector.
import { wordsOf } from "../senses/corpus.js";
import { dot, l2Normalize, unitMean } from "../vectors/similarity.js";
import type { Synset, WordNet, WordNetPos } from "./database.js";
import type { SpanEmbedder, SpanRequestInText } from "./span-embedder.js";

/**
 * "word": the lemma's own vector in each example that uses it and against its definition, and an
 * occurrence's word vector. "sentence": every example and the "lemma: definition" text as whole
 * sentences, and the whole sentence of an occurrence: what a sentence-embedding model is
 * trained to compare.
 */
export type SenseReading = "word" | "sentence";

/**
 * How a synset's vector joins its definition's vector with the mean of its examples'.
 * "unit-sum": their sum at unit length (LMMS). "mean-of-cosines": half their sum, whose dot
 * product with a unit occurrence is the mean of its cosines to the definition and to the examples.
 */
export type SenseCombination = "unit-sum" | "mean-of-cosines";

export interface SenseVector {
  synset: Synset;
  /** the examples that went into the vector (after any exclusion), each with where the lemma is */
  examples: SpanRequestInText[];
  vector: Float32Array;
}

/** Sentences compared for leakage: case, punctuation and spacing do not matter ("Room and board ." = "room and board"). */
export function sentenceKey(sentence: string): string {
  return sentence
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}

/** Where `lemma` (or an inflection of it) occurs in `sentence`; multi-word lemmas inflect on their first word. */
export function findLemma(
  wordnet: WordNet,
  sentence: string,
  lemma: string,
  pos: WordNetPos,
): { start: number; end: number } | undefined {
  const parts = lemma.toLowerCase().split(/[\s_]+/);
  const words = wordsOf(sentence);
  for (let i = 0; i + parts.length <= words.length; i++) {
    const first = words[i]!.word;
    if (first !== parts[0] && !wordnet.bases(first, pos).includes(parts[0]!)) continue;
    if (parts.slice(1).every((part, k) => words[i + 1 + k]!.word === part))
      return { start: words[i]!.start, end: words[i + parts.length - 1]!.end };
  }
  return undefined;
}

export class WordNetSenses {
  private constructor(
    private readonly wordnet: WordNet,
    private readonly embed: SpanEmbedder,
    private readonly memo: Map<string, Float32Array>,
    private readonly excluded: ReadonlySet<string>,
    readonly reading: SenseReading,
    readonly combination: SenseCombination,
  ) {}

  /**
   * `embed` gives span vectors for the "word" reading; for "sentence" every request covers its
   * whole text. The combination defaults to "unit-sum" read by word, "mean-of-cosines" by sentence.
   */
  static create(
    wordnet: WordNet,
    embed: SpanEmbedder,
    reading: SenseReading = "word",
    combination?: SenseCombination,
  ): WordNetSenses {
    return new WordNetSenses(
      wordnet,
      embed,
      new Map(),
      new Set(),
      reading,
      combination ?? (reading === "sentence" ? "mean-of-cosines" : "unit-sum"),
    );
  }

  /** The same inventory without any example sentence in `sentences` (vectors already computed are shared). */
  excluding(sentences: Iterable<string>): WordNetSenses {
    return new WordNetSenses(
      this.wordnet,
      this.embed,
      this.memo,
      new Set([...this.excluded, ...[...sentences].map(sentenceKey)]),
      this.reading,
      this.combination,
    );
  }

  /** The same inventory (and exclusions) with its senses combined another way; vectors already computed are shared. */
  combined(combination: SenseCombination): WordNetSenses {
    return new WordNetSenses(this.wordnet, this.embed, this.memo, this.excluded, this.reading, combination);
  }

  private requestsFor(lemma: string, synset: Synset): { gloss: SpanRequestInText; examples: SpanRequestInText[] } {
    const usable = synset.examples.filter((example) => !this.excluded.has(sentenceKey(example)));
    const gloss = `${lemma}: ${synset.definition}`;
    if (this.reading === "sentence") return { gloss: wholeText(gloss), examples: usable.map(wholeText) };
    const examples = usable.flatMap((text) => {
      const at = findLemma(this.wordnet, text, lemma, synset.pos);
      return at ? [{ text, ...at }] : [];
    });
    return { gloss: { text: gloss, start: 0, end: lemma.length }, examples };
  }

  /** Unit vectors of occurrences (a word's range in a text), read as this inventory reads its senses. */
  async occurrenceVectors(occurrences: readonly SpanRequestInText[]): Promise<Float32Array[]> {
    const requests =
      this.reading === "sentence" ? occurrences.map((occurrence) => wholeText(occurrence.text)) : occurrences;
    await this.embedMissing(requests);
    return requests.map((request) => Float32Array.from(this.memo.get(memoKey(request))!));
  }

  /** Embeds, in one model call, the requests whose unit vectors are not yet kept (shared by every inventory derived from this one). */
  private async embedMissing(requests: readonly SpanRequestInText[]): Promise<void> {
    const pending = new Map<string, SpanRequestInText>();
    for (const request of requests) {
      const key = memoKey(request);
      if (!this.memo.has(key)) pending.set(key, request);
    }
    const missing = [...pending.values()];
    const vectors = await this.embed(missing);
    missing.forEach((request, i) => this.memo.set(memoKey(request), l2Normalize(vectors[i]!)));
  }

  /** Embeds, in as few model calls as possible, everything the senses of these lemmas need. */
  async prepare(entries: readonly { lemma: string; pos: WordNetPos }[]): Promise<void> {
    const requests = entries.flatMap(({ lemma, pos }) =>
      this.wordnet.synsets(lemma, pos).flatMap((synset) => {
        const { gloss, examples } = this.requestsFor(lemma, synset);
        return [gloss, ...examples];
      }),
    );
    await this.embedMissing(requests);
  }

  /** Every synset of `lemma` with its definition, usable examples and sense vector, in WordNet's sense order. */
  async senses(lemma: string, pos: WordNetPos): Promise<SenseVector[]> {
    await this.prepare([{ lemma, pos }]);
    return this.wordnet.synsets(lemma, pos).map((synset) => {
      const { gloss, examples } = this.requestsFor(lemma, synset);
      const glossVector = this.memo.get(memoKey(gloss))!;
      if (examples.length === 0) return { synset, examples, vector: Float32Array.from(glossVector) };
      const exampleMean = unitMean(
        examples.map((example) => this.memo.get(memoKey(example))!),
        glossVector.length,
      );
      const sum = exampleMean.map((value, d) => value + glossVector[d]!);
      // Read by sentence, a unit sum sits nearer to every sentence than a lone definition does,
      // and drew occurrences to the synsets that have examples (WiC train, all-MiniLM-L6-v2: 51.3
      // against 65.0 with the mean of cosines).
      return {
        synset,
        examples,
        vector: this.combination === "mean-of-cosines" ? sum.map((value) => value / 2) : l2Normalize(sum),
      };
    });
  }

  /**
   * The synset of `lemma` nearest to an occurrence's vector (from `occurrenceVectors`), with the
   * dot product of the unit vector (read by sentence: the mean of its cosines to the definition
   * and to the examples); undefined when WordNet has no such lemma.
   */
  async disambiguate(
    lemma: string,
    pos: WordNetPos,
    vector: Float32Array,
  ): Promise<{ sense: SenseVector; cosine: number } | undefined> {
    const unit = l2Normalize(Float32Array.from(vector));
    let best: { sense: SenseVector; cosine: number } | undefined;
    for (const sense of await this.senses(lemma, pos)) {
      const cosine = dot(unit, sense.vector);
      if (!best || cosine > best.cosine) best = { sense, cosine };
    }
    return best;
  }
}

function wholeText(text: string): SpanRequestInText {
  return { text, start: 0, end: text.length };
}

function memoKey(request: SpanRequestInText): string {
  return `${request.start}:${request.end}:${request.text}`;
}
