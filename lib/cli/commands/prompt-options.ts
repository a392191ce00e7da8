// --prompt, --role, --task, --examples and --retrieve-examples: the library's prompt options
// (lib/prompts/prompting.ts) on the command line, for every command that embeds texts. The flags
// are checked against each other and the preset before a model is loaded, so a wrong
// combination is a usage error (exit 2) that names the flags, never a silently different prompt.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { Option, type Command } from "commander";
import type { EmbeddingModel } from "../../embedding/embedding-model.js";
import { promptRoles, type PromptOptions, type PromptRole } from "../../prompts/prompting.js";
import {
  customPreset,
  findPreset,
  querySlots,
  type CustomPresetSpec,
  type Demonstration,
  type PromptPreset,
} from "../../prompts/templates.js";
import { parseJsonLines, type JsonLine } from "../../util/json-lines.js";
import { positiveInteger } from "./source-options.js";
import type { JobEmbedOptions } from "../../jobs/wire.js";
import type { PromptRecord } from "../run-record.js";

export interface PromptCommandOptions {
  prompt?: string;
  role?: PromptRole;
  task?: string;
  examples?: string;
  retrieveExamples?: number;
}

/** The demonstrations of --examples, each with the line of the file it came from. */
export interface Demonstrations {
  file: string;
  items: Demonstration[];
  lines: number[];
  sha256: string;
}

/** What the prompt flags asked for, checked against each other, with the demonstrations read. */
export interface PromptChoice {
  /** the preset name, or the custom template as given */
  given: string;
  template: string | CustomPresetSpec;
  preset: PromptPreset;
  role: PromptRole;
  task?: string;
  /** the fixed demonstrations, or the pool they are retrieved from */
  demonstrations?: Demonstrations;
  /** with a pool: how many demonstrations each input gets */
  retrieve?: number;
}

/** The prompt options as plain JSON: for summary lines, sidecars, and a resumed run's identity. */
/** Adds the prompt flags; `scope` is the help's wording for what they apply to. */
export function addPromptOptions(command: Command, scope = "each input"): Command {
  return command
    .option(
      "--prompt <preset|template>",
      `put ${scope} in a prompt: a preset (qwen3-embedding, e5-mistral, gte-qwen2, bge-en-icl, prompteol) or a template with {query} (or {text} with --role document) and optionally {task}`,
    )
    .addOption(
      new Option(
        "--role <role>",
        "with --prompt: queries get the instruction and demonstrations, documents the preset's document form (default: query)",
      ).choices(promptRoles),
    )
    .option("--task <text>", "with --prompt: the instruction, for presets with a {task} slot")
    .option(
      "--examples <file>",
      "with --prompt: in-context demonstrations, JSON lines with query and response (all of them, or the pool for --retrieve-examples)",
    )
    .addOption(
      new Option(
        "--retrieve-examples <k>",
        "with --examples: give each input the K demonstrations of the pool nearest to it (pool embedded once)",
      ).argParser(positiveInteger),
    );
}

function usage(command: Command, message: string): never {
  command.error(`error: ${message}`, { exitCode: 2 });
}

/** A template from the command line: the query form, or the document form with --role document. */
function templateOf(given: string, role: PromptRole): CustomPresetSpec {
  return role === "query" ? { query: given } : { query: "{query}", document: given };
}

async function readDemonstrations(file: string): Promise<Demonstrations> {
  const bytes = await readFile(file);
  const items: Demonstration[] = [];
  const lines: number[] = [];
  let records: JsonLine[];
  try {
    records = parseJsonLines(bytes.toString("utf8"), file);
  } catch (error) {
    throw new Error(`${(error as Error).message}; --examples reads JSON lines with "query" and "response"`);
  }
  for (const { value, line, where } of records) {
    const { query, response } = (value ?? {}) as { query?: unknown; response?: unknown };
    if (typeof query !== "string" || query.length === 0 || typeof response !== "string" || response.length === 0) {
      throw new Error(`${where} needs non-empty string fields "query" and "response"`);
    }
    items.push({ query, response });
    lines.push(line);
  }
  if (items.length === 0)
    throw new Error(`${file} holds no demonstrations: --examples reads JSON lines with "query" and "response"`);
  return { file, items, lines, sha256: createHash("sha256").update(bytes).digest("hex") };
}

/**
 * Checks the prompt flags against each other and against the preset's slots (usage errors,
 * exit 2), and reads the demonstrations. Needs no model. Undefined when there is no --prompt.
 */
