// Readers and writers of PiC's file formats, on the hand-written fixture in test/fixtures/pic
// and on small files written here to reach every error.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { PhraseRetrievalItem } from "../../../lib/eval/pic-data.js";
import {
  readPhraseRetrieval,
  readPhraseSimilarity,
  writePhraseRetrieval,
  writePhraseSimilarity,
} from "../../../lib/eval/pic-files.js";

const fixtures = join(import.meta.dirname, "..", "..", "fixtures", "pic");
const fixture = (name: string) => join(fixtures, name);
const directory = mkdtempSync(join(tmpdir(), "ctxembed-pic-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

let files = 0;
/** A new file in the scratch directory holding `text`. */
function file(text: string, extension = "jsonl"): string {
  const path = join(directory, `${++files}.${extension}`);
  writeFileSync(path, text);
  return path;
}
const jsonLines = (records: unknown[]) => records.map((record) => `${JSON.stringify(record)}\n`).join("");
const recordsOf = (text: string) =>
  text
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
const fixtureRecords = (name: string) => recordsOf(readFileSync(fixture(name), "utf8"));

const psRecord = {
  phrase1: "hard line",
  phrase2: "strict stance",
  sentence1: "They took a hard line.",
  sentence2: "They took a strict stance.",
  label: 1,
};
const prRecord = {
  id: "a",
  context: "The groom got cold feet.",
  query: "lost his nerve",
  answers: { text: ["cold feet"], answer_start: [14] },
};

function expectAnswersInContext(items: PhraseRetrievalItem[]): void {
  for (const item of items) {
    for (const answer of item.answers)
      expect(item.context.slice(answer.start, answer.start + answer.text.length)).toBe(answer.text);
  }
}

describe("PiC phrase similarity files", () => {
  it("reads the fixture, labels given as numbers or strings, each phrase inside its sentence", async () => {
    const pairs = await readPhraseSimilarity(fixture("ps.jsonl"));
    const records = fixtureRecords("ps.jsonl");
    expect(pairs).toHaveLength(records.length);
    pairs.forEach((pair, i) => {
      expect(pair.label).toBe(String(records[i]!.label) === "1");
      expect(pair.sentence1).toContain(pair.phrase1);
      expect(pair.sentence2).toContain(pair.phrase2);
    });
    expect(new Set(records.map((record) => typeof record.label))).toEqual(new Set(["number", "string"]));
  });

  it("reads the same pairs from a JSON array and from {data: [...]}", async () => {
    const pairs = await readPhraseSimilarity(fixture("ps.jsonl"));
    const records = fixtureRecords("ps.jsonl");
    expect(await readPhraseSimilarity(file(JSON.stringify(records, null, 2), "json"))).toEqual(pairs);
    expect(await readPhraseSimilarity(file(JSON.stringify({ data: records }), "json"))).toEqual(pairs);
  });

  it("writes JSON Lines that read back to the same pairs, with labels 0/1 and idx", async () => {
    const pairs = await readPhraseSimilarity(fixture("ps.jsonl"));
    const path = join(directory, "ps-out.jsonl");
    await writePhraseSimilarity(path, pairs);
    expect(await readPhraseSimilarity(path)).toEqual(pairs);
    const written = readFileSync(path, "utf8");
    expect(recordsOf(written).map((record) => [record.label, record.idx])).toEqual(
      pairs.map((pair, i) => [pair.label ? 1 : 0, i]),
    );
    await writePhraseSimilarity(path, await readPhraseSimilarity(path));
    expect(readFileSync(path, "utf8")).toBe(written);
    await writePhraseSimilarity(path, []);
    expect(await readPhraseSimilarity(path)).toEqual([]);
  });

  it("names the file and line of a bad label, a phrase not in its sentence, a missing field and broken JSON", async () => {
    const badLabel = file(jsonLines([psRecord, { ...psRecord, label: "yes" }]));
    await expect(readPhraseSimilarity(badLabel)).rejects.toThrow(
      new RangeError(`line 2 of ${badLabel}: label must be 0 or 1 (a number or a string), got the string "yes"`),
    );
    await expect(readPhraseSimilarity(file(jsonLines([{ ...psRecord, label: 2 }])))).rejects.toThrow(
      /line 1 of .*label must be 0 or 1/,
    );
    await expect(readPhraseSimilarity(file(jsonLines([{ ...psRecord, label: true }])))).rejects.toThrow(
      /label must be 0 or 1/,
    );

    const absent = file(jsonLines([psRecord, psRecord, { ...psRecord, phrase2: "Strict stance" }]));
    await expect(readPhraseSimilarity(absent)).rejects.toThrow(
      new RangeError(`line 3 of ${absent}: phrase2 "Strict stance" does not occur verbatim in sentence2`),
    );

    const { sentence1: _, ...noSentence } = psRecord;
    await expect(readPhraseSimilarity(file(jsonLines([noSentence])))).rejects.toThrow(
      /line 1 of .* has no field "sentence1"/,
    );
    await expect(
      readPhraseSimilarity(file(JSON.stringify([psRecord, { ...psRecord, phrase1: 7 }]), "json")),
    ).rejects.toThrow(/record 2 of .*: phrase1 must be a string/);

    const broken = file(`${jsonLines([psRecord, psRecord])}{"phrase1": "hard line",\n`);
    await expect(readPhraseSimilarity(broken)).rejects.toThrow(SyntaxError);
    await expect(readPhraseSimilarity(broken)).rejects.toThrow(`line 3 of ${broken} is not valid JSON`);
    await expect(readPhraseSimilarity(file('[{"phrase1": }]', "json"))).rejects.toThrow(
      /is neither JSON nor JSON Lines/,
    );
    await expect(readPhraseSimilarity(file('{\n  "rows": []\n}', "json"))).rejects.toThrow(
      /must hold JSON Lines, a JSON array, or an object with a "data" array; it holds an object/,
    );
  });

  it("refuses to write a pair whose phrase is not in its sentence", async () => {
    const path = join(directory, "never-written.jsonl");
    const pair = { ...psRecord, label: true, phrase1: "soft line" };
    await expect(writePhraseSimilarity(path, [pair])).rejects.toThrow(
      `item 1 to write to ${path}: phrase1 "soft line" does not occur verbatim in sentence1`,
    );
    expect(() => readFileSync(path)).toThrow();
  });
});

describe("PiC phrase retrieval and PSD files", () => {
  it("reads flat JSON Lines and nested SQuAD v2 to the same items, every answer at its offset", async () => {
    const flat = await readPhraseRetrieval(fixture("pr-flat.jsonl"));
    expect(await readPhraseRetrieval(fixture("pr-squad.json"))).toEqual(flat);
    expect(flat).toHaveLength(fixtureRecords("pr-flat.jsonl").length);
    expect(flat.some((item) => item.answers.length > 1)).toBe(true);
    expectAnswersInContext(flat);
    const records = fixtureRecords("pr-flat.jsonl");
    expect(await readPhraseRetrieval(file(JSON.stringify({ data: records }), "json"))).toEqual(flat);
    expect(await readPhraseRetrieval(file(JSON.stringify(records), "json"))).toEqual(flat);
  });

  it("reads PSD items: one context, the same phrase answering two queries at two places", async () => {
    const items = await readPhraseRetrieval(fixture("psd.jsonl"));
    expectAnswersInContext(items);
    const [first, second] = items as [PhraseRetrievalItem, PhraseRetrievalItem];
    expect(second.context).toBe(first.context);
    expect(second.answers[0]!.text).toBe(first.answers[0]!.text);
    expect(second.answers[0]!.start).toBeGreaterThan(first.answers[0]!.start);
  });

  it("round-trips items through the writer exactly", async () => {
    for (const name of ["pr-flat.jsonl", "psd.jsonl"]) {
      const items = await readPhraseRetrieval(fixture(name));
      const path = join(directory, `out-${name}`);
      await writePhraseRetrieval(path, items);
      expect(await readPhraseRetrieval(path)).toEqual(items);
      const written = readFileSync(path, "utf8");
      await writePhraseRetrieval(path, await readPhraseRetrieval(path));
      expect(readFileSync(path, "utf8")).toBe(written);
    }
  });

  it("counts answer_start in code points, as Python writes it, and keeps JavaScript string indices in memory", async () => {
    const context = "Fans 🎉 cheered when the underdog pulled off an upset.";
    const text = "pulled off an upset";
    const pythonStart = [...context.slice(0, context.indexOf(text))].length;
    expect(pythonStart).toBe(context.indexOf(text) - 1); // the emoji is one code point, two UTF-16 units
    const [item] = await readPhraseRetrieval(
      file(
        jsonLines([
          { id: "e", context, query: "won against the odds", answers: { text: [text], answer_start: [pythonStart] } },
        ]),
      ),
    );
    expectAnswersInContext([item!]);
    const path = join(directory, "emoji.jsonl");
    await writePhraseRetrieval(path, [item!]);
    expect((recordsOf(readFileSync(path, "utf8"))[0]!.answers as { answer_start: number[] }).answer_start).toEqual([
      pythonStart,
    ]);
  });

  it("names the record of an answer off its offset, an item without answers, a repeated id and a malformed record", async () => {
    const shifted = file(
      jsonLines([prRecord, { ...prRecord, id: "b", answers: { text: ["cold feet"], answer_start: [13] } }]),
    );
    await expect(readPhraseRetrieval(shifted)).rejects.toThrow(
      new RangeError(
        `line 2 of ${shifted}: answer 1 is "cold feet" but the context has " cold fee" at answer_start 13`,
      ),
    );
    await expect(
      readPhraseRetrieval(file(jsonLines([{ ...prRecord, answers: { text: ["cold feet"], answer_start: [99] } }]))),
    ).rejects.toThrow(/the context has "" at answer_start 99/);

    const empty = file(jsonLines([{ ...prRecord, answers: { text: [], answer_start: [] } }]));
    await expect(readPhraseRetrieval(empty)).rejects.toThrow(
      new RangeError(`line 1 of ${empty} (id "a") has no answers; every retrieval item needs at least one`),
    );
    await expect(
      readPhraseRetrieval(file(jsonLines([{ ...prRecord, answers: { text: ["cold feet"], answer_start: [] } }]))),
    ).rejects.toThrow(/1 texts but 0 answer_start/);
    await expect(
      readPhraseRetrieval(file(jsonLines([{ ...prRecord, answers: { text: ["cold feet"], answer_start: ["14"] } }]))),
    ).rejects.toThrow(/answer 1 answer_start must be an integer/);
    await expect(readPhraseRetrieval(file(jsonLines([prRecord, prRecord])))).rejects.toThrow(
      /line 2 of .*: id "a" is already used by line 1 of/,
    );
    await expect(readPhraseRetrieval(file(jsonLines([{ ...prRecord, query: undefined }])))).rejects.toThrow(
      /has no field "query"/,
    );

    const squad = (answers: unknown[]) => ({
      data: [
        {
          title: "t",
          paragraphs: [
            {
              context: prRecord.context,
              qas: [
                { id: "x", question: "q", answers: [{ text: "cold feet", answer_start: 14 }] },
                { id: "y", question: "q", answers },
              ],
            },
          ],
        },
      ],
    });
    const nested = file(JSON.stringify(squad([{ text: "cold feet", answer_start: 4 }])), "json");
    await expect(readPhraseRetrieval(nested)).rejects.toThrow(
      `question 2 of paragraph 1 of record 1 of ${nested}: answer 1 is "cold feet"`,
    );
    await expect(readPhraseRetrieval(file(JSON.stringify(squad([])), "json"))).rejects.toThrow(
      /question 2 of paragraph 1 of record 1 of .* \(id "y"\) has no answers/,
    );
  });

  it("refuses to write an item whose answer is not at its start", async () => {
    const item = { id: "a", context: prRecord.context, query: "q", answers: [{ text: "cold feet", start: 0 }] };
    await expect(writePhraseRetrieval(join(directory, "bad.jsonl"), [item])).rejects.toThrow(
      /item 1 to write to .*: answer 1 is "cold feet"/,
    );
  });
});
