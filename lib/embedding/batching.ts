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
      throw new RangeError(
        `sequence ${index} has ${length} tokens, more than the batch budget of ${limits.batchTokens}`,
      );
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

export interface PrefixBatch {
  /** indices into the sequences given */
  indices: number[];
  /** tokens every sequence of the batch starts with, evaluated once for the batch (0: none) */
  prefixLength: number;
}

function commonPrefixLength(a: Int32Array, b: Int32Array): number {
  const limit = Math.min(a.length, b.length);
  let k = 0;
  while (k < limit && a[k] === b[k]) k++;
  return k;
}

function compareTokens(a: Int32Array, b: Int32Array): number {
  const k = commonPrefixLength(a, b);
  if (k === a.length || k === b.length) return a.length - b.length;
  return a[k]! - b[k]!;
}

/**
 * Batches for a causal model that evaluates a prefix shared by a batch's sequences once and
 * copies its KV cache to each of them. Sequences are put in token order, so that those with the
 * same prompt (instruction, demonstrations) sit side by side, and cut into groups: a group ends
 * where sharing with the next sequence would give up more prefix tokens, over the group so far,
 * than the next sequence would still share. Each group is packed within the token budget (prefix
 * included); sequences that share nothing worth the extra decode are packed together, unprefixed.
 */
export function packPrefixBatches(
  sequences: readonly Int32Array[],
  limits: BatchLimits,
  minimumPrefix: number,
): PrefixBatch[] {
  const order = sequences.map((_, index) => index).sort((a, b) => compareTokens(sequences[a]!, sequences[b]!) || a - b);
  const groups: { indices: number[]; prefixLength: number }[] = [];
  const unshared: number[] = [];
  let group: number[] = [];
  let prefixLength = 0;
  const close = () => {
    if (group.length > 1 && prefixLength >= minimumPrefix) groups.push({ indices: group, prefixLength });
    else unshared.push(...group);
  };
  for (const index of order) {
    const sequence = sequences[index]!;
    const first = group.length > 0 ? sequences[group[0]!]! : undefined;
    // Every sequence keeps at least its last token out of the prefix: that is where its vector is read.
    const shared = first ? Math.min(commonPrefixLength(first, sequence), first.length - 1, sequence.length - 1) : 0;
    const joined = group.length === 1 ? shared : Math.min(prefixLength, shared);
    const worthJoining =
      first !== undefined &&
      shared >= minimumPrefix &&
      (group.length === 1 || (prefixLength - joined) * group.length <= joined);
    if (worthJoining) {
      group.push(index);
      prefixLength = joined;
    } else {
      close();
      group = [index];
      prefixLength = 0;
    }
  }
  close();
  const batches = groups.flatMap(({ indices, prefixLength: length }) =>
    packBatches(
      indices.map((index) => sequences[index]!.length - length),
      { batchTokens: limits.batchTokens - length, maxSequences: limits.maxSequences },
    ).map((batch) => ({ indices: batch.map((k) => indices[k]!), prefixLength: length })),
  );
  const rest = unshared.sort((a, b) => a - b);
  for (const batch of packBatches(
    rest.map((index) => sequences[index]!.length),
    limits,
  ))
    batches.push({ indices: batch.map((k) => rest[k]!), prefixLength: 0 });
  return batches;
}
