// Rules for test/ that no import rule can see. A unit test that reads the machine's own files
// (WordNet or OpenBLAS under /usr, a Python environment, the model cache, the shared data sets)
// passes only where they happen to be. A test skipped by a bare skipIf passes CI without its check:
// every conditional skip goes through test/skips.ts, which fails it under CI=true or says why.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const testRoot = join(import.meta.dirname, "..");
const sources = (folder: string) =>
  readdirSync(join(testRoot, folder), { recursive: true, encoding: "utf8" })
    .filter((file) => /\.(ts|mjs)$/.test(file) && !file.endsWith("test-rules.test.ts"))
    .map((file) => ({ file: join(folder, file), text: readFileSync(join(testRoot, folder, file), "utf8") }));
const found = (pattern: RegExp, text: string) => [...text.matchAll(pattern)].map(([match]) => match);

const systemPath =
  /(?<=["'`])(?:\/(?:usr|opt)\/|(?:\.\.\/)+shared\/|[^"'`\s]*(?:bin\/python|\.cache\/ctxembed))[^"'`]*/g;
const bareSkip =
  /\b(?:it|test|describe|suite)\.(?:skipIf|runIf|skip|todo)\b|\bcontext\.skip\(|\bctx\.skip\(|\bskip\(\)/g;

describe("rules for test/", () => {
  it("unit tests name no system path: the scan finds them in a fixture, and none in test/unit/", () => {
    const fixture =
      'const words = "/usr/share/wordnet/data.noun";\nreadFileSync(`../../shared/data/wic/train.tsv`);\nspawnSync("/tmp/refenv/bin/python");';
    expect(found(systemPath, fixture)).toEqual([
      "/usr/share/wordnet/data.noun",
      "../../shared/data/wic/train.tsv",
      "/tmp/refenv/bin/python",
    ]);
    const hits = sources("unit").flatMap(({ file, text }) => found(systemPath, text).map((path) => `${file}: ${path}`));
    expect(hits).toEqual([]);
  });

  it("every conditional skip goes through test/skips.ts: the scan finds bare ones in a fixture, and none in test/", () => {
    const fixture =
      'it.skipIf(!hasNumpy)("numpy loads", () => {});\ndescribe.skip("later", () => {});\nit.runIf(avx512)("fast", () => {});\nit("x", (context) => context.skip());';
    expect(found(bareSkip, fixture)).toEqual(["it.skipIf", "describe.skip", "it.runIf", "context.skip("]);
    const hits = ["unit", "model", "package"]
      .flatMap(sources)
      .concat(sources(".").filter(({ file }) => !file.includes("/") && file !== "skips.ts"))
      .flatMap(({ file, text }) => found(bareSkip, text).map((call) => `${file}: ${call}`));
    expect(hits).toEqual([]);
  });
});
