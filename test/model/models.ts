// Real models for the model-dependent tests, fetched into the user cache by the project's own
// pull (a no-op once cached), and the shared evaluation data beside the repository.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { gunzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { float16ToFloat32 } from "../../lib/vectors/float16.js";
import { pullModel } from "../../lib/hub/pull.js";

export const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const sharedData = join(repositoryRoot, "..", "shared", "data");

const announce = (message: string): void => {
  process.stderr.write(`[models] ${message}\n`);
};

export type MinilmVariant = "f32" | "f16" | "bf16" | "q8_0";

export function minilmPath(variant: MinilmVariant = "f32"): Promise<string> {
  return pullModel("all-minilm-l6-v2", { variant, onProgress: announce });
}

export interface SentenceFixture {
  model: string;
  dimensions: number;
  sentences: string[];
  embeddings: Float32Array[];
  stsb_dev: {
    pairs: number;
    spearman: number;
    pearson: number;
    distinct_sentences: number;
    /** gzipped f16 vectors of every distinct dev sentence, in stsSentences() order */
    all_vectors_file: string;
  };
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

/** sentence-transformers' vector of every distinct STS-B dev sentence, rounded to f16 (same generator). */
export function allDevSentenceVectors(): Float32Array[] {
  const { stsb_dev: dev } = sentenceFixture();
  const bytes = gunzipSync(readFileSync(join(repositoryRoot, "test", "fixtures", dev.all_vectors_file)));
  const halves = new Uint16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const floats = new Float32Array(halves.length);
  float16ToFloat32(halves, new Uint32Array(floats.buffer));
  const dimensions = floats.length / dev.distinct_sentences;
  return Array.from({ length: dev.distinct_sentences }, (_, i) =>
    floats.subarray(i * dimensions, (i + 1) * dimensions),
  );
}

export interface HiddenStateSentence {
  text: string;
  tokenIds: number[];
  /** states[layer] is [token][dimensions], layer 0 = embedding output */
  states: Float32Array[];
}

/** transformers' output_hidden_states for 50 sentences (scripts/reference/make_hidden_states_fixture.py). */
export function hiddenStatesFixture(): { dimensions: number; layers: number; sentences: HiddenStateSentence[] } {
  const index = JSON.parse(readFileSync(join(repositoryRoot, "test", "fixtures", "minilm-hidden-states.json"), "utf8"));
  const bytes = readFileSync(join(repositoryRoot, "test", "fixtures", index.data_file));
  const halves = new Uint16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const floats = new Float32Array(halves.length);
  float16ToFloat32(halves, new Uint32Array(floats.buffer));
  const { dimensions, layers } = index as { dimensions: number; layers: number };
  return {
    dimensions,
    layers,
    sentences: (index.sentences as { text: string; token_ids: number[]; offset: number }[]).map((sentence) => {
      const block = sentence.token_ids.length * dimensions;
      return {
        text: sentence.text,
        tokenIds: sentence.token_ids,
        states: Array.from({ length: layers }, (_, layer) =>
          floats.subarray(sentence.offset + layer * block, sentence.offset + (layer + 1) * block),
        ),
      };
    }),
  };
}
