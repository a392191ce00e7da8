// The prompts of lib/prompts, tokenized by llama.cpp through ctxembed, against Hugging Face's
// tokenizers (test/fixtures/prompt-tokens.json, scripts/reference/make_prompt_tokens_fixture.py):
// the ids, special tokens included, must be identical. For gemma-3-270m the reference is
// transformers' Gemma BPE conversion of the GGUF's own vocabulary (the fixture says why).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, type EmbeddingModel } from "../../../lib/embedding/embedding-model.js";
import { promptTokenCases, type PromptTokenCase } from "../../../scripts/reference/prompt-strings.js";
import { minilmPath, repositoryRoot } from "../models.js";

interface ReferenceTokens {
  ids: number[];
  pieces: string[];
}

interface FixtureCase extends PromptTokenCase {
  tokens: Record<string, ReferenceTokens>;
}

const fixture: { cases: FixtureCase[] } = JSON.parse(
  readFileSync(join(repositoryRoot, "test", "fixtures", "prompt-tokens.json"), "utf8"),
);

const models: Record<string, () => Promise<EmbeddingModel>> = {
  "all-minilm-l6-v2": async () => loadModel(await minilmPath("f32")),
  "gemma-3-270m": () => loadModel("gemma-3-270m"),
};

/** Where two tokenizations part, with the pieces around it, to read in a failure message. */
function firstDifference(ids: number[], texts: string[], reference: ReferenceTokens): string {
  let index = 0;
  while (index < ids.length && ids[index] === reference.ids[index]) index++;
  const around = (pieces: string[], values: number[]): string =>
    JSON.stringify(
      values
        .slice(Math.max(0, index - 3), index + 3)
        .map((id, offset) => `${id} ${pieces[Math.max(0, index - 3) + offset]}`),
    );
  return `first difference at token ${index}: ctxembed ${around(texts, ids)}, Hugging Face ${around(reference.pieces, reference.ids)}`;
}

it("the fixture holds the prompts that lib/prompts builds today", () => {
  expect(fixture.cases.map(({ name, preset, prompt }) => ({ name, preset, prompt }))).toEqual(promptTokenCases());
});

describe.each(Object.keys(models))("%s tokenizes the prompts as Hugging Face does", (modelName) => {
  let model: EmbeddingModel;

  beforeAll(async () => {
    model = await models[modelName]!();
  });

  afterAll(async () => {
    await model?.dispose();
  });

  it.each(fixture.cases)("$name", (testCase) => {
    const reference = testCase.tokens[modelName]!;
    const tokens = model.tokenize(testCase.prompt);
    const ids = tokens.map((token) => token.id);
    expect(
      ids,
      firstDifference(
        ids,
        tokens.map((token) => token.text),
        reference,
      ),
    ).toEqual(reference.ids);
  });
});