export async function readPromptChoice(
  options: PromptCommandOptions,
  command: Command,
): Promise<PromptChoice | undefined> {
  const { prompt: given, task, examples, retrieveExamples } = options;
  if (given === undefined) {
    const stray = [
      options.role && "--role",
      task !== undefined && "--task",
      examples && "--examples",
      retrieveExamples !== undefined && "--retrieve-examples",
    ].filter(Boolean);
    if (stray.length > 0)
      usage(
        command,
        `${stray.join(", ")} ${stray.length > 1 ? "shape" : "shapes"} a prompt: give --prompt PRESET|TEMPLATE too`,
      );
    return undefined;
  }
  const role = options.role ?? "query";
  const template = given.includes("{") ? templateOf(given, role) : given;
  let preset: PromptPreset;
  try {
    preset = typeof template === "string" ? findPreset(template) : customPreset(template);
  } catch (error) {
    usage(command, `--prompt: ${(error as Error).message}`);
  }
  const name = typeof template === "string" ? `--prompt ${given}` : "the --prompt template";
  if (retrieveExamples !== undefined && !examples)
    usage(command, "--retrieve-examples K retrieves from a pool of demonstrations: give the pool with --examples FILE");
  if (role === "document") {
    const queryOnly = [task !== undefined && "--task", examples && "--examples"].filter(Boolean);
    if (queryOnly.length > 0) {
      const form =
        preset.document === undefined
          ? "embeds documents as they are"
          : `has the document form ${JSON.stringify(preset.document)}`;
      usage(
        command,
        `${queryOnly.join(" and ")} ${queryOnly.length > 1 ? "are" : "is"} for queries; with --role document, ${name} ${form}, with no slot for them`,
      );
    }
  } else {
    const slots = querySlots(preset);
    if (slots.task && task === undefined)
      usage(command, `${name} has a {task} slot: give the instruction with --task TEXT`);
    if (!slots.task && task !== undefined) usage(command, `--task: ${name} has no {task} slot for an instruction`);
    if (!slots.examples && examples)
      usage(command, `--examples: ${name} takes no demonstrations (its query form has no {examples} slot)`);
  }
  const demonstrations = examples ? await readDemonstrations(examples) : undefined;
  if (retrieveExamples !== undefined && retrieveExamples > demonstrations!.items.length) {
    usage(
      command,
      `--retrieve-examples ${retrieveExamples} asks for more than the ${demonstrations!.items.length} demonstrations in --examples ${examples}`,
    );
  }
  return {
    given,
    template,
    preset,
    role,
    ...(task === undefined ? {} : { task }),
    ...(demonstrations ? { demonstrations } : {}),
    ...(retrieveExamples === undefined ? {} : { retrieve: retrieveExamples }),
  };
}

/**
 * The library's prompt options. With `model` (needed for the pool of --retrieve-examples, which
 * it embeds on first use), the template and every demonstration are checked against the model's
 * token limit first: one that cannot fit with any input is refused by its line, before any work.
 */
export function promptOptionsFor(choice: PromptChoice, model?: EmbeddingModel): PromptOptions {
  const { template, role, task, demonstrations, retrieve } = choice;
  if (retrieve !== undefined && model === undefined)
    throw new Error("retrieved demonstrations need the model that embeds their pool");
  const examples =
    demonstrations === undefined
      ? undefined
      : retrieve === undefined
        ? demonstrations.items
        : { selector: model!.demonstrationSelector(demonstrations.items), k: retrieve };
  const options = {
    template,
    role,
    ...(task === undefined ? {} : { task }),
    ...(examples === undefined ? {} : { examples }),
  };
  if (model) {
    try {
      model.checkPrompt(options);
    } catch (error) {
      throw new Error(onCommandLine((error as Error).message, choice));
    }
  }
  return options;
}

/** The library's names for a prompt's parts, as the command line gave them. */
function onCommandLine(message: string, { given, demonstrations }: PromptChoice): string {
  const template = given.includes("{") ? "the --prompt template" : `--prompt ${given}`;
  return message
    .replace(
      /^(?:prompt\.examples|the demonstration pool's) ?\[(\d+)\]/,
      (_found, index: string) => `line ${demonstrations?.lines[Number(index)]} of ${demonstrations?.file} (--examples)`,
    )
    .replace(/^the prompt's template and instruction \(task\)/, `${template} with its --task`)
    .replace(/^the prompt's template/, template);
}

/** The prompt options as a distributed job carries them (JSON): a retrieval pool goes as its demonstrations and k. */
export function jobPromptOptions(choice: PromptChoice): NonNullable<JobEmbedOptions["prompt"]> {
  const { retrieve, demonstrations } = choice;
  if (retrieve === undefined) return promptOptionsFor(choice) as NonNullable<JobEmbedOptions["prompt"]>;
  return {
    ...promptOptionsFor({ ...choice, retrieve: undefined }),
    examples: { pool: demonstrations!.items, k: retrieve },
  };
}

export function promptRecord(choice: PromptChoice): PromptRecord {
  const { given, role, task, demonstrations, retrieve } = choice;
  return {
    prompt: given,
    role,
    ...(task === undefined ? {} : { task }),
    ...(demonstrations
      ? { examples: { file: demonstrations.file, count: demonstrations.items.length, sha256: demonstrations.sha256 } }
      : {}),
    ...(retrieve === undefined ? {} : { retrieveExamples: retrieve }),
  };
}

/** For a summary line: "prompt prompteol (query, 1 fixed demonstration from demo.jsonl)". */
export function describePrompt(choice: PromptChoice): string {
  const { given, role, task, demonstrations, retrieve } = choice;
  const parts: string[] = [role];
  if (task !== undefined) parts.push(`task ${JSON.stringify(task)}`);
  if (demonstrations) {
    const { file, items } = demonstrations;
    parts.push(
      retrieve === undefined
        ? `${items.length} fixed demonstration${items.length === 1 ? "" : "s"} from ${file}`
        : `${retrieve} retrieved per input from the ${items.length} in ${file}`,
    );
  }
  return `prompt ${given.includes("{") ? JSON.stringify(given) : given} (${parts.join(", ")})`;
}
