// The package's entry points (package.json "exports"): each maps to a lib/<folder>/index.ts, the
// main one stays small, and the everyday names have the types users write code against.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, expectTypeOf, it } from "vitest";
import * as core from "../../lib/index.js";
import type { Embedding, EmbeddingModel, EmbedOptions, TokenVector } from "../../lib/index.js";
import * as evaluation from "../../lib/eval/index.js";
import * as hub from "../../lib/hub/index.js";
import * as output from "../../lib/output/index.js";
import * as phrases from "../../lib/phrases/index.js";
import * as senses from "../../lib/senses/index.js";
import * as server from "../../lib/server/index.js";
import * as vectorIndex from "../../lib/vector-index/index.js";
import * as wordnet from "../../lib/wordnet/index.js";

const root = join(import.meta.dirname, "..", "..");
const packageJson = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  exports: Record<string, { types: string; default: string } | string>;
};

describe("package entry points", () => {
  it("each subpath is named after its folder: ctxembed/<folder> is dist/<folder>/index.js, compiled from lib/<folder>/index.ts", () => {
    for (const [entry, target] of Object.entries(packageJson.exports)) {
      if (entry === "./package.json") continue;
      expect(typeof target, entry).toBe("object");
      const { types, default: file } = target as { types: string; default: string };
      // "./index" for lib/vector-index/ read like the package entry itself
      expect(file, entry).toBe(entry === "." ? "./dist/index.js" : `./dist/${entry.slice(2)}/index.js`);
      expect(types).toBe(file.replace(/\.js$/, ".d.ts"));
      expect(existsSync(join(root, file.replace(/^\.\/dist\//, "lib/").replace(/\.js$/, ".ts"))), entry).toBe(true);
    }
    expect(Object.keys(packageJson.exports).sort()).toEqual([
      ".",
      "./eval",
      "./hub",
      "./output",
      "./package.json",
      "./phrases",
      "./senses",
      "./server",
      "./vector-index",
      "./wordnet",
    ]);
  });

  it("the main entry holds the everyday API only", () => {
    expect(Object.keys(core).sort()).toEqual(
      [
        "DemonstrationSelector",
        "EmbeddingModel",
        "cosineSimilarity",
        "customPreset",
        "findPreset",
        "l2Normalize",
        "loadModel",
        "poolingModes",
        "precisions",
        "promptEolDemonstrations",
        "promptPresets",
      ].sort(),
    );
  });

  it("the subpaths hold the rest", () => {
    expect(hub).toHaveProperty("pullModel");
    expect(hub).toHaveProperty("convertCheckpoint");
    expect(hub).toHaveProperty("readGgufHeader");
    expect(senses).toHaveProperty("buildSenseDictionary");
    expect(senses).toHaveProperty("embedWordSenses");
    expect(wordnet).toHaveProperty("WordNet");
    expect(phrases).toHaveProperty("searchPhrases");
    expect(evaluation).toHaveProperty("evaluateSts");
    expect(evaluation).toHaveProperty("evaluateWic");
    expect(evaluation).toHaveProperty("evaluatePhraseRetrieval");
    expect(output).toHaveProperty("NpyWriter");
    expect(server).toHaveProperty("buildServer");
    expect(vectorIndex).toHaveProperty("openIndex");
  });

  it("types the everyday calls", () => {
    expectTypeOf(core.loadModel).parameter(0).toEqualTypeOf<string>();
    expectTypeOf(core.loadModel).returns.resolves.toEqualTypeOf<EmbeddingModel>();
    expectTypeOf<EmbeddingModel["embed"]>().toBeCallableWith("a sentence");
    expectTypeOf<EmbeddingModel["embed"]>().toBeCallableWith(
      ["a sentence", { text: "a bank by the river", spans: [{ start: 2, end: 6 }] }],
      { tokens: true, layers: { layers: [-2, -1], combine: "mean" } },
    );
    expectTypeOf<Embedding["embedding"]>().toEqualTypeOf<Float32Array>();
    expectTypeOf<Embedding["tokens"]>().toEqualTypeOf<TokenVector[] | undefined>();
    expectTypeOf<TokenVector>().toHaveProperty("start").toEqualTypeOf<number>();
    expectTypeOf<EmbedOptions["precision"]>().toEqualTypeOf<core.Precision | undefined>();
    expectTypeOf(core.cosineSimilarity).returns.toEqualTypeOf<number>();
    expectTypeOf(hub.pullModel).returns.resolves.toEqualTypeOf<string>();
    expectTypeOf(evaluation.evaluateSts).parameter(0).toEqualTypeOf<EmbeddingModel>();
  });
});
