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

/** The prompted text of every input, demonstrations retrieved per input when asked for. */
export async function applyPrompt(texts: string[], plan: PromptPlan): Promise<string[]> {
  return (await applyPromptAt(texts, plan)).map((prompted) => prompted.text);
}

/** applyPrompt, with where each input begins in its prompt. */
export async function applyPromptAt(texts: string[], plan: PromptPlan): Promise<PromptedText[]> {
  if (plan.role === "document") return texts.map((text) => buildDocumentAt(plan.preset, text));
  const examples = Array.isArray(plan.examples)
    ? texts.map(() => plan.examples as Demonstration[])
    : await plan.examples.selector.selectMany(texts, plan.examples.k);
  return texts.map((query, i) =>
    buildQueryAt(plan.preset, {
      query,
      examples: examples[i]!,
      ...(plan.task === undefined ? {} : { task: plan.task }),
    }),
  );
}
