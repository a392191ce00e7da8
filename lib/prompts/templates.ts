// Prompt formats of instruction-tuned and in-context embedders, kept as data: a template is a
// string with {placeholder} slots, so a new model's format is a new object rather than new code,
// and the exact bytes a model was trained on can be read (and tested) in one place.
//
// Slots, by what a template builds:
//   query     {query}, optionally {task} (the instruction) and {examples} (the demonstrations)
//   document  {text}
//   example   {query} and {response}, optionally {task}: one demonstration
// Literal braces are written {{ and }}.
import {
  describe,
  requireBoolean,
  requireKnownKeys,
  requireOneOf,
  requireOptions,
  requireText,
} from "../util/validate.js";

/** One in-context example. For PromptEOL: `query` is the sentence, `response` its one word. */
export interface Demonstration {
  query: string;
  response: string;
}

export const promptPoolings = ["last", "mean"] as const;
export type PromptPooling = (typeof promptPoolings)[number];

export interface PromptPreset {
  readonly name: string;
  readonly description: string;
  /** template of a query: {query}, and optionally {task} and {examples} */
  readonly query: string;
  /** template of a document: {text}; absent when documents are embedded as they are */
  readonly document?: string;
  /** template of one demonstration: {query}, {response}, optionally {task}; present exactly when `query` has {examples} */
  readonly example?: string;
  /** between two filled demonstrations; default "" */
  readonly exampleSeparator?: string;
  /** after the last filled demonstration, when there is at least one; default "" */
  readonly examplesSuffix?: string;
  /** how the model turns token vectors into the text's vector */
  readonly pooling: PromptPooling;
  /**
   * Whether the model's end-of-sequence token must end every input. It is a token id, appended
   * after tokenizing, never text in the prompt: written as text ("<|endoftext|>") it would be
   * split into ordinary pieces by a tokenizer that does not parse special tokens.
   */
  readonly appendEos: boolean;
}

/** A preset of one's own: templates as in PromptPreset; pooling defaults to "last", appendEos to false. */
export interface CustomPresetSpec {
  name?: string;
  description?: string;
  query: string;
  document?: string;
  example?: string;
  exampleSeparator?: string;
  examplesSuffix?: string;
  pooling?: PromptPooling;
  appendEos?: boolean;
}

export interface QueryInput {
  /** the instruction, for templates with a {task} slot */
  task?: string;
  query: string;
  /** demonstrations, in prompt order (the last one ends up next to the query) */
  examples?: readonly Demonstration[];
}

type TemplatePart = { literal: string } | { placeholder: string };

const presetKeys = [
  "name",
  "description",
  "query",
  "document",
  "example",
  "exampleSeparator",
  "examplesSuffix",
  "pooling",
  "appendEos",
] as const;
const placeholderName = /^[A-Za-z_][A-Za-z0-9_]*$/;
// An escaped brace, a {slot}, or a brace that is neither (an error).
const templateSyntax = /\{\{|\}\}|\{([^{}]*)\}|[{}]/g;

function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let literal = "";
  let consumed = 0;
  for (const match of template.matchAll(templateSyntax)) {
    literal += template.slice(consumed, match.index);
    consumed = match.index + match[0].length;
    if (match[0] === "{{" || match[0] === "}}") {
      literal += match[0][0];
      continue;
    }
    const name = match[1];
    if (name === undefined) {
      throw new SyntaxError(
        `template ${JSON.stringify(template)} has an unmatched "${match[0]}" at index ${match.index}; write {{ or }} for a literal brace`,
      );
    }
    if (!placeholderName.test(name)) {
      throw new SyntaxError(
        `template ${JSON.stringify(template)} has a malformed placeholder "${match[0]}" at index ${match.index}`,
      );
    }
    if (literal) parts.push({ literal });
    literal = "";
    parts.push({ placeholder: name });
  }
  literal += template.slice(consumed);
  if (literal) parts.push({ literal });
  return parts;
}

function placeholderNames(parts: readonly TemplatePart[]): Set<string> {
  return new Set(parts.flatMap((part) => ("placeholder" in part ? [part.placeholder] : [])));
}

function placeholdersOf(template: string): Set<string> {
  return placeholderNames(parseTemplate(template));
}

/** Which optional slots a preset's query template has: an instruction to fill, demonstrations to take. */
export function querySlots(preset: PromptPreset): { task: boolean; examples: boolean } {
  const slots = placeholdersOf(preset.query);
  return { task: slots.has("task"), examples: slots.has("examples") };
}

/**
 * Fills every {placeholder} of `template` from `values`. A placeholder without a value and a
 * value without a placeholder are both errors: either way, the prompt is not the one intended.
 */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return fillTemplateAt(template, values, undefined).text;
}

