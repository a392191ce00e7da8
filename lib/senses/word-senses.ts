// Prompted sense vectors: a decoder reads a word-prompt preset around each occurrence (its
// sentence and the word as written there), and the last layer at the prompt's last token is the
// vector of what the word means in that sentence.
import { buildWordPrompt, findWordPromptPreset, type WordPromptPreset } from "../prompts/word-prompts.js";
import type { EmbeddingModel } from "../embedding/embedding-model.js";

/** A word's character range in the text it stands in. */
export interface WordOccurrence {
  text: string;
  start: number;
  end: number;
}

export interface WordSenseOptions {
  /** a preset name from wordPromptPresets (default "word-meaning") or a preset of one's own */
  preset?: string | WordPromptPreset;
  /** scale every vector to unit length; default true */
  normalize?: boolean;
}

/** The prompt each occurrence is read with. */
export function wordSensePrompts(
  occurrences: readonly WordOccurrence[],
  preset: string | WordPromptPreset = "word-meaning",
): string[] {
  const chosen = typeof preset === "string" ? findWordPromptPreset(preset) : preset;
  return occurrences.map(({ text, start, end }, i) => {
    if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start < end && end <= text.length)) {
      throw new RangeError(
        `occurrences[${i}]: start and end must mark a non-empty range of its text (0 <= start < end <= ${text.length}), got ${start}-${end}`,
      );
    }
    return buildWordPrompt(chosen, text, text.slice(start, end));
  });
}

/** One vector per occurrence: the model's last-token vector of the occurrence's prompt. */
export async function embedWordSenses(
  model: EmbeddingModel,
  occurrences: readonly WordOccurrence[],
  options: WordSenseOptions = {},
): Promise<Float32Array[]> {
  if (!model.info.causal)
    throw new TypeError(`prompted sense vectors need a decoder (a causal model); ${model.info.name} reads both ways`);
  if (occurrences.length === 0) return [];
  const prompts = wordSensePrompts(occurrences, options.preset);
  const results = await model.embed(prompts, { pooling: "last", normalize: options.normalize ?? true });
  return results.map((result) => result.embedding);
}
