// Phrases in context with a real model: retrieval reads each passage once and returns exact
// character ranges, corpus search agrees with per-passage ranking, context separates the senses
// of one phrase where the phrase alone cannot, and the CLI prints what the library finds.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, type EmbeddingModel } from "../../../lib/embedding/embedding-model.js";
import { candidateSpans } from "../../../lib/phrases/candidates.js";
import { phraseVectors } from "../../../lib/phrases/phrase-vectors.js";
import { findPhrase, rankSpans, searchPhrases } from "../../../lib/phrases/search.js";
import { phraseMatch, phraseSimilarities } from "../../../lib/phrases/similarity.js";
import { cosineSimilarity, l2Normalize } from "../../../lib/vectors/similarity.js";
import { evaluatePhraseRetrieval, evaluatePhraseSimilarity } from "../../../lib/eval/pic.js";
import { readPhraseRetrieval, readPhraseSimilarity } from "../../../lib/eval/pic-files.js";
import { minilmPath, repositoryRoot } from "../models.js";

const passages = [
  "After a long delay at the gate, the plane finally took off and headed north over the sea.",
  "He took off his wet coat, hung it by the fire and sat down to eat.",
  "The central bank raised interest rates again to slow inflation.",
  "Children were fishing from the grassy bank of the river all afternoon.",
  "Émigrés opened a café — naïve art on the walls, 東京 on the menu.",
];

let model: EmbeddingModel;
beforeAll(async () => {
  model = await loadModel(await minilmPath("f32"), { threads: 2 });
});
afterAll(() => model.dispose());

