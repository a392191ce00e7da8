// ctxembed's patched llama.cpp, and ctxembed itself, against llama.cpp built from the same pinned
// source without ctxembed's patches (scripts/reference/upstream-llama.ts). A patch whose head says
// "the same bits" is held to that: llama-probe.cpp, compiled against both builds, gives every
// token's vector as exact bits, for models and settings that only such patches touch. Where a
// patch changes arithmetic on purpose (GELU without the f16 table, layer norm's sums in another
// order, OpenBLAS and ctxembed's own kernels for f32 and Q8_0 products), a cosine bound says how
// far from upstream it may go.
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

// Decoders whose graphs use only operations no patch changes the arithmetic of (RMS norm, SwiGLU,
// rotary positions, f16 products on tinyBLAS of two columns or more): what differs from upstream
// is flash attention's tiles (0004, 0006) and the pruned logits (0005), all "the same bits".
const SAME_BITS = ["llama", "qwen2", "qwen3", "llama-embed"];

describe.each(ARCHITECTURES.filter(({ name }) => SAME_BITS.includes(name)))(
  "tiny $name in f16: the patched build's token vectors are upstream's, bit for bit",
  (architecture) => {
    it.each([true, false])("flash attention %s", async (flashAttention) => {
      const path = await tinyArchitecturePath(architecture, "f16");
      const patched = probeEmbeddings(probes.patched, path, TEXTS, flashAttention);
      const { differing, worst } = compare(patched, probeEmbeddings(probes.upstream, path, TEXTS, flashAttention));
      console.log(
        `[upstream] tiny ${architecture.name} f16, flash attention ${flashAttention}: ${differing} of ${patched.length} token vectors differ from upstream's bits (worst cosine ${worst.toFixed(9)})`,
      );
      expect(differing).toBe(0);
    });
  },
);

describe("gemma-3-270m Q4_K_M: the patched build's token vectors are upstream's, bit for bit", () => {
  it.each([true, false])("flash attention %s", async (flashAttention) => {
    const path = await pullModel("gemma-3-270m");
    const patched = probeEmbeddings(probes.patched, path, TEXTS, flashAttention);
    const { differing, worst } = compare(patched, probeEmbeddings(probes.upstream, path, TEXTS, flashAttention));
    console.log(
      `[upstream] gemma-3-270m, flash attention ${flashAttention}: ${differing} of ${patched.length} token vectors differ from upstream's bits (worst cosine ${worst.toFixed(9)})`,
    );
    expect(differing).toBe(0);
  });
});

// all-MiniLM-L6-v2's GELU (0002) and layer norm (0009), and for f32 weights OpenBLAS (0003), change
// the last bits; the bound says how far.
describe.each([
  { variant: "f32", minimumCosine: 0.99999 },
  { variant: "f16", minimumCosine: 0.99999 },
] as const)("all-MiniLM-L6-v2 $variant: the patched build against upstream", ({ variant, minimumCosine }) => {
  it(`every token vector within cosine ${minimumCosine}`, async () => {
    const path = await minilmPath(variant);
    const patched = probeEmbeddings(probes.patched, path, TEXTS, true);
    const { differing, worst } = compare(patched, probeEmbeddings(probes.upstream, path, TEXTS, true));
    console.log(
      `[upstream] all-MiniLM-L6-v2 ${variant}: ${differing} of ${patched.length} token vectors differ from upstream's bits, worst cosine ${worst.toFixed(9)}`,
    );
    expect(worst).toBeGreaterThanOrEqual(minimumCosine);
  });
});

/** Upstream's token vectors for TEXTS, split by text (the probe prints them in order). */
function upstreamTokens(path: string, tokenCounts: number[]): Float32Array[][] {
  const lines = probeEmbeddings(probes.upstream, path, TEXTS, true);
  expect(lines.length).toBe(tokenCounts.reduce((a, b) => a + b, 0));
  let start = 0;
  return tokenCounts.map((count) => {
    const tokens = lines.slice(start, start + count).map(probeVector);
    start += count;
    return tokens;
  });
}

// ctxembed as a user runs it (its own batching, repacked f32 and Q8_0 kernels where the CPU has
// them, smoothing in q8_0 files) against upstream llama.cpp on the same weights. The q8_0 file is
// smoothed, which upstream cannot load: it is compared with upstream's f32 vectors.
describe.each([
  { model: "all-MiniLM-L6-v2", variant: "f32", reference: "f32", minimumCosine: 0.9999 },
  { model: "all-MiniLM-L6-v2", variant: "f16", reference: "f16", minimumCosine: 0.9999 },
  { model: "all-MiniLM-L6-v2", variant: "bf16", reference: "bf16", minimumCosine: 0.9999 },
  { model: "all-MiniLM-L6-v2", variant: "q8_0", reference: "f32", minimumCosine: 0.99 },
  { model: "gemma-3-270m", variant: "q4_k_m", reference: "q4_k_m", minimumCosine: 0.999 },
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
