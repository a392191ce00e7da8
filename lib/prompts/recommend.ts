// Which prompt preset suits a GGUF file. No GGUF key carries an embedding prompt (llama.cpp's
// converter writes none), so the recommendation comes from the model's name, and for a decoder
// that matches no instruction-tuned family, from its being causal: PromptEOL is the way to read a
// plain decoder's sentence vector (docs/prompting.md).

export interface PromptRecommendation {
  preset: string;
  /** what in the file led to it */
  because: string;
}

const familiesByName: readonly { pattern: RegExp; preset: string }[] = [
  { pattern: /qwen3[-_ ]?embedding/i, preset: "qwen3-embedding" },
  { pattern: /e5[-_ ]?mistral/i, preset: "e5-mistral" },
  { pattern: /gte[-_ ]?qwen2/i, preset: "gte-qwen2" },
  { pattern: /bge[-_ ]?en[-_ ]?icl/i, preset: "bge-en-icl" },
];

/** `names`: general.name and the file's name; undefined for an encoder that needs no prompt. */
export function recommendPrompt(names: readonly string[], causal: boolean): PromptRecommendation | undefined {
  for (const { pattern, preset } of familiesByName) {
    const name = names.find((candidate) => pattern.test(candidate));
    if (name !== undefined) return { preset, because: `the name ${JSON.stringify(name)} is a ${preset} model's` };
  }
  return causal
    ? { preset: "prompteol", because: "a causal decoder of no instruction-tuned embedding family" }
    : undefined;
}