describe("phrase retrieval", () => {
  it("returns spans whose text is exactly the passage's characters at their range", async () => {
    const ranked = await findPhrase(model, "left the ground", passages, { top: 50 });
    ranked.forEach((matches, p) => {
      expect(matches.length).toBe(Math.min(50, candidateSpans(passages[p]!).length));
      for (const match of matches) {
        expect(match.passage).toBe(p);
        expect(passages[p]!.slice(match.start, match.end)).toBe(match.text);
      }
      const scores = matches.map((match) => match.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
    });
  });

  it("scores each candidate from the one pass over its passage: the mean of that pass's token vectors", async () => {
    const passage = passages[0]!;
    const [matches] = await findPhrase(model, "departed", [passage], { top: 1000 });
    const [query] = await phraseVectors(model, ["departed"]);
    const tokens = (await model.embed(passage, { tokens: true, normalize: false })).tokens!;
    for (const match of matches!.slice(0, 20)) {
      const inside = tokens.filter((token) => !token.special && token.start < match.end && token.end > match.start);
      const mean = new Float32Array(inside[0]!.embedding.length);
      for (const token of inside) token.embedding.forEach((value, d) => (mean[d]! += value / inside.length));
      expect(cosineSimilarity(l2Normalize(mean), query!)).toBeCloseTo(match.score, 5);
    }
  });

  it("with token scoring, matches each candidate's tokens from the passage's one pass against the query's tokens", async () => {
    const passage = passages[0]!;
    const [matches] = await findPhrase(model, "the first flight", [passage], {
      top: 1000,
      scoring: "tokens",
      minWords: 2,
    });
    expect(matches!.length).toBe(candidateSpans(passage, { minWords: 2 }).length);
    const unitTokens = async (text: string) =>
      (await model.embed(text, { tokens: true })).tokens!.filter((token) => !token.special);
    const query = (await unitTokens("the first flight")).map((token) => token.embedding);
    const tokens = await unitTokens(passage);
    for (const match of matches!) {
      expect(match.text.trim().split(/\s+/).length).toBeGreaterThanOrEqual(2);
      expect(passage.slice(match.start, match.end)).toBe(match.text);
      const inside = tokens
        .filter((token) => token.start < match.end && token.end > match.start)
        .map((token) => token.embedding);
      expect(phraseMatch(query, inside)).toBeCloseTo(match.score, 5);
    }
    // Alone, a candidate's tokens come from embedding its text by itself (here outside the
    // candidates' batch, which moves a score by ~1e-5).
    const [alone] = await findPhrase(model, "the first flight", [passage], {
      top: 1,
      scoring: "tokens",
      minWords: 2,
      context: false,
    });
    const best = alone![0]!;
    expect(
      Math.abs(
        phraseMatch(
          query,
          (await unitTokens(best.text)).map((token) => token.embedding),
        ) - best.score,
      ),
    ).toBeLessThan(1e-4);
  });

  it("finds across a stream of passages the same best spans as ranking each passage", async () => {
    const query = "money lenders";
    const perPassage = (await findPhrase(model, query, passages, { top: 1000, mode: "chunks" }))
      .flat()
      .sort((a, b) => b.score - a.score);
    const streamed = await searchPhrases(model, query, passages, { top: 7, mode: "chunks", batchSize: 2 });
    expect(streamed.map(({ passage, start, end }) => [passage, start, end])).toEqual(
      perPassage.slice(0, 7).map(({ passage, start, end }) => [passage, start, end]),
    );
    // Batches of 2 against one batch of 5: the summation order inside the pass moves scores by ~1e-5.
    streamed.forEach((match, i) => expect(Math.abs(match.score - perPassage[i]!.score)).toBeLessThan(1e-4));
  });

  it("tells the senses of one phrase apart in context, where the phrase alone ties", async () => {
    const options = { phrase: "took off", top: 1 };
    const clothing = await rankSpans(
      model,
      passages.slice(0, 2).map((passage) => ({ query: "removed a piece of clothing", passage })),
      options,
    );
    expect(clothing[1]![0]!.score).toBeGreaterThan(clothing[0]![0]!.score + 0.05);
    const flight = await rankSpans(
      model,
      passages.slice(0, 2).map((passage) => ({ query: "an aircraft left the ground", passage })),
      options,
    );
    expect(flight[0]![0]!.score).toBeGreaterThan(flight[1]![0]!.score + 0.05);
    const alone = await rankSpans(
      model,
      passages.slice(0, 2).map((passage) => ({ query: "removed a piece of clothing", passage })),
      { ...options, context: false },
    );
    expect(alone[0]![0]!.score).toBeCloseTo(alone[1]![0]!.score, 6);
  });

  it("gives a phrase in context a vector that depends on its sentence, and alone one that does not", async () => {
    const pairs = [
      [
        { text: passages[2]!, phrase: "bank" },
        { text: passages[3]!, phrase: "bank" },
      ],
      [{ text: passages[2]!, phrase: "bank" }, "bank"],
    ] as const;
    const [acrossSenses, againstAlone] = await phraseSimilarities(model, pairs);
    expect(acrossSenses).toBeLessThan(0.9);
    expect(againstAlone).toBeLessThan(0.99);
    const [aloneAcross] = await phraseSimilarities(model, [pairs[0]], { context: false });
    expect(aloneAcross).toBeCloseTo(1, 6);
  });

  it("refuses bad queries and options before reaching the model, and skips passages with no words", async () => {
    await expect(findPhrase(model, "", passages)).rejects.toThrow(/empty/);
    await expect(findPhrase(model, "bank", passages, { maxWords: 0 })).rejects.toThrow(RangeError);
    await expect(findPhrase(model, "bank", passages, { mode: "clauses" as never })).rejects.toThrow(/mode/);
    await expect(findPhrase(model, "bank", passages, { topK: 3 } as never)).rejects.toThrow(/no option "topK"/);
    await expect(findPhrase(model, "bank", passages, { minWords: 5 })).rejects.toThrow(
      /minWords must be between 1 and 4/,
    );
    await expect(findPhrase(model, "bank", passages, { scoring: "words" as never })).rejects.toThrow(/scoring/);
    await expect(findPhrase(model, "bank", passages, { scoring: "tokens", spanPooling: "max" })).rejects.toThrow(
      /spanPooling applies to scoring "vector"/,
    );
    await expect(findPhrase(model, { text: "the river bank", phrase: "shore" }, passages)).rejects.toThrow(
      /occurs 0 time/,
    );
    await expect(findPhrase(model, "bank", [42 as never])).rejects.toThrow(/passages\[0\] must be a string/);
    expect(await findPhrase(model, "bank", ["", "— !!! —"])).toEqual([[], []]);
    const disposed = await loadModel(await minilmPath("f32"));
    await disposed.dispose();
    await expect(findPhrase(disposed, "bank", passages)).rejects.toThrow(/disposed/);
  });
});

function ctxembed(args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", join(repositoryRoot, "lib", "cli", "main.ts"), ...args], {
    encoding: "utf8",
    cwd: repositoryRoot,
  });
}

