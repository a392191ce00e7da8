// The prompts whose token ids test/fixtures/prompt-tokens.json records, built by lib/prompts
// itself, so that neither the Python fixture script nor the model test retypes them.
// `npx tsx scripts/reference/prompt-strings.ts` prints them as JSON for
// make_prompt_tokens_fixture.py; test/model/prompts/prompt-tokens.test.ts imports promptTokenCases().
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promptEolDemonstrations } from "../../lib/prompts/prompteol-demonstrations.js";
import { buildQuery, findPreset, type QueryInput } from "../../lib/prompts/templates.js";

export interface PromptTokenCase {
  name: string;
  preset: string;
  prompt: string;
}

const webSearchTask = "Given a web search query, retrieve relevant passages that answer the query";

function promptCase(name: string, preset: string, input: QueryInput): PromptTokenCase {
  return { name, preset, prompt: buildQuery(findPreset(preset), input) };
}

export function promptTokenCases(): PromptTokenCase[] {
  return [
    promptCase("bge-en-icl query with 2 examples", "bge-en-icl", {
      task: webSearchTask,
      query: "how long do penguins live in the wild?",
      examples: [
        {
          query: "what is the boiling point of water at altitude?",
          response: "Water boils at lower temperatures as altitude increases, about 95 °C at 1,500 m.",
        },
        {
          query: "who painted the ceiling of the Sistine Chapel",
          response: "Michelangelo painted it between 1508 and 1512.",
        },
      ],
    }),
    promptCase("prompteol with 1 demonstration", "prompteol", {
      query: "A cyclist repairs a flat tyre at the side of the road.",
      examples: promptEolDemonstrations.slice(0, 1),
    }),
    promptCase("qwen3-embedding query", "qwen3-embedding", {
      task: webSearchTask,
      query: "What is the capital of China?",
    }),
    promptCase("e5-mistral query", "e5-mistral", {
      task: webSearchTask,
      query: "how much protein should a female eat",
    }),
  ];
}

if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${JSON.stringify({ cases: promptTokenCases() }, null, 1)}\n`);
}
