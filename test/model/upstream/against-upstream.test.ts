// ctxembed's patched llama.cpp, and ctxembed itself, against llama.cpp built from the same pinned
// source without ctxembed's patches (scripts/reference/upstream-llama.ts). A patch whose head says
// "the same bits" is held to that: llama-probe.cpp, compiled against both builds, gives every
// token's vector as exact bits, for models and settings that only such patches touch. Where a
// patch changes arithmetic on purpose (GELU without the f16 table, layer norm's sums in another
// order, OpenBLAS and ctxembed's own kernels for f32 and Q8_0 products), a cosine bound says how
// far from upstream it may go. Measured figures are in the log lines "[upstream] …".
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, type EmbeddingModel } from "../../../lib/embedding/embedding-model.js";
import { pullModel } from "../../../lib/hub/pull.js";
import { cosineSimilarity } from "../../../lib/vectors/similarity.js";
import { ARCHITECTURES, tinyArchitecturePath } from "../architectures/tiny-architectures.js";
import { llamaBuildVersions, llamaProbe, probeEmbeddings, probeVector } from "../llama-tools.js";
import { minilmPath } from "../models.js";

// Texts of different lengths in one batch: each attends only to itself, so most tiles of the
// attention mask are all -inf and a text's rows start at different offsets within a tile.
const TEXTS = [
  "the river flows past the old stone bridge",
  "she opened an account at the bank",
  Array.from({ length: 9 }, () => "we walked along quiet city streets in the evening light").join(", "),
  "a cat",
  "the bank of the river was steep and muddy after the rain, so we walked further down",
];
/** Cut to TILE tokens each (tiny-vocabulary tokens are about a character), so that each text's keys fill one tile. */
const TILE = 32;
const TILE_TEXTS = [
  "the river flows past the old stone bridge and on",
  "she opened an account at the bank on the corner",
  "we walked along quiet city streets in the evening",
  "the bank of the river was steep and muddy after rain",
  "a cat sat on the mat by the door of the house",
  "music played softly from a radio in the kitchen",
];

let probes: { patched: string; upstream: string };
beforeAll(async () => {
  process.stderr.write(`[upstream] ${(await llamaBuildVersions()).replaceAll("\n", "\n[upstream] ")}\n`);
  probes = { patched: await llamaProbe("patched"), upstream: await llamaProbe("upstream") };
}, 1_800_000);

/** How many of two builds' token vectors differ in any bit, and the lowest cosine between them. */
function compare(patched: string[], upstream: string[]): { differing: number; worst: number } {
  expect(patched.length).toBe(upstream.length);
  const differing = patched.filter((line, i) => line !== upstream[i]).length;
  const worst = Math.min(...patched.map((line, i) => cosineSimilarity(probeVector(line), probeVector(upstream[i]!))));
  return { differing, worst };
}

function compareBuilds(label: string, path: string, texts: readonly string[], flashAttention: boolean) {
  const patched = probeEmbeddings(probes.patched, path, texts, flashAttention);
  const result = compare(patched, probeEmbeddings(probes.upstream, path, texts, flashAttention));
  console.log(
    `[upstream] ${label}, flash attention ${flashAttention ? "on" : "off"}: ${result.differing} of ${patched.length} token vectors differ from upstream's bits, worst cosine ${result.worst.toFixed(9)}`,
  );
  return result;
}

// Causal decoders use only operations whose arithmetic no patch changes (RMS norm, SwiGLU, rotary
// positions, f16 products on tinyBLAS, every one two columns wide or more), and the KV cache
// holds K and V in f16, so no f32 x f32 product goes to OpenBLAS (0003). What differs from
// upstream is the pruned logits (0005) and, with flash attention, its tiles: 0004 skips tiles and
// rows that are all -inf (the same bits), 0006 takes 32 keys a tile instead of 64, which moves the
// points where the running softmax is rescaled wherever a text's keys cross a 32-key boundary:
// the same bits only when each text fills whole tiles, within a cosine bound otherwise.
describe.each(ARCHITECTURES.filter(({ name }) => ["llama", "qwen2", "qwen3"].includes(name)))(
  "tiny $name in f16: the patched build against upstream",
  (architecture) => {
    let path: string;
    let tileTexts: string[];
    beforeAll(async () => {
      path = await tinyArchitecturePath(architecture, "f16");
      const model = await loadModel(path);
      tileTexts = TILE_TEXTS.map((text) => {
        let cut = text;
        while (model.countTokens(cut) > TILE) cut = cut.slice(0, -1);
        expect(model.countTokens(cut), cut).toBe(TILE);
        return cut;
      });
      await model.dispose();
    });

    it("without flash attention, every token vector bit for bit", () => {
      expect(compareBuilds(`tiny ${architecture.name} f16`, path, TEXTS, false).differing).toBe(0);
    });

    it(`with flash attention, texts of ${TILE} tokens: every token vector bit for bit`, () => {
      expect(compareBuilds(`tiny ${architecture.name} f16, ${TILE}-token texts`, path, tileTexts, true).differing).toBe(
        0,
      );
    });

    it("with flash attention, texts of other lengths: every token vector within cosine 0.99999", () => {
      expect(compareBuilds(`tiny ${architecture.name} f16`, path, TEXTS, true).worst).toBeGreaterThanOrEqual(0.99999);
    });
  },
);

