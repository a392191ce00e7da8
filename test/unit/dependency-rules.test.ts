// The layer and import rules of .dependency-cruiser.cjs can fail: a scratch tree holds, for each
// rule, a file that breaks it, and dependency-cruiser run with the repository's own configuration
// (as `npm run lint` runs it) must report that file under that rule and nothing else. A rule
// added without a fixture here fails the test, and so does one whose pattern matches nothing.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const configPath = join(root, ".dependency-cruiser.cjs");
interface LayerRule {
  name: string;
  to: { pathNot: string };
}
const config = createRequire(import.meta.url)(configPath) as { forbidden: { name: string }[] };
const layerRules = config.forbidden.filter(({ name }) => name.startsWith("layer-")) as LayerRule[];
const layers = layerRules.map(({ name }) => name.slice("layer-".length));

/** Files the fixtures import: one in each listed folder, a measuring script, a model helper. */
const baseFiles: Record<string, string> = Object.fromEntries([
  ...layers.map((folder) => [`lib/${folder}/base.ts`, "export const base = 1;\n"]),
  ["scripts/bench/measure.ts", "export const measure = 1;\n"],
  ["test/model/models.ts", "export const modelPath = 'a.gguf';\n"],
]);

const importing = (from: string, to: string) => ({
  [from]: `export * from "${"../".repeat(from.split("/").length - 1)}${to.replace(/\.ts$/, ".js")}";\n`,
});

/** The first listed folder a layer may not import (a peer where it has one), or for the top layer the main entry. */
function forbiddenTarget(rule: LayerRule): string {
  const allowed = /^\^lib\/\((.+)\)\/$/.exec(rule.to.pathNot)?.[1]?.split("|") ?? [];
  const above = layers.find((folder) => !allowed.includes(folder));
  return above === undefined ? "lib/index.ts" : `lib/${above}/base.ts`;
}

/** Per rule: the files that break it; the first is the one the rule must name. */
const fixtures: Record<string, Record<string, string>> = {
  "no-circular": {
    "lib/util/cycle-a.ts": 'import { b } from "./cycle-b.js";\nexport const a = () => b;\n',
    "lib/util/cycle-b.ts": 'import { a } from "./cycle-a.js";\nexport const b = () => a;\n',
  },
  "lib-not-scripts": importing("lib/util/runs-a-script.ts", "scripts/bench/measure.ts"),
  "lib-folder-listed": importing("lib/unlisted/new-concern.ts", "lib/util/base.ts"),
  "core-stays-core": importing("lib/index.ts", "lib/hub/base.ts"),
  "optional-engines-lazy": {
    "lib/embedding/static-queue.ts": 'import { Queue } from "bullmq";\nexport const queue = Queue;\n',
    // what the rule allows, and must not report: a type, and import() when needed
    "lib/cli/lazy-queue.ts":
      'import type { Queue } from "bullmq";\nexport const load = async (): Promise<typeof Queue> => (await import("bullmq")).Queue;\n',
  },
  "scripts-build-standalone": { "scripts/build/install.mjs": 'import "../../lib/util/base.ts";\n' },
  "unit-tests-no-models": importing("test/unit/embeds.test.ts", "test/model/models.ts"),
  "no-unresolvable": { "lib/util/missing.ts": 'export { gone } from "./nowhere.js";\n' },
  ...Object.fromEntries(
    layerRules.map((rule) => [
      rule.name,
      importing(`lib/${rule.name.slice("layer-".length)}/reaches-up.ts`, forbiddenTarget(rule)),
    ]),
  ),
};

const scratch = mkdtempSync(join(tmpdir(), "ctxembed-dependency-rules-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function cruiseFixtures(): { rule: { name: string }; from: string; to: string }[] {
  const files = { ...baseFiles, ...Object.assign({}, ...Object.values(fixtures)) } as Record<string, string>;
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(scratch, path)), { recursive: true });
    writeFileSync(join(scratch, path), text);
  }
  writeFileSync(
    join(scratch, "tsconfig.json"),
    JSON.stringify({ extends: join(root, "tsconfig.json"), include: ["lib/**/*.ts"] }),
  );
  symlinkSync(join(root, "node_modules"), join(scratch, "node_modules"));
  const cli = join(root, "node_modules", "dependency-cruiser", "bin", "dependency-cruise.mjs");
  const run = spawnSync(
    process.execPath,
    [cli, "lib", "scripts", "test", "--config", configPath, "--output-type", "json"],
    { cwd: scratch, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
  );
  expect(run.stderr).toBe("");
  return (JSON.parse(run.stdout) as { summary: { violations: { rule: { name: string }; from: string; to: string }[] } })
    .summary.violations;
}

describe(".dependency-cruiser.cjs", () => {
  it("has a fixture for every rule, and for every layer in its list (jobs a peer of server)", () => {
    expect(Object.keys(fixtures).sort()).toEqual(config.forbidden.map(({ name }) => name).sort());
    expect(layers).toContain("jobs");
  });

  it("reports each fixture under its own rule, and nothing else", { timeout: 60_000 }, () => {
    const violations = cruiseFixtures();
    const reported = Object.fromEntries(
      config.forbidden.map(({ name }) => [
        name,
        [...new Set(violations.filter((violation) => violation.rule.name === name).map(({ from }) => from))].sort(),
      ]),
    );
    const expected = Object.fromEntries(
      Object.entries(fixtures).map(([name, files]) => [name, [Object.keys(files)[0]]]),
    );
    expect(reported).toEqual(expected);
  });
});