/** fillTemplate, and where the value of the first `slot` placeholder begins in the result (-1 when there is none). */
function fillTemplateAt(
  template: string,
  values: Readonly<Record<string, string>>,
  slot: string | undefined,
): { text: string; slotStart: number } {
  const parts = parseTemplate(template);
  const used = placeholderNames(parts);
  for (const [key, value] of Object.entries(values)) {
    if (!used.has(key))
      throw new TypeError(
        `template ${JSON.stringify(template)} has no placeholder {${key}} for the value given for it`,
      );
    if (typeof value !== "string")
      throw new TypeError(`the value of {${key}} must be a string, got ${describe(value)}`);
  }
  let text = "";
  let slotStart = -1;
  for (const part of parts) {
    if ("literal" in part) {
      text += part.literal;
      continue;
    }
    if (!Object.hasOwn(values, part.placeholder)) {
      throw new TypeError(
        `template ${JSON.stringify(template)} needs a value for its placeholder {${part.placeholder}}`,
      );
    }
    if (part.placeholder === slot && slotStart < 0) slotStart = text.length;
    text += values[part.placeholder]!;
  }
  return { text, slotStart };
}

function requirePlaceholders(
  template: string,
  what: string,
  allowed: readonly string[],
  required: readonly string[],
): Set<string> {
  const names = placeholdersOf(template);
  for (const name of names) {
    if (!allowed.includes(name))
      throw new TypeError(
        `${what} has an unknown placeholder {${name}}; it may use ${allowed.map((a) => `{${a}}`).join(", ")}`,
      );
  }
  for (const name of required) {
    if (!names.has(name)) throw new TypeError(`${what} must have a {${name}} placeholder`);
  }
  return names;
}

function optionalString(value: unknown, what: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw new TypeError(`${what} must be a string, got ${describe(value)}`);
  return value;
}

/** Checks a preset's fields and slots, and freezes it; every built-in preset passes through here too. */
function definePreset(spec: PromptPreset): PromptPreset {
  const given = requireOptions(spec, "prompt preset");
  requireKnownKeys(given, "prompt preset", presetKeys);
  const name = requireText(given.name, "preset name");
  const what = `preset ${JSON.stringify(name)}`;
  const query = requireText(given.query, `${what}: query template`);
  const document = optionalString(given.document, `${what}: document template`);
  const example = optionalString(given.example, `${what}: example template`);
  const exampleSeparator = optionalString(given.exampleSeparator, `${what}: exampleSeparator`);
  const examplesSuffix = optionalString(given.examplesSuffix, `${what}: examplesSuffix`);

  const querySlots = requirePlaceholders(query, `${what}: query template`, ["task", "query", "examples"], ["query"]);
  if (document !== undefined) requirePlaceholders(document, `${what}: document template`, ["text"], ["text"]);
  if (querySlots.has("examples") !== (example !== undefined)) {
    throw new TypeError(`${what}: the query template has an {examples} slot exactly when there is an example template`);
  }
  if (example === undefined) {
    if (exampleSeparator !== undefined || examplesSuffix !== undefined) {
      throw new TypeError(`${what}: exampleSeparator and examplesSuffix need an example template`);
    }
  } else {
    const exampleSlots = requirePlaceholders(
      example,
      `${what}: example template`,
      ["task", "query", "response"],
      ["query", "response"],
    );
    // buildQuery takes one task for the whole prompt; an example that wants it while the query
    // does not would make every call with a task fail on the query template.
    if (exampleSlots.has("task") && !querySlots.has("task")) {
      throw new TypeError(`${what}: the example template uses {task}, so the query template must too`);
    }
  }

  return Object.freeze({
    name,
    description: requireText(given.description, `${what}: description`),
    query,
    ...(document === undefined ? {} : { document }),
    ...(example === undefined ? {} : { example }),
    ...(exampleSeparator === undefined ? {} : { exampleSeparator }),
    ...(examplesSuffix === undefined ? {} : { examplesSuffix }),
    pooling: requireOneOf(given.pooling, `${what}: pooling`, promptPoolings),
    appendEos: requireBoolean(given.appendEos, `${what}: appendEos`),
  });
}

/** A validated preset from one's own templates (unknown placeholders and fields are rejected). */
export function customPreset(spec: CustomPresetSpec): PromptPreset {
  const given = requireOptions(spec, "custom preset");
  return definePreset({
    ...given,
    name: given.name ?? "custom",
    description: given.description ?? "custom templates",
    pooling: given.pooling ?? "last",
    appendEos: given.appendEos ?? false,
  } as PromptPreset);
}

