// Prompted embedding: each input is placed in a template (an instruction, demonstrations), and
// the preset decides the pooling and whether the end-of-text token closes the input.
import type { DemonstrationSelector } from "./demonstrations.js";
import {
  buildDocumentAt,
  buildQueryAt,
  customPreset,
  findPreset,
  type CustomPresetSpec,
  type Demonstration,
  type PromptedText,
  type PromptPreset,
} from "./templates.js";
import { describe, requireInteger, requireKnownKeys, requireOneOf, requireOptions } from "../util/validate.js";

export const promptRoles = ["query", "document"] as const;
export type PromptRole = (typeof promptRoles)[number];

export interface PromptOptions {
  /** a preset name (qwen3-embedding, e5-mistral, gte-qwen2, bge-en-icl, prompteol) or a custom template */
  template: string | CustomPresetSpec;
  /** queries get the instruction and demonstrations; documents get the document template (default "query") */
  role?: PromptRole;
  /** the instruction, for templates with a {task} slot */
  task?: string;
  /** fixed demonstrations, or the k most similar to each input from a selector's pool */
  examples?: Demonstration[] | { selector: DemonstrationSelector; k: number };
}

export interface PromptPlan {
  preset: PromptPreset;
  role: PromptRole;
  task: string | undefined;
  examples: Demonstration[] | { selector: DemonstrationSelector; k: number };
}

export function planPrompt(value: unknown): PromptPlan | undefined {
  if (value === undefined) return undefined;
  const given = requireOptions(value, "prompt");
  requireKnownKeys(given, "prompt", ["template", "role", "task", "examples"]);
  const { template, task, examples = [] } = given;
  const preset =
    typeof template === "string"
      ? findPreset(template)
      : template && typeof template === "object"
        ? customPreset(template as CustomPresetSpec)
        : undefined;
  if (!preset)
    throw new TypeError(`prompt.template must be a preset name or a custom template, got ${describe(template)}`);
  if (task !== undefined && typeof task !== "string")
    throw new TypeError(`prompt.task must be a string, got ${describe(task)}`);
  const role = given.role === undefined ? "query" : requireOneOf(given.role, "prompt.role", promptRoles);
  if (!Array.isArray(examples)) {
    const { selector, k } = requireOptions(examples, "prompt.examples") as {
      selector?: DemonstrationSelector;
      k?: unknown;
    };
    if (!selector || typeof selector.selectMany !== "function")
      throw new TypeError("prompt.examples.selector must be a DemonstrationSelector");
    return { preset, role, task, examples: { selector, k: requireInteger(k, "prompt.examples.k", 1, selector.size) } };
  }
  return { preset, role, task, examples: examples as Demonstration[] };
}

/**
 * The model's side of a prompt: the most tokens one prompted text may have, and how many a text
 * makes. With it, demonstrations and the template make way for the input instead of the other
 * way round (a prompt cut from its end loses the input first, and every vector becomes the same).
 */
export interface PromptBudget {
  /** the model, as errors name it */
  model: string;
  maxTokens: number;
  /** tokens of a prompted text as the model reads it, special tokens included */
  countTokens(text: string): number;
  /**
   * Whether an input too long even without demonstrations is cut (inside its prompt, so that the
   * template's end stays); otherwise it is left whole for the caller to refuse or split.
   */
  cutInputs: boolean;
}

/** An input in its prompt, fitted to a budget. */
export interface FittedPrompt extends PromptedText {
  /** demonstrations left out so that the input keeps its room (the farthest from it first) */
  examplesDropped: number;
  /** whether the input itself was cut to fit */
  cut: boolean;
}

/** The prompted text of every input, demonstrations retrieved per input when asked for. */
export async function applyPrompt(texts: string[], plan: PromptPlan, budget?: PromptBudget): Promise<string[]> {
  return (await applyPromptAt(texts, plan, budget)).map((prompted) => prompted.text);
}

