// Long documents: overlapping windows over the text tokens, each framed by the model's special
// tokens, and for every token the window that gives it the most context.
import type { SpecialFrame } from "./special-frame.js";

export interface WindowOptions {
  /** tokens per window, special tokens included */
  size: number;
  /** text tokens the window advances by */
  stride: number;
}

export interface WindowPlan {
  /** token ids of each window, special tokens included */
  windows: Int32Array[];
  /** per token of the whole input: the window it is read from and its row there */
  source: { window: Int32Array; row: Int32Array };
}

/**
 * Splits `ids` (framed by `frame.leading` and `frame.trailing` special tokens) into windows. A
 * text token is read from the window where it has the most context: on both sides for a
 * bidirectional model, on the left for a causal one (ties go to the earlier window).
 */
export function planWindows(ids: Int32Array, frame: SpecialFrame, options: WindowOptions, causal: boolean): WindowPlan {
  const head = ids.subarray(0, frame.leading);
  const tail = ids.subarray(ids.length - frame.trailing);
  const body = ids.subarray(frame.leading, ids.length - frame.trailing);
  const capacity = options.size - frame.leading - frame.trailing;
  if (capacity < 1)
    throw new RangeError(
      `a window of ${options.size} tokens leaves no room for text between ${frame.leading + frame.trailing} special tokens`,
    );
  if (options.stride < 1 || options.stride > capacity)
    throw new RangeError(`the window stride must be between 1 and ${capacity} tokens, got ${options.stride}`);

  const starts: number[] = [];
  for (let start = 0; ; start += options.stride) {
    starts.push(start);
    if (start + capacity >= body.length) break;
  }
  const windows = starts.map((start) => {
    const text = body.subarray(start, Math.min(start + capacity, body.length));
    const window = new Int32Array(head.length + text.length + tail.length);
    window.set(head);
    window.set(text, head.length);
    window.set(tail, head.length + text.length);
    return window;
  });

  const window = new Int32Array(ids.length);
  const row = new Int32Array(ids.length);
  for (let i = 0; i < body.length; i++) {
    let best = -1;
    let bestContext = -1;
    const firstCandidate = Math.max(0, Math.ceil((i - capacity + 1) / options.stride));
    const lastCandidate = Math.min(starts.length - 1, Math.floor(i / options.stride));
    for (let w = firstCandidate; w <= lastCandidate; w++) {
      const start = starts[w]!;
      const end = Math.min(start + capacity, body.length);
      const context = causal ? i - start : Math.min(i - start, end - 1 - i);
      if (context > bestContext) {
        best = w;
        bestContext = context;
      }
    }
    window[frame.leading + i] = best;
    row[frame.leading + i] = head.length + i - starts[best]!;
  }
  for (let k = 0; k < frame.leading; k++) {
    window[k] = 0;
    row[k] = k;
  }
  const last = windows.length - 1;
  for (let k = 0; k < frame.trailing; k++) {
    const index = ids.length - frame.trailing + k;
    window[index] = last;
    row[index] = windows[last]!.length - frame.trailing + k;
  }
  return { windows, source: { window, row } };
}
