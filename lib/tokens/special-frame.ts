import type { NativeSpecialTokens } from "../native/addon.js";

/** How many special tokens the tokenizer put before and after the text tokens of `ids`. */
export interface SpecialFrame {
  leading: number;
  trailing: number;
}

export function specialFrame(ids: Int32Array, special: NativeSpecialTokens): SpecialFrame {
  const leading = special.addBos && ids.length > 0 && ids[0] === special.bos ? 1 : 0;
  const trailingIds = [...(special.addSep ? [special.sep] : []), ...(special.addEos ? [special.eos] : [])];
  const endsWithThem =
    ids.length - leading >= trailingIds.length &&
    trailingIds.every((id, k) => ids[ids.length - trailingIds.length + k] === id);
  return { leading, trailing: endsWithThem ? trailingIds.length : 0 };
}