// Sources: ../shared/NOTES.md, "Prompt formats of instruction and in-context embedders", for
// every template and for Qwen3-Embedding's end-of-text token; the EOS of the other families is
// commented on each.
export const promptPresets: Readonly<Record<string, PromptPreset>> = Object.freeze(
  Object.fromEntries(
    [
      definePreset({
        name: "qwen3-embedding",
        description: "Qwen3-Embedding: instruction and query, no space after 'Query:'; documents as they are",
        query: "Instruct: {task}\nQuery:{query}",
        pooling: "last",
        appendEos: true,
      }),
      definePreset({
        name: "e5-mistral",
        description: "E5-mistral-7b-instruct: instruction and query; documents as they are",
        query: "Instruct: {task}\nQuery: {query}",
        pooling: "last",
        // NOTES.md says nothing about an end token for E5-mistral. True rests on the model card's
        // usage code, which appends tokenizer.eos_token_id (</s>) to every input before last-token
        // pooling: a source outside NOTES.md, not checked from here.
        appendEos: true,
      }),
      definePreset({
        name: "gte-qwen2",
        description: "gte-Qwen2-instruct: instruction and query; documents as they are",
        query: "Instruct: {task}\nQuery: {query}",
        pooling: "last",
        // NOTES.md says nothing about an end token for gte-Qwen2, so none is added.
        appendEos: false,
      }),
      definePreset({
        name: "bge-en-icl",
        description: "bge-en-icl: in-context demonstrations, then instruction and query; documents as they are",
        query: "{examples}<instruct>{task}\n<query>{query}\n<response>",
        example: "<instruct>{task}\n<query>{query}\n<response>{response}",
        exampleSeparator: "\n\n",
        examplesSuffix: "\n\n",
        pooling: "last",
        // NOTES.md says nothing about an end token for bge-en-icl, so none is added.
        appendEos: false,
      }),
      definePreset({
        name: "prompteol",
        description: "PromptEOL (Jiang et al. 2023): every text asks for one word; optional demonstrations before it",
        query: '{examples}This sentence : "{query}" means in one word:"',
        document: 'This sentence : "{text}" means in one word:"',
        // The in-context format of the paper's code (scaling_sentemb): the filled demonstration,
        // closing `".`, runs straight into the target prompt with no space or newline between.
        example: 'This sentence : "{query}" means in one word:"{response}".',
        pooling: "last",
        // The vector is the last layer at the prompt's last token, the opening quote of the
        // answer (NOTES.md): an end token after it would move the pooled position.
        appendEos: false,
      }),
    ].map((preset) => [preset.name, preset]),
  ),
);

export function findPreset(name: string): PromptPreset {
  const preset = Object.hasOwn(promptPresets, name) ? promptPresets[name] : undefined;
  if (!preset)
    throw new RangeError(
      `unknown prompt preset ${JSON.stringify(name)}; known presets: ${Object.keys(promptPresets).join(", ")}`,
    );
  return preset;
}

function requireDemonstration(value: unknown, what: string): Demonstration {
  const given = requireOptions(value, what);
  requireKnownKeys(given, what, ["query", "response"]);
  return {
    query: requireText(given.query, `${what}.query`),
    response: requireText(given.response, `${what}.response`),
  };
}

function fillExamples(
  preset: PromptPreset,
  exampleTemplate: string,
  examples: readonly Demonstration[],
  task: string | undefined,
): string {
  if (examples.length === 0) return "";
  const needsTask = placeholdersOf(exampleTemplate).has("task");
  const filled = examples.map((example, index) => {
    const { query, response } = requireDemonstration(example, `examples[${index}]`);
    return fillTemplate(
      exampleTemplate,
      needsTask && task !== undefined ? { task, query, response } : { query, response },
    );
  });
  return filled.join(preset.exampleSeparator ?? "") + (preset.examplesSuffix ?? "");
}

/** A text in its prompt, and where the text itself begins in it. */
export interface PromptedText {
  text: string;
  inputStart: number;
}

/** The query prompt: the preset's query template filled with the task, the query and the demonstrations. */
export function buildQuery(preset: PromptPreset, input: QueryInput): string {
  return buildQueryAt(preset, input).text;
}

/** buildQuery, with where the query begins in the prompt. */
export function buildQueryAt(preset: PromptPreset, input: QueryInput): PromptedText {
  const given = requireOptions(input, "query input");
  requireKnownKeys(given, "query input", ["task", "query", "examples"]);
  const values: Record<string, string> = { query: requireText(given.query, "query") };
  const task = given.task === undefined ? undefined : requireText(given.task, "task");
  if (task !== undefined) values.task = task;
  const examples = given.examples ?? [];
  if (!Array.isArray(examples)) throw new TypeError("examples must be an array of demonstrations");
  if (preset.example !== undefined) {
    values.examples = fillExamples(preset, preset.example, examples, task);
  } else if (examples.length > 0) {
    throw new TypeError(`preset ${JSON.stringify(preset.name)} takes no demonstrations`);
  }
  const { text, slotStart } = fillTemplateAt(preset.query, values, "query");
  return { text, inputStart: slotStart };
}

/** The document prompt: the preset's document template around `text`, or `text` itself when it has none. */
export function buildDocument(preset: PromptPreset, text: string): string {
  return buildDocumentAt(preset, text).text;
}

/** buildDocument, with where the text begins in the prompt. */
export function buildDocumentAt(preset: PromptPreset, text: string): PromptedText {
  requireText(text, "document text");
  if (preset.document === undefined) return { text, inputStart: 0 };
  const filled = fillTemplateAt(preset.document, { text }, "text");
  return { text: filled.text, inputStart: filled.slotStart };
}
