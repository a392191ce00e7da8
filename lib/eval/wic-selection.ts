// The WiC configuration `eval wic` runs without --method: the one scripts/eval/wic-select.ts
// chose by lemma-grouped cross-validation on train and wrote to wic-selection.json.
import selection from "./wic-selection.json" with { type: "json" };
import { wicMethods, type WicConfiguration } from "./wic-methods.js";

export interface WicSelection {
  producedBy: string;
  model: string;
  configuration: WicConfiguration;
  folds: number;
  seed: number;
  crossValidation: { mean: number; sd: number; standardError: number };
  dev: number;
}

export function wicSelection(): WicSelection {
  const chosen = selection as WicSelection;
  if (!(wicMethods as readonly string[]).includes(chosen.configuration.method)) {
    throw new Error(`wic-selection.json names an unknown method ${JSON.stringify(chosen.configuration.method)}`);
  }
  return chosen;
}
