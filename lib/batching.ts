// Packs sequences into batches bounded by a token budget and a sequence count, in input order,
// the way llama-embedding fills its batches. Packing needs no padding: llama.cpp keeps the
// sequences apart with its attention mask.

export interface BatchLimits {
  batchTokens: number;
  maxSequences: number;
}

/** Returns batches as lists of indices into `lengths`; every length must fit the budget on its own. */
export function packBatches(lengths: readonly number[], limits: BatchLimits): number[][] {
  const batches: number[][] = [];
  let current: number[] = [];
  let tokens = 0;
  lengths.forEach((length, index) => {
    if (length > limits.batchTokens) {
      throw new RangeError(`sequence ${index} has ${length} tokens, more than the batch budget of ${limits.batchTokens}`);
    }
    if (current.length > 0 && (tokens + length > limits.batchTokens || current.length === limits.maxSequences)) {
      batches.push(current);
      current = [];
      tokens = 0;
    }
    current.push(index);
    tokens += length;
  });
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * Tokens all sequences start with, leaving each at least one token of its own; 0 when fewer
 * than `minimum` are shared or there is only one sequence.
 */
export function sharedPrefixLength(sequences: readonly Int32Array[], minimum: number): number {
  if (sequences.length < 2) return 0;
  let length = Math.min(...sequences.map((sequence) => sequence.length - 1));
  const first = sequences[0]!;
  for (const sequence of sequences) {
    let k = 0;
    while (k < length && sequence[k] === first[k]) k++;
    length = k;
  }
  return length >= minimum ? length : 0;
}
