// PiC's retrieval metrics and SQuAD's answer metrics, against values worked out by hand with
// SQuAD's evaluation rules, and against properties every ranking must satisfy.
import { describe, expect, it } from "vitest";
import type { PhraseAnswer } from "../../../lib/eval/pic-data.js";
import {
  exactMatch,
  normalizeAnswer,
  retrievalMetrics,
  tokenF1,
  type RankedSpan,
} from "../../../lib/eval/pic-metrics.js";

/** The span of `context` starting at the `nth` occurrence of `text`, scored `score`. */
function span(context: string, text: string, score: number, nth = 0): RankedSpan {
  let start = -1;
  for (let i = 0; i <= nth; i++) start = context.indexOf(text, start + 1);
  if (start < 0) throw new Error(`${text} is not in the context`);
  return { text, start, end: start + text.length, score };
}
const answerAt = (context: string, text: string, nth = 0): PhraseAnswer => ({
  text,
  start: span(context, text, 0, nth).start,
});

describe("SQuAD answer metrics", () => {
  it("normalises as SQuAD does: lower case, ASCII punctuation and articles removed, whitespace collapsed", () => {
    expect(normalizeAnswer("  The Big,   CAT! ")).toBe("big cat");
    expect(normalizeAnswer("an apple a day")).toBe("apple day");
    // Articles go only as whole words; punctuation goes first, so "the-end" becomes "theend".
    expect(normalizeAnswer("theatre, another anthem")).toBe("theatre another anthem");
    expect(normalizeAnswer("the-end")).toBe("theend");
    // Python's \b treats "é" as a letter, so the "a" in "éa" is no article.
    expect(normalizeAnswer("café a éa")).toBe("café éa");
    expect(normalizeAnswer("“quoted” words")).toBe("“quoted” words");
  });

  it("exact match is the best over the gold answers", () => {
    expect(exactMatch("The harbour master.", ["harbourmaster", "harbour master"])).toBe(1);
    expect(exactMatch("harbour", ["harbour master"])).toBe(0);
    expect(() => exactMatch("x", [])).toThrow(RangeError);
  });

  it("token F1 matches hand-computed SQuAD values", () => {
    // "the big cat" -> [big, cat]; "big cat sat" -> [big, cat, sat]. Common 2: precision 2/2,
    // recall 2/3, F1 = 2 * 1 * 2/3 / (1 + 2/3) = 0.8.
    expect(tokenF1("the big cat", ["big cat sat"])).toBeCloseTo(0.8, 12);
    // Repeated tokens count once per gold copy: [cat, cat] vs [cat] shares 1: precision 1/2,
    // recall 1, F1 = 2 * 1/2 / (3/2) = 2/3.
    expect(tokenF1("cat cat", ["cat"])).toBeCloseTo(2 / 3, 12);
    // The best gold wins: [got, cold, feet] vs [cold, feet] is precision 2/3, recall 1 = 0.8.
    expect(tokenF1("got cold feet", ["nerves", "cold feet"])).toBeCloseTo(0.8, 12);
    expect(tokenF1("sleeper hit", ["bestseller"])).toBe(0);
    // SQuAD 2.0: an answer that normalises to nothing scores 1 only against nothing.
    expect(tokenF1("the", ["a"])).toBe(1);
    expect(tokenF1("the", ["cat"])).toBe(0);
  });
});

describe("PiC retrieval metrics", () => {
  const context = "After the storm the harbour master inspected the breakwater while the crews mended their nets.";
  const answers = [answerAt(context, "harbour master")];

  it("matches a hand-computed example", () => {
    const results = [
      // hit at rank 1; best span exact: EM 1, F1 1
      { answers, ranked: [span(context, "harbour master", 0.9), span(context, "storm", 0.5)] },
      // hit at rank 3; best span "the harbour" -> [harbour] vs [harbour, master]: P 1, R 1/2, F1 2/3
      {
        answers,
        ranked: [span(context, "the harbour", 0.8), span(context, "crews", 0.7), span(context, "harbour master", 0.6)],
      },
      // hit at rank 6, outside the five MRR@5 looks at; best span shares no token: EM 0, F1 0
      {
        answers,
        ranked: ["storm", "breakwater", "crews", "nets", "inspected", "harbour master"].map((text, i) =>
          span(context, text, 1 - i / 10),
        ),
      },
    ];
    const metrics = retrievalMetrics(results);
    expect(metrics.count).toBe(3);
    expect(metrics.top1).toBeCloseTo(100 / 3, 10);
    expect(metrics.top3).toBeCloseTo(200 / 3, 10);
    expect(metrics.mrr5).toBeCloseTo((100 * (1 + 1 / 3 + 0)) / 3, 10);
    expect(metrics.exactMatch).toBeCloseTo(100 / 3, 10);
    expect(metrics.f1).toBeCloseTo((100 * (1 + 2 / 3 + 0)) / 3, 10);
  });

  it("counts a span as the answer by its normalised text or by its exact range", () => {
    const byText = { ...span(context, "harbour master", 1), text: "The Harbour Master", start: 0, end: 5 };
    const byRange = { ...span(context, "harbour master", 1), text: "harbourmaster" };
    const offByOne = {
      ...span(context, "harbour master", 1),
      text: "harbour-master",
      end: span(context, "harbour master", 1).end + 1,
    };
    expect(retrievalMetrics([{ answers, ranked: [byText] }]).top1).toBe(100);
    expect(retrievalMetrics([{ answers, ranked: [byRange] }]).top1).toBe(100);
    expect(retrievalMetrics([{ answers, ranked: [offByOne] }]).top1).toBe(0);
  });

  it("PSD: the phrase in the wrong passage counts by text, not with match 'range'", () => {
    const joined =
      "The ship was sent to break the ice in the strait. The trainer told a joke to break the ice among colleagues.";
    const results = [
      {
        answers: [answerAt(joined, "break the ice", 1)],
        ranked: [span(joined, "break the ice", 0.9, 0), span(joined, "break the ice", 0.8, 1)],
      },
    ];
    expect(retrievalMetrics(results).top1).toBe(100);
    const bySense = retrievalMetrics(results, { match: "range" });
    expect(bySense.top1).toBe(0);
    expect(bySense.top3).toBe(100);
    expect(bySense.mrr5).toBe(50);
    expect(() => retrievalMetrics(results, { match: "words" as "range" })).toThrow(TypeError);
  });

  it("a perfect ranking scores 100 everywhere, an empty one 0, no results 0", () => {
    const items = [
      { context, answers },
      { context, answers: [answerAt(context, "mended their nets")] },
    ];
    const perfect = retrievalMetrics(
      items.map((item) => ({
        answers: item.answers,
        ranked: [span(context, item.answers[0]!.text, 1), span(context, "storm", 0)],
      })),
    );
    expect(perfect).toEqual({ count: 2, top1: 100, top3: 100, mrr5: 100, exactMatch: 100, f1: 100 });
    expect(retrievalMetrics(items.map((item) => ({ answers: item.answers, ranked: [] })))).toEqual({
      count: 2,
      top1: 0,
      top3: 0,
      mrr5: 0,
      exactMatch: 0,
      f1: 0,
    });
    expect(retrievalMetrics([])).toEqual({ count: 0, top1: 0, top3: 0, mrr5: 0, exactMatch: 0, f1: 0 });
  });

  it("refuses a result without gold answers", () => {
    expect(() =>
      retrievalMetrics([
        { answers, ranked: [] },
        { answers: [], ranked: [] },
      ]),
    ).toThrow(new RangeError("result 2 has no gold answers to compare with"));
  });
});
