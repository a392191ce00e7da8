// The architecture matrix: for each tiny random-weight model of tiny-architectures.ts, the
// library's pooled and per-token vectors against llama-embedding's on the same file, layer
// capture, and batch invariance. Random weights make no meaningful vectors, but they exercise
// every tensor of the graph, so a wrong pooling, a missed special token or a mis-read layer
// shows up as a low cosine. Two llama-embeddings: the patched build's (build/bin, the addon's own
// llama.cpp: a difference there is the addon's) and upstream's (the pinned source without
// ctxembed's patches: a difference there and not against the patched one is a patch's).
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, type EmbeddingModel } from "../../../lib/embedding/embedding-model.js";
import { cosineSimilarity } from "../../../lib/vectors/similarity.js";
import { llamaBuildVersions, llamaEmbedding, llamaTool, upstreamLlamaEmbedding } from "../llama-tools.js";
import { ARCHITECTURES, T5_ENCODER_DECODER, tinyArchitecturePath } from "./tiny-architectures.js";

const TEXTS = [
  "the river flows past the old stone bridge",
  "she opened an account at the bank",
  "we walked along quiet city streets in the evening light",
];
const PARITY = 0.9999;
const BATCH_INVARIANCE = 0.99999;

function worstCosine(ours: readonly Float32Array[], theirs: readonly Float32Array[]): number {
  expect(ours.length).toBe(theirs.length);
  return Math.min(...ours.map((vector, i) => cosineSimilarity(vector, theirs[i]!)));
}

const BUILDS = ["patched", "upstream"] as const;
type Build = (typeof BUILDS)[number];
const tools = {} as Record<Build, string>;

beforeAll(async () => {
  // a fresh clone builds both here, once, before any timed test
  tools.patched = llamaTool("llama-embedding");
  tools.upstream = await upstreamLlamaEmbedding();
  console.log((await llamaBuildVersions()).replace(/^/gm, "architecture matrix: "));
}, 1_800_000);

describe.each(ARCHITECTURES)("architecture $name", (architecture) => {
  let model: EmbeddingModel;
  /** each build's llama-embedding vectors by pooling, one entry per text */
  const reference = new Map<string, Float32Array[][]>();
  beforeAll(async () => {
    const path = await tinyArchitecturePath(architecture);
    model = await loadModel(path, { threads: 2 });
    for (const build of BUILDS) {
      for (const pooling of architecture.poolings) {
        reference.set(
          `${build} ${pooling}`,
          TEXTS.map((text) => llamaEmbedding(path, text, pooling, 1, tools[build])),
        );
      }
      reference.set(
        `${build} none`,
        TEXTS.map((text) => llamaEmbedding(path, text, "none", model.countTokens(text), tools[build])),
      );
    }
  });
  afterAll(() => model?.dispose());

  it("loads as the architecture it was written as", () => {
    expect(model.info.architecture).toBe(architecture.name);
    expect(model.info.causal).toBe(architecture.causal);
    expect(model.info.layerCount).toBe(2);
  });

  describe.each(BUILDS)("against the %s build's llama-embedding", (build) => {
    it.each(architecture.poolings)(`pooling %s matches (cosine >= ${PARITY})`, async (pooling) => {
      const ours = (await model.embed(TEXTS, { pooling, normalize: false })).map((result) => result.embedding);
      const theirs = reference.get(`${build} ${pooling}`)!.map((vectors) => vectors[0]!);
      const worst = worstCosine(ours, theirs);
      console.log(
        `architecture ${architecture.name} pooling ${pooling}: worst cosine vs ${build} llama-embedding ${worst.toFixed(7)}`,
      );
      expect(worst).toBeGreaterThanOrEqual(PARITY);
    });

    it(`per-token vectors match --pooling none (cosine >= ${PARITY})`, async () => {
      let worst = 1;
      for (const [i, text] of TEXTS.entries()) {
        const result = await model.embed(text, { pooling: "none", normalize: false });
        worst = Math.min(
          worst,
          worstCosine(
            result.tokens!.map((token) => token.embedding),
            reference.get(`${build} none`)![i]!,
          ),
        );
      }
      console.log(
        `architecture ${architecture.name} pooling none (tokens): worst cosine vs ${build} llama-embedding ${worst.toFixed(7)}`,
      );
      expect(worst).toBeGreaterThanOrEqual(PARITY);
    });
  });

  it("captures the layers the graph names, and refuses the others naming the architecture", async () => {
    const hidden = model.info.hiddenSize;
    const captured = architecture.capturedLayers;
    for (const layer of [0, 1, 2].filter((layer) => !captured.includes(layer))) {
      await expect(model.embed(TEXTS[0]!, { layers: layer })).rejects.toThrow(architecture.name);
    }
    if (captured.length === 0) return;
    const [result] = await model.embed([TEXTS[0]!], {
      layers: { layers: captured, combine: "concat" },
      tokens: true,
      normalize: false,
    });
    const width = captured.length * hidden;
    expect(result!.tokens!.length).toBeGreaterThan(2);
    for (const token of result!.tokens!) {
      expect(token.embedding.length).toBe(width);
      expect(token.embedding.every(Number.isFinite)).toBe(true);
    }
    if (architecture.outputIsLastLayer) {
      const plain = await model.embed(TEXTS[0]!, { pooling: "none", normalize: false });
      const last = result!.tokens!.map((token) => token.embedding.subarray(width - hidden));
      expect(
        worstCosine(
          last,
          plain.tokens!.map((token) => token.embedding),
        ),
      ).toBeGreaterThanOrEqual(PARITY);
    }
  });

  it(`a text alone and in a batch: cosine >= ${BATCH_INVARIANCE}`, async () => {
    const batched = await model.embed(TEXTS);
    for (const [i, text] of TEXTS.entries()) {
      const alone = await model.embed(text);
      expect(cosineSimilarity(alone.embedding, batched[i]!.embedding)).toBeGreaterThanOrEqual(BATCH_INVARIANCE);
    }
  });
});

describe("an architecture llama.cpp does not know", () => {
  it("is refused at load with a message naming it", async () => {
    // BERT's tensors and keys under a name no llama.cpp release defines
    const path = await tinyArchitecturePath({ ...ARCHITECTURES[0]!, name: "bert-v9" });
    await expect(loadModel(path)).rejects.toThrow(/unknown model architecture: 'bert-v9'/);
  });
});

describe("an architecture llama.cpp loads but ctxembed cannot embed with", () => {
  it("t5 (encoder-decoder) is refused at load, naming it and the t5encoder conversion", async () => {
    const path = await tinyArchitecturePath(T5_ENCODER_DECODER);
    // llama.cpp loads the file (the refusal comes after the model is read) but will not embed
    // with it, so there is no reference vector: the library must refuse, never return one.
    const reference = spawnSync(llamaTool("llama-embedding"), ["-m", path, "-p", TEXTS[0]!, "-t", "1"], {
      encoding: "utf8",
    });
    expect(reference.status).not.toBe(0);
    expect(reference.stderr).toMatch(/embeddings in encoder-decoder models is not supported/);
    await expect(loadModel(path)).rejects.toThrow(/architecture 't5'.*encoder-decoder.*'t5encoder'/);
  });
});
