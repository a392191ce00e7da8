// The prompt flags' refusals, as a user meets them: each wrong combination ends the command
// before any model is loaded (the model named here does not exist), with a message naming the flags.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const cliEntry = join(repositoryRoot, "lib", "cli", "main.ts");
const noModel = "/nonexistent/model.gguf";

function ctxembed(args: string[]) {
  const input = args[0] === "serve" ? [] : ["--text", "a sentence"];
  const result = spawnSync(process.execPath, ["--import", "tsx", cliEntry, ...args, "--model", noModel, ...input], {
    encoding: "utf8",
    cwd: repositoryRoot,
  });
  return { status: result.status, stderr: result.stderr };
}

const folder = mkdtempSync(join(tmpdir(), "ctxembed-prompt-flags-"));
const twoDemonstrations = join(folder, "two.jsonl");
writeFileSync(
  twoDemonstrations,
  '{"query": "It rained all day.", "response": "Rain"}\n{"query": "We won the match.", "response": "Victory"}\n',
);

describe("prompt flags refused with exit code 2, before a model is loaded", () => {
  it.each([
    [
      "--task without --prompt",
      ["embed", "--task", "Retrieve passages"],
      /--task shapes a prompt: give --prompt PRESET\|TEMPLATE too/,
    ],
    [
      "an unknown preset",
      ["embed", "--prompt", "no-such-preset"],
      /--prompt: unknown prompt preset "no-such-preset"; known presets: qwen3-embedding/,
    ],
    [
      "a {task} slot with nothing to fill it",
      ["embed", "--prompt", "qwen3-embedding"],
      /--prompt qwen3-embedding has a \{task\} slot: give the instruction with --task TEXT/,
    ],
    [
      "a template's {task} slot with nothing to fill it",
      ["tokens", "--prompt", "Instruct: {task} Query: {query}"],
      /the --prompt template has a \{task\} slot/,
    ],
    [
      "--task for a preset without a {task} slot",
      ["embed", "--prompt", "prompteol", "--task", "x"],
      /--task: --prompt prompteol has no \{task\} slot/,
    ],
    [
      "--examples for a preset without demonstrations",
      ["embed", "--prompt", "e5-mistral", "--task", "x", "--examples", twoDemonstrations],
      /--examples: --prompt e5-mistral takes no demonstrations/,
    ],
    [
      "--retrieve-examples without a pool",
      ["embed", "--prompt", "prompteol", "--retrieve-examples", "3"],
      /--retrieve-examples K retrieves from a pool of demonstrations: give the pool with --examples FILE/,
    ],
    [
      "--retrieve-examples larger than the pool",
      ["embed", "--prompt", "prompteol", "--examples", twoDemonstrations, "--retrieve-examples", "3"],
      /--retrieve-examples 3 asks for more than the 2 demonstrations in --examples/,
    ],
    [
      "--examples with --role document",
      ["embed", "--prompt", "bge-en-icl", "--role", "document", "--examples", twoDemonstrations],
      /--examples is for queries; with --role document, --prompt bge-en-icl embeds documents as they are/,
    ],
    [
      "a role no prompt has",
      ["embed", "--prompt", "prompteol", "--role", "passage"],
      /'--role <role>' argument 'passage' is invalid. Allowed choices are query, document/,
    ],
    [
      "a document template without {text}",
      ["embed", "--prompt", "passage: {query}", "--role", "document"],
      /--prompt: .*document template has an unknown placeholder \{query\}; it may use \{text\}/,
    ],
    [
      "a default prompt of the server with a {task} slot unfilled",
      ["serve", "--prompt", "bge-en-icl"],
      /--prompt bge-en-icl has a \{task\} slot/,
    ],
  ])("%s", (_name, args, message) => {
    const run = ctxembed(args);
    expect(run.status, run.stderr).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/unknown model/);
  });

  it("a demonstrations file that is not JSON lines of query and response fails (exit 1) naming the line", () => {
    const broken = join(folder, "broken.jsonl");
    writeFileSync(broken, '{"query": "It rained all day.", "response": "Rain"}\n{"query": "We won the match."}\n');
    const run = ctxembed(["embed", "--prompt", "prompteol", "--examples", broken]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/line 2 of .*broken\.jsonl needs non-empty string fields "query" and "response"/);
  });
});