/** applyPrompt, with where each input begins in its prompt and what was left out to fit the budget. */
export async function applyPromptAt(texts: string[], plan: PromptPlan, budget?: PromptBudget): Promise<FittedPrompt[]> {
  if (plan.role === "document") return texts.map((text) => fitPrompt(promptBuilder(plan), text, [], budget));
  const examples = Array.isArray(plan.examples)
    ? texts.map(() => plan.examples as Demonstration[])
    : await plan.examples.selector.selectMany(texts, plan.examples.k);
  return texts.map((query, i) => fitPrompt(promptBuilder(plan), query, examples[i]!, budget));
}

type PromptBuilder = (input: string, examples: readonly Demonstration[]) => PromptedText;

function promptBuilder(plan: PromptPlan): PromptBuilder {
  if (plan.role === "document") return (text) => buildDocumentAt(plan.preset, text);
  return (query, examples) =>
    buildQueryAt(plan.preset, { query, examples, ...(plan.task === undefined ? {} : { task: plan.task }) });
}

/** The smallest n in [low, high] for which `holds` is true (it holds for every larger n), or undefined. */
function smallestHolding(low: number, high: number, holds: (n: number) => boolean): number | undefined {
  if (low > high || !holds(high)) return undefined;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if (holds(middle)) high = middle;
    else low = middle + 1;
  }
  return low;
}

function fitPrompt(
  build: PromptBuilder,
  input: string,
  examples: readonly Demonstration[],
  budget: PromptBudget | undefined,
): FittedPrompt {
  const whole = build(input, examples);
  const fits = (prompted: PromptedText) => budget!.countTokens(prompted.text) <= budget!.maxTokens;
  if (!budget || fits(whole)) return { ...whole, examplesDropped: 0, cut: false };
  // Demonstrations stand farthest from the input first, so they are the first to go.
  const dropped = smallestHolding(1, examples.length, (n) => fits(build(input, examples.slice(n))));
  if (dropped !== undefined) return { ...build(input, examples.slice(dropped)), examplesDropped: dropped, cut: false };
  const alone = build(input, []);
  if (!budget.cutInputs) return { ...alone, examplesDropped: examples.length, cut: false };
  // Cut by characters and rebuild, so that the template's end (where a prompt pools) stays and the
  // prompt is tokenized as one text; the token count grows with the characters kept.
  const characters = Array.from(input);
  const cutAt = (n: number) => build(characters.slice(0, characters.length - n).join(""), []);
  const removed = smallestHolding(1, characters.length - 1, (n) => fits(cutAt(n)));
  if (removed === undefined) return { ...alone, examplesDropped: examples.length, cut: false };
  return { ...cutAt(removed), examplesDropped: examples.length, cut: true };
}

/**
 * Refuses the parts of a prompt that cannot fit with any input, before any input is embedded:
 * the template with its instruction, and each demonstration (fixed, or of a retrieval pool). The
 * error names the part, never an input that is not to blame.
 */
export function checkPromptParts(plan: PromptPlan, budget: PromptBudget): void {
  const build = promptBuilder(plan);
  // The least an input can be: one character.
  const tokensWith = (examples: readonly Demonstration[]) => budget.countTokens(build("x", examples).text);
  const limit = `${budget.model} embeds at most ${budget.maxTokens}`;
  const bare = tokensWith([]);
  if (bare > budget.maxTokens) {
    const parts = plan.role === "query" && plan.task !== undefined ? "template and instruction (task)" : "template";
    throw new RangeError(
      `the prompt's ${parts} makes ${bare} tokens with a one-character input: ${limit}, so no input fits; shorten it`,
    );
  }
  if (plan.role === "document") return;
  const [demonstrations, name] = Array.isArray(plan.examples)
    ? [plan.examples, (index: number) => `prompt.examples[${index}]`]
    : [plan.examples.selector.demonstrations, (index: number) => `the demonstration pool's [${index}]`];
  demonstrations.forEach((demonstration, index) => {
    const tokens = tokensWith([demonstration]);
    if (tokens > budget.maxTokens) {
      throw new RangeError(
        `${name(index)} makes a prompt of ${tokens} tokens with a one-character input: ${limit}, so it cannot go with any input; shorten it or leave it out`,
      );
    }
  });
}
