// The prompt budget without a model: a tokenizer that counts words, so that every count below
// can be checked by hand. The model tests (test/model/prompts/prompt-budget.test.ts) run the same
// rules on all-MiniLM-L6-v2's own tokenizer.
import { describe, expect, it } from "vitest";
import { applyPromptAt, checkPromptParts, planPrompt, type PromptBudget } from "../../../lib/prompts/prompting.js";

const words = (text: string): number => text.split(/\s+/).filter(Boolean).length;
const budget = (maxTokens: number, cutInputs = true): PromptBudget => ({
  model: "a word counter",
  maxTokens,
  countTokens: words,
  cutInputs,
});
const demonstration = (size: number, name: string) => ({ query: `${name} `.repeat(size).trim(), response: name });
// PromptEOL's query form puts 7 words around the input; a demonstration of n words adds n + 6
// (its closing `".` runs into the "This" that follows it).
const plan = (examples: { query: string; response: string }[]) => planPrompt({ template: "prompteol", examples })!;

describe("a prompt over its budget", () => {
  it("keeps every demonstration when the prompt fits, and says none was dropped", async () => {
    const [fitted] = await applyPromptAt(["one two three"], plan([demonstration(4, "far")]), budget(100));
    expect(fitted).toMatchObject({ examplesDropped: 0, cut: false });
    expect(words(fitted!.text)).toBe(4 + 6 + 3 + 7);
  });

  it("drops the demonstrations farthest from the input first, as few as needed", async () => {
    const examples = [demonstration(10, "far"), demonstration(5, "middle"), demonstration(2, "near")];
    // All three: 16 + 11 + 8 + 3 + 7 = 45 words; without the farthest 29; without two 18; none 10.
    for (const [limit, dropped, kept] of [
      [45, 0, ["far", "middle", "near"]],
      [44, 1, ["middle", "near"]],
      [28, 2, ["near"]],
      [17, 3, []],
    ] as const) {
      const [fitted] = await applyPromptAt(["one two three"], plan(examples), budget(limit));
      expect(fitted!.examplesDropped, `limit ${limit}`).toBe(dropped);
      for (const name of ["far", "middle", "near"])
        expect(fitted!.text.includes(`"${name}".`), `${name} at limit ${limit}`).toBe(
          (kept as readonly string[]).includes(name),
        );
      expect(fitted!.cut).toBe(false);
    }
  });

  it("cuts an input too long even alone inside its prompt, keeping the template's end, only when allowed", async () => {
    const input = "w ".repeat(20).trim();
    const [cut] = await applyPromptAt([input], plan([demonstration(3, "d")]), budget(10));
    expect(cut).toMatchObject({ examplesDropped: 1, cut: true });
    expect(words(cut!.text)).toBeLessThanOrEqual(10);
    expect(cut!.text.endsWith('" means in one word:"')).toBe(true);
    const [whole] = await applyPromptAt([input], plan([demonstration(3, "d")]), budget(10, false));
    expect(whole).toMatchObject({ examplesDropped: 1, cut: false });
    expect(whole!.text).toContain(input);
  });
});

describe("parts that cannot fit with any input", () => {
  it("refuses a demonstration by its place, and a template by name", () => {
    expect(() => checkPromptParts(plan([demonstration(2, "a"), demonstration(30, "b")]), budget(20))).toThrow(
      /^prompt\.examples\[1\] makes a prompt of 44 tokens with a one-character input: a word counter embeds at most 20/,
    );
    expect(() => checkPromptParts(plan([demonstration(2, "a")]), budget(20))).not.toThrow();
    const long = planPrompt({ template: { query: `${"w ".repeat(30)}{query}` } })!;
    expect(() => checkPromptParts(long, budget(20))).toThrow(/^the prompt's template makes 31 tokens/);
  });
});
