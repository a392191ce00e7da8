// The README's figures each name what produces them, and that exists: a test file, or a command
// (`npm run SCRIPT -- --flags`, `npx tsx FILE --flags`) whose script is there and takes those
// flags. A measurement-like figure elsewhere in the README's prose must be one of the table's.
// And the WiC selection names the same command as docs/wic.md, which that command writes.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const read = (path: string) => readFileSync(join(root, path), "utf8");
const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;

/** What is wrong with one reference to a producer, or undefined where it exists and takes its flags. */
function producerProblem(reference: string): string | undefined {
  const words = reference.split(/\s+/);
  const flagsIn = (file: string) => {
    const source = read(file);
    return words.filter((word) => word.startsWith("--")).find((flag) => !source.includes(`"${flag}`));
  };
  if (/^test\/.+\.test\.ts$/.test(reference)) return existsSync(join(root, reference)) ? undefined : "no such test";
  if (words[0] === "npx" && words[1] === "tsx") {
    if (!existsSync(join(root, words[2] ?? ""))) return `no such script ${words[2]}`;
    const flag = flagsIn(words[2]!);
    return flag === undefined ? undefined : `${words[2]} has no option ${flag}`;
  }
  if (words[0] === "npm" && words[1] === "run") {
    const target = scripts[words[2] ?? ""];
    if (target === undefined) return `package.json has no script ${words[2]}`;
    const file = target.split(/\s+/).find((word) => /\.(ts|mjs|js)$/.test(word));
    const flag = file === undefined ? undefined : flagsIn(file);
    return flag === undefined ? undefined : `${file} has no option ${flag}`;
  }
  return "neither a test file nor an npm run / npx tsx command";
}

const readme = read("README.md");
const figuresSection = /^## Figures\n([\s\S]*?)\n## /m.exec(readme)?.[1] ?? "";
const figureRows = figuresSection
  .split("\n")
  .filter((line) => line.startsWith("| ") && !line.startsWith("| what ") && !line.startsWith("| ---"))
  .map((line) => {
    const [what = "", measured = "", source = ""] = line.slice(2, -2).split(" | ");
    const references = [...source.matchAll(/`([^`]+)`/g)].map(([, code]) => code!);
    return { what, measured, references };
  });

// Decimals with two or more places, ratios (1.5x) and timings; not versions (0.31.0, >= 3.18).
const figurePattern = /(?<![\d.]|>= )\d[\d,]*\.\d{2,}(?![\d.])|\b\d+(?:\.\d+)?x\b|\b\d+(?:\.\d+)? (?:ms|s)\b/g;

describe("README figures", () => {
  it("the table has the figures, each row naming a test or a command that exists and takes its flags", () => {
    expect(figureRows.length).toBeGreaterThan(5);
    const problems = figureRows.flatMap(({ what, references }) => {
      const producers = references.filter(
        (code) => producerProblem(code) !== "neither a test file nor an npm run / npx tsx command",
      );
      if (producers.length === 0) return [`${what}: names no test or command`];
      return producers.flatMap((code) => {
        const problem = producerProblem(code);
        return problem === undefined ? [] : [`${what}: ${code}: ${problem}`];
      });
    });
    expect(problems).toEqual([]);
  });

  it("the check refuses a missing test, a missing script and an option the script lacks", () => {
    expect(producerProblem("test/model/embedding/sentence-parity.test.ts")).toBeUndefined();
    expect(producerProblem("npm run bench -- --peers")).toBeUndefined();
    expect(producerProblem("test/model/nowhere.test.ts")).toBe("no such test");
    expect(producerProblem("npm run benchmark -- --peers")).toBe("package.json has no script benchmark");
    expect(producerProblem("npm run bench -- --no-such-mode")).toBe(
      "scripts/bench/main.ts has no option --no-such-mode",
    );
    expect(producerProblem("npx tsx scripts/eval/nowhere.ts")).toBe("no such script scripts/eval/nowhere.ts");
    expect(producerProblem("ctxembed eval wic")).toMatch(/neither/);
  });

  it("a figure in the README's prose is one of the table's", () => {
    const prose = readme
      .replace(figuresSection, "")
      .replace(/```[\s\S]*?```/g, "")
      .replace(/`[^`]*`/g, "");
    const measured = figureRows.map(({ measured }) => measured).join(" ");
    const stray = [...prose.matchAll(figurePattern)]
      .map(([figure]) => figure)
      .filter((figure) => !measured.includes(figure));
    expect(
      [..."took 1.5x and 24.1 s, at 0.9994; cmake >= 3.18, lancedb 0.31.0".matchAll(figurePattern)].map(([f]) => f),
    ).toEqual(["1.5x", "24.1 s", "0.9994"]);
    expect(stray).toEqual([]);
  });
});

describe("docs/wic.md and lib/eval/wic-selection.json", () => {
  it("name the same command, the one that writes them both", () => {
    const selection = JSON.parse(read("lib/eval/wic-selection.json")) as { producedBy: string };
    const documented = /produced by `([^`]+)`/i.exec(read("docs/wic.md"))?.[1];
    expect(documented).toBe(selection.producedBy);
    const table = /<!-- wic-selection:start -->\nProduced by `([^`]+)`/.exec(read("docs/wic.md"))?.[1];
    expect(table).toBe(selection.producedBy);
    expect(producerProblem(selection.producedBy)).toBeUndefined();
  });
});