describe("ctxembed phrase-search and eval phrases", () => {
  it("prints the library's best spans with their line, range and score", async () => {
    const folder = mkdtempSync(join(tmpdir(), "ctxembed-phrases-"));
    const corpus = join(folder, "corpus.txt");
    writeFileSync(corpus, `${passages.slice(0, 2).join("\n")}\n\n${passages.slice(2).join("\n")}\n`);
    const run = ctxembed([
      "phrase-search",
      "--model",
      await minilmPath("f32"),
      "--query",
      "riverside",
      "--input",
      corpus,
      "--top",
      "3",
      "--json",
    ]);
    expect(run.status, run.stderr).toBe(0);
    const rows = run.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { score: number; line: number; start: number; end: number; text: string });
    const expected = await searchPhrases(model, "riverside", passages, { top: 3 });
    expect(rows.map(({ line, start, end, text }) => ({ line, start, end, text }))).toEqual(
      expected.map((match) => ({
        line: match.passage < 2 ? match.passage + 1 : match.passage + 2,
        start: match.start,
        end: match.end,
        text: match.text,
      })),
    );
    expect(run.stderr).toMatch(/phrase-search: 5 passages in/);
    const byTokens = ctxembed([
      "phrase-search",
      "--model",
      await minilmPath("f32"),
      "--query",
      "riverside",
      "--input",
      corpus,
      "--top",
      "3",
      "--json",
      "--scoring",
      "tokens",
      "--min-words",
      "2",
    ]);
    expect(byTokens.status, byTokens.stderr).toBe(0);
    const tokenRows = byTokens.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { text: string; score: number });
    const tokenExpected = await searchPhrases(model, "riverside", passages, { top: 3, scoring: "tokens", minWords: 2 });
    expect(tokenRows.map(({ text }) => text)).toEqual(tokenExpected.map((match) => match.text));
    tokenRows.forEach((row, i) => expect(row.score).toBeCloseTo(tokenExpected[i]!.score, 5));
    const crossed = ctxembed([
      "phrase-search",
      "--model",
      await minilmPath("f32"),
      "--query",
      "riverside",
      "--input",
      corpus,
      "--min-words",
      "5",
    ]);
    expect(crossed.status).not.toBe(0);
    expect(crossed.stderr).toMatch(/--min-words \(5\) must be at most --max-words \(4\)/);
  });

  it("scores PiC's files as the library does, in context and alone", async () => {
    const fixtures = join(repositoryRoot, "test", "fixtures", "pic");
    const modelFile = await minilmPath("f32");
    const psd = ctxembed([
      "eval",
      "phrases",
      "--model",
      modelFile,
      "--task",
      "psd",
      "--data",
      join(fixtures, "psd.jsonl"),
    ]);
    expect(psd.status, psd.stderr).toBe(0);
    const items = await readPhraseRetrieval(join(fixtures, "psd.jsonl"));
    const printed = JSON.parse(psd.stdout) as { inContext: unknown; alone: unknown };
    expect(printed.inContext).toEqual(await evaluatePhraseRetrieval(model, "psd", items, { context: true }));
    expect(printed.alone).toEqual(await evaluatePhraseRetrieval(model, "psd", items, { context: false }));
    const ps = ctxembed([
      "eval",
      "phrases",
      "--model",
      modelFile,
      "--task",
      "ps",
      "--train",
      join(fixtures, "ps.jsonl"),
      "--data",
      join(fixtures, "ps.jsonl"),
      "--no-alone",
    ]);
    expect(ps.status, ps.stderr).toBe(0);
    const pairs = await readPhraseSimilarity(join(fixtures, "ps.jsonl"));
    const expected = await evaluatePhraseSimilarity(model, pairs, pairs);
    expect((JSON.parse(ps.stdout) as { inContext: { accuracy: number } }).inContext.accuracy).toBeCloseTo(
      expected.accuracy,
      6,
    );
    expect(
      ctxembed(["eval", "phrases", "--model", modelFile, "--task", "ps", "--data", join(fixtures, "ps.jsonl")]).status,
    ).toBe(2);
    // Phrase given: only its two occurrences compete; alone they tie, the earlier wins, and it is right for one of the two items.
    const given = ctxembed([
      "eval",
      "phrases",
      "--model",
      modelFile,
      "--task",
      "psd",
      "--phrase-given",
      "--data",
      join(fixtures, "psd.jsonl"),
    ]);
    expect(given.status, given.stderr).toBe(0);
    expect((JSON.parse(given.stdout) as { alone: { top1: number; top3: number } }).alone).toMatchObject({
      top1: 50,
      top3: 100,
    });
  });
});