// ctxembed embeds with decoders without flash attention (docs/building.md); Q4_K's 8-bit
// activations make a last-bit difference in the flash-attention tiles visible (cosine ~0.9985), so
// only the path ctxembed takes is compared.
describe("gemma-3-270m Q4_K_M: the patched build against upstream", () => {
  it("without flash attention, every token vector bit for bit", async () => {
    expect(compareBuilds("gemma-3-270m", await pullModel("gemma-3-270m"), TEXTS, false).differing).toBe(0);
  });
});

// all-MiniLM-L6-v2's GELU (0002) and layer norm (0009) change the last bits, and without a KV
// cache its attention products are f32 x f32, on OpenBLAS (0003): the bound says how far.
describe.each([
  { variant: "f32", minimumCosine: 0.99999 },
  { variant: "f16", minimumCosine: 0.99999 },
  { variant: "bf16", minimumCosine: 0.9999 },
] as const)("all-MiniLM-L6-v2 $variant: the patched build against upstream", ({ variant, minimumCosine }) => {
  it(`every token vector within cosine ${minimumCosine}`, async () => {
    const path = await minilmPath(variant);
    expect(compareBuilds(`all-MiniLM-L6-v2 ${variant}`, path, TEXTS, true).worst).toBeGreaterThanOrEqual(minimumCosine);
  });
});

/** Upstream's token vectors for TEXTS, split by text (the probe prints them in order). */
function upstreamTokens(path: string, tokenCounts: number[], flashAttention: boolean): Float32Array[][] {
  const lines = probeEmbeddings(probes.upstream, path, TEXTS, flashAttention);
  expect(lines.length).toBe(tokenCounts.reduce((a, b) => a + b, 0));
  let start = 0;
  return tokenCounts.map((count) => {
    const tokens = lines.slice(start, start + count).map(probeVector);
    start += count;
    return tokens;
  });
}

// ctxembed as a user runs it (its own batching, repacked f32 and Q8_0 kernels where the CPU has
// them, smoothing in q8_0 files) against upstream llama.cpp on the same weights, with flash
// attention as ctxembed takes it (encoders on, decoders off). The q8_0 file is smoothed, which
// upstream cannot load: it is compared with upstream's f32 vectors. gemma-3-270m's bound is
// looser: the patched build is upstream's bit for bit on the same batch (above), but ctxembed
// batches its texts otherwise, and Q4_K's 8-bit activations make the last bits visible.
describe.each([
  { model: "all-MiniLM-L6-v2", variant: "f32", reference: "f32", minimumCosine: 0.99999 },
  { model: "all-MiniLM-L6-v2", variant: "f16", reference: "f16", minimumCosine: 0.99999 },
  { model: "all-MiniLM-L6-v2", variant: "bf16", reference: "bf16", minimumCosine: 0.9999 },
  { model: "all-MiniLM-L6-v2", variant: "q8_0", reference: "f32", minimumCosine: 0.999 },
  { model: "gemma-3-270m", variant: "q4_k_m", reference: "q4_k_m", minimumCosine: 0.998 },
] as const)("ctxembed's $model $variant against upstream llama.cpp's $reference", (row) => {
  let model: EmbeddingModel;
  const path = (variant: string) =>
    row.model === "gemma-3-270m" ? pullModel("gemma-3-270m") : minilmPath(variant as "f32" | "f16" | "bf16" | "q8_0");
  beforeAll(async () => {
    model = await loadModel(await path(row.variant));
  });
  afterAll(() => model?.dispose());

  it(`every token vector within cosine ${row.minimumCosine}`, async () => {
    const ours = await model.embed(TEXTS, { pooling: "none", normalize: false });
    const theirs = upstreamTokens(
      await path(row.reference),
      ours.map((result) => result.tokens!.length),
      !model.info.causal,
    );
    let worst = 1;
    ours.forEach((result, i) => {
      result.tokens!.forEach((token, t) => {
        worst = Math.min(worst, cosineSimilarity(token.embedding, theirs[i]![t]!));
      });
    });
    console.log(
      `[upstream] ctxembed ${row.model} ${row.variant} against upstream's ${row.reference}: worst token cosine ${worst.toFixed(7)}`,
    );
    expect(worst).toBeGreaterThanOrEqual(row.minimumCosine);
  });
});
