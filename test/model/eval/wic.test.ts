// WiC on real models: the prompted sense vector of a word is the last-token vector of its prompt
// (gemma-3-270m), and `eval wic` without --method runs the configuration the selection script
// committed (all-MiniLM-L6-v2, on a slice of WiC).
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, type EmbeddingModel } from "../../../lib/embedding/embedding-model.js";
import { embedWordSenses } from "../../../lib/senses/word-senses.js";
import { cosineSimilarity, l2Normalize } from "../../../lib/vectors/similarity.js";
import { minilmPath, repositoryRoot, sharedData } from "../models.js";

let gemma: EmbeddingModel;
const directory = mkdtempSync(join(tmpdir(), "ctxembed-wic-model-"));
beforeAll(async () => {
  gemma = await loadModel("gemma-3-270m", {
    threads: 2,
    onProgress: (message) => process.stderr.write(`[models] ${message}\n`),
  });
});
afterAll(async () => {
  await gemma.dispose();
  rmSync(directory, { recursive: true, force: true });
});

describe("prompted sense vectors (gemma-3-270m)", () => {
  it("equal the last token's vector of the same prompt embedded by hand", async () => {
    const text = "The boat drifted towards the bank of the river.";
    const start = text.indexOf("bank");
    const [plain, withDemonstrations] = [
      ...(await embedWordSenses(gemma, [{ text, start, end: start + 4 }], { preset: "word-meaning" })),
      ...(await embedWordSenses(gemma, [{ text, start, end: start + 4 }], { preset: "word-meaning-eol" })),
    ];
    // The prompts written out here, not built by the library; token-level output, not its last-token path.
    const prompt = `In the sentence "${text}", the word "bank" means in one word:"`;
    const demonstrations =
      'In the sentence "We had a picnic on the grassy bank of the river.", the word "bank" means in one word:"shore".\n' +
      'In the sentence "She ran the small bakery for thirty years.", the word "ran" means in one word:"managed".\n';
    for (const [vector, byHand] of [
      [plain!, prompt],
      [withDemonstrations!, demonstrations + prompt],
    ] as const) {
      const tokens = (await gemma.embed(byHand, { pooling: "none", normalize: false })).tokens!;
      const last = l2Normalize(Float32Array.from(tokens.at(-1)!.embedding));
      expect(cosineSimilarity(vector, last)).toBeGreaterThanOrEqual(0.9999);
    }
    expect(cosineSimilarity(plain!, withDemonstrations!)).toBeLessThan(0.9999);
    await expect(embedWordSenses(gemma, [{ text, start: 4, end: 4 }])).rejects.toThrow(RangeError);
  });
});

describe("eval wic without --method", () => {
  it("runs the configuration lib/eval/wic-selection.json names, and says so", async () => {
    const wic = join(directory, "wic");
    mkdirSync(wic);
    for (const [split, count] of [
      ["train", 40],
      ["dev", 20],
    ] as const) {
      for (const kind of ["data", "gold"]) {
        const lines = readFileSync(join(sharedData, "wic", `${split}.${kind}.txt`), "utf8")
          .split("\n")
          .slice(0, count);
        writeFileSync(join(wic, `${split}.${kind}.txt`), `${lines.join("\n")}\n`);
      }
    }
    const selection = JSON.parse(readFileSync(join(repositoryRoot, "lib", "eval", "wic-selection.json"), "utf8"));
    const cli = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        join(repositoryRoot, "lib", "cli", "main.ts"),
        "eval",
        "wic",
        "--data",
        wic,
        "--model",
        await minilmPath(),
        "--threads",
        "2",
        "--no-cache",
      ],
      { encoding: "utf8", cwd: repositoryRoot },
    );
    expect(cli.status, cli.stderr).toBe(0);
    const result = JSON.parse(cli.stdout);
    expect(result.configuration).toEqual(selection.configuration);
    expect(result.method).toBe(selection.configuration.method);
    expect(result.chosenBy).toMatch(/cross-validation/);
    expect(cli.stderr).toContain(`wic: ${selection.configuration.method}`);
    expect(result.accuracy).toBeGreaterThanOrEqual(0);
  }, 300_000);
});
