// Reads STS-B and WiC from ../shared/data, hence a model-side test (the unit tests need no data).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { promptEolDemonstrations } from "../../../lib/prompts/prompteol-demonstrations.js";
import { sharedData } from "../models.js";

describe("PromptEOL demonstrations", () => {
  it("share no sentence with STS-B train/dev or WiC, so evaluation data cannot leak into prompts", () => {
    // Compared as lower-case words, since WiC's sentences are tokenized ("gear ." for "gear.").
    const words = (text: string): string => ` ${(text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).join(" ")} `;
    const sentenceColumns = (file: string, columns: number[]): string[] =>
      readFileSync(join(sharedData, file), "utf8")
        .split("\n")
        .flatMap((line) => columns.map((column) => line.split("\t")[column] ?? ""));
    const evaluationSentences = [
      ...sentenceColumns("stsb/sts-train.csv", [5, 6]),
      ...sentenceColumns("stsb/sts-dev.csv", [5, 6]),
      ...sentenceColumns("wic/train.data.txt", [3, 4]),
      ...sentenceColumns("wic/dev.data.txt", [3, 4]),
    ].map(words);
    expect(evaluationSentences.length).toBeGreaterThan(2 * (5749 + 1500 + 5428 + 638));
    const leaked = promptEolDemonstrations.filter(({ query }) =>
      evaluationSentences.some((sentence) => sentence.includes(words(query))),
    );
    expect(leaked).toEqual([]);
    // The check does catch a sentence that is there: the paper's own demonstration is in STS-B train.
    expect(evaluationSentences.some((sentence) => sentence.includes(words("A jockey riding a horse.")))).toBe(true);
  });
});
