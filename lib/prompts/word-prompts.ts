// Prompts that ask a decoder what one word means in its sentence: the vector at the prompt's last
// token (the opening quote of the answer) stands for that occurrence's sense. The word-level
// counterpart of PromptEOL (Jiang et al. 2023), kept as data like the sentence presets.
import { fillTemplate } from "./templates.js";
import { requireText } from "../util/validate.js";

export interface WordPromptPreset {
  readonly name: string;
  readonly description: string;
  /** {sentence} and {word}; may start with {examples} */
  readonly template: string;
  /** fixed demonstrations, already written out, for an {examples} slot */
  readonly examples?: string;
}

// The demonstrations are ours (no WiC or WordNet sentence), one for a noun and one for a verb,
// each answered with one word as the template asks.
const demonstrations =
  'In the sentence "We had a picnic on the grassy bank of the river.", the word "bank" means in one word:"shore".\n' +
  'In the sentence "She ran the small bakery for thirty years.", the word "ran" means in one word:"managed".\n';

export const wordPromptPresets: Readonly<Record<string, WordPromptPreset>> = Object.freeze({
  "word-meaning": {
    name: "word-meaning",
    description: 'the sentence, then "the word … means in one word:"',
    template: 'In the sentence "{sentence}", the word "{word}" means in one word:"',
  },
  "word-meaning-eol": {
    name: "word-meaning-eol",
    description: "word-meaning after two fixed demonstrations (PromptEOL-style)",
    template: '{examples}In the sentence "{sentence}", the word "{word}" means in one word:"',
    examples: demonstrations,
  },
});

export const wordPromptPresetNames = Object.keys(wordPromptPresets);

export function findWordPromptPreset(name: string): WordPromptPreset {
  const preset = Object.hasOwn(wordPromptPresets, name) ? wordPromptPresets[name] : undefined;
  if (!preset)
    throw new RangeError(
      `unknown word prompt preset ${JSON.stringify(name)}; known presets: ${wordPromptPresetNames.join(", ")}`,
    );
  return preset;
}

/** The prompt asking what `word` (as written in `sentence`) means there. */
export function buildWordPrompt(preset: WordPromptPreset, sentence: string, word: string): string {
  const values: Record<string, string> = {
    sentence: requireText(sentence, "sentence"),
    word: requireText(word, "word"),
  };
  if (preset.examples !== undefined) values.examples = preset.examples;
  return fillTemplate(preset.template, values);
}
