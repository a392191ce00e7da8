// Candidate spans for phrase retrieval, without a model: n-grams stop at punctuation, chunks drop
// function words at their edges, and every span is the passage's own characters.
import { describe, expect, it } from "vitest";
import { candidateSpans, phraseOccurrences } from "../../../lib/phrases/candidates.js";

const texts = (text: string, options = {}) => candidateSpans(text, options).map((span) => span.text);

describe("candidate spans", () => {
  it("lists every word n-gram up to maxWords, in reading order, shorter first", () => {
    expect(texts("the plane took off", { maxWords: 2, mode: "ngrams" })).toEqual([
      "the",
      "the plane",
      "plane",
      "plane took",
      "took",
      "took off",
      "off",
    ]);
    const words = 9;
    const maxWords = 4;
    // n-grams of length 1..4 in 9 words: 9 + 8 + 7 + 6
    expect(candidateSpans("one two three four five six seven eight nine", { maxWords, mode: "ngrams" })).toHaveLength(
      [1, 2, 3, 4].reduce((sum, n) => sum + words - n + 1, 0),
    );
  });

  it("leaves out spans shorter than minWords", () => {
    expect(texts("the plane took off", { minWords: 2, maxWords: 3, mode: "ngrams" })).toEqual([
      "the plane",
      "the plane took",
      "plane took",
      "plane took off",
      "took off",
    ]);
    expect(texts("She took off the coat", { minWords: 2 })).toEqual(["took off", "took off the coat", "off the coat"]);
  });

  it("never crosses punctuation, and keeps inner apostrophes and hyphens inside a word", () => {
    expect(texts("Yes, well-known — isn't it?", { maxWords: 3, mode: "ngrams" })).toEqual([
      "Yes",
      "well-known",
      "isn't",
      "isn't it",
      "it",
    ]);
  });

  it("keeps chunks (the default) free of determiners, pronouns, conjunctions and auxiliaries at either edge", () => {
    expect(candidateSpans("She took off the coat")).toEqual(
      candidateSpans("She took off the coat", { mode: "chunks" }),
    );
    expect(texts("She took off the coat and", { mode: "chunks", maxWords: 3 })).toEqual([
      "took",
      "took off",
      "off",
      "off the coat",
      "coat",
    ]);
    expect(texts("at least the ships", { mode: "chunks", maxWords: 2 })).toEqual(["at", "at least", "least", "ships"]);
  });

  it("gives character ranges in JavaScript string indices, also after astral characters", () => {
    const text = "😀 naïve café — 東京 tower";
    for (const span of candidateSpans(text)) expect(text.slice(span.start, span.end)).toBe(span.text);
    expect(texts(text, { maxWords: 2, mode: "ngrams" })).toContain("東京 tower");
  });

  it("rejects bad settings with the option's name", () => {
    expect(() => candidateSpans("a b", { maxWords: 0 })).toThrow(/maxWords/);
    expect(() => candidateSpans("a b", { mode: "clauses" as never })).toThrow(/mode/);
    expect(() => candidateSpans("a b", { minWords: 3, maxWords: 2 })).toThrow(/minWords must be between 1 and 2/);
  });
});

describe("phrase occurrences", () => {
  it("finds a phrase on word boundaries, ignoring case and spacing", () => {
    const text = "Take off your shoes; the plane takes off. TAKE  OFF!";
    expect(phraseOccurrences(text, "take off").map((span) => span.text)).toEqual(["Take off", "TAKE  OFF"]);
    expect(phraseOccurrences("retake offers", "take off")).toEqual([]);
    expect(phraseOccurrences("a (b) c", "(b)")).toEqual([{ start: 2, end: 5, text: "(b)" }]);
  });
});
