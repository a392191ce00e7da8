// What in-context demonstrations cost once their shared prefix is evaluated once per batch:
// PromptEOL with 3 fixed demonstrations against PromptEOL alone, same inputs, same model.
import { loadModel } from "../../lib/embedding/embedding-model.js";
import type { EmbedOptions } from "../../lib/embedding/embed-options.js";
import { promptEolDemonstrations } from "../../lib/prompts/prompteol-demonstrations.js";
import { buildQuery, findPreset } from "../../lib/prompts/templates.js";
import { timeEmbedVariants } from "./embed-variants.js";
import { table } from "./measure.js";

export async function sharedPrefixCost(
  modelPath: string,
  inputs: string[],
  threads: number,
  repeats: number,
): Promise<string> {
  const model = await loadModel(modelPath, { threads });
  const preset = findPreset("prompteol")!;
  const demonstrations = [[], promptEolDemonstrations.slice(0, 3)];
  const variants = demonstrations.map((examples): [string, EmbedOptions] => [
    examples.length === 0 ? "PromptEOL, no demonstration" : `PromptEOL, ${examples.length} fixed demonstrations`,
    { prompt: { template: "prompteol", examples } },
  ]);
  const timings = await timeEmbedVariants(model, inputs, variants, repeats);
  const rows = timings.map((timing, i) => {
    const promptTokens = inputs.reduce(
      (sum, query) => sum + model.tokenize(buildQuery(preset, { query, examples: demonstrations[i]! })).length,
      0,
    );
    return {
      prompt: timing.name,
      "prompt tokens": promptTokens,
      seconds: timing.seconds,
      "prompt tokens/s": Math.round(promptTokens / timing.seconds),
      "vs no demonstration": timing.ratio,
    };
  });
  await model.dispose();
  return `Shared prefix: ${inputs.length} inputs, ${model.info.name}, ${threads} threads, best of ${repeats}\n\n${table(rows)}\n`;
}
