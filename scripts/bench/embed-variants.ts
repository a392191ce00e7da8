// In-process timing of model.embed() under several option sets, against the first as baseline.
import type { EmbeddingModel } from "../../lib/embedding/embedding-model.js";
import type { EmbedOptions } from "../../lib/embedding/embed-options.js";
import { best } from "./measure.js";

export interface VariantTiming {
  name: string;
  seconds: number;
  /** seconds over the first variant's */
  ratio: number;
}

/** Best of `repeats` runs per variant, each after a warm-up call on a few inputs (contexts, caches). */
export async function timeEmbedVariants(
  model: EmbeddingModel,
  inputs: string[],
  variants: [string, EmbedOptions][],
  repeats: number,
): Promise<VariantTiming[]> {
  const timings: VariantTiming[] = [];
  for (const [name, options] of variants) {
    await model.embed(inputs.slice(0, 8), options);
    const run = await best(repeats, async () => {
      const started = performance.now();
      await model.embed(inputs, options);
      return { seconds: (performance.now() - started) / 1000 };
    });
    timings.push({ name, seconds: run.seconds, ratio: run.seconds / (timings[0]?.seconds ?? run.seconds) });
  }
  return timings;
}
