import type { SpecialFrame } from "./special-frame.js";

export interface TruncatedTokens {
  ids: Int32Array;
  truncated: boolean;
  /** token count before truncation */
  originalLength: number;
}

/**
 * Cuts a tokenized input to `maxTokens` the way Hugging Face tokenizers do: the text tokens are
 * shortened and the special tokens the tokenizer appends (BERT's [SEP], an EOS) are kept at the end.
 */
export function truncateTokens(ids: Int32Array, maxTokens: number, frame: SpecialFrame): TruncatedTokens {
  if (ids.length <= maxTokens) return { ids, truncated: false, originalLength: ids.length };
  const kept = new Int32Array(maxTokens);
  kept.set(ids.subarray(0, maxTokens - frame.trailing));
  kept.set(ids.subarray(ids.length - frame.trailing), maxTokens - frame.trailing);
  return { ids: kept, truncated: true, originalLength: ids.length };
}
