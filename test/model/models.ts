// Real models for the model-dependent tests, fetched into the user cache by the project's own
// pull (a no-op once cached), and the shared evaluation data beside the repository.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { pullModel } from "../../lib/models/pull.js";

export const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const sharedData = join(repositoryRoot, "..", "shared", "data");

const announce = (message: string): void => {
  process.stderr.write(`[models] ${message}\n`);
};

export function minilmPath(variant: "f32" | "f16" = "f32"): Promise<string> {
  return pullModel("all-minilm-l6-v2", { variant, onProgress: announce });
}

export interface SentenceFixture {
  model: string;
  dimensions: number;
  sentences: string[];
  embeddings: Float32Array[];
  stsb_dev: { pairs: number; spearman: number; pearson: number };
}

export function sentenceFixture(): SentenceFixture {
  const raw = JSON.parse(readFileSync(join(repositoryRoot, "test", "fixtures", "stsb-dev-minilm.json"), "utf8"));
  return {
    ...raw,
    embeddings: (raw.embeddings as string[]).map((base64) => {
      const bytes = Buffer.from(base64, "base64");
      return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    }),
  };
}
