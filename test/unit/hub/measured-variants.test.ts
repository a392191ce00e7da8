import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { listCatalog } from "../../../lib/hub/catalog.js";
import { fastestMeasuredVariant, fidelityBar } from "../../../lib/hub/measured-variants.js";

const repositoryRoot = join(import.meta.dirname, "..", "..", "..");
const zen4 = { vendor: "AuthenticAMD", flags: new Set(["avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16"]) };
const zen3 = { vendor: "AuthenticAMD", flags: new Set(["avx2", "fma"]) };

describe("fastestMeasuredVariant", () => {
  it("names the measured variant, the --model value that picks it and its source, on a CPU of the measured class", () => {
    const fastest = fastestMeasuredVariant("all-minilm-l6-v2", zen4);
    expect(fastest).toMatchObject({ variant: "q8_0", model: "all-minilm-l6-v2:q8_0" });
    if (fastest.variant === null) throw new Error(fastest.reason);
    expect(fastest.minCosine).toBeGreaterThanOrEqual(fidelityBar);
    expect(listCatalog().find((entry) => entry.name === "all-minilm-l6-v2")!.variants).toHaveProperty(fastest.variant);
    // The same answer when the model is named with a variant of its own.
    expect(fastestMeasuredVariant("all-minilm-l6-v2:bf16", zen4)).toEqual(fastest);
  });

  it("quotes the figures of the page it cites, so that the fact cannot drift from its source", () => {
    const fastest = fastestMeasuredVariant("all-minilm-l6-v2", zen4);
    if (fastest.variant === null) throw new Error(fastest.reason);
    const [page] = fastest.source.split(",");
    const text = readFileSync(join(repositoryRoot, page!), "utf8");
    expect(text).toContain(fastest.minCosine.toFixed(6));
    for (const seconds of fastest.measured.match(/\d+\.\d+ s?/g)!.map((figure) => figure.replace(/ s?$/, "")))
      expect(text, `${page} should hold ${seconds}`).toContain(seconds);
  });

  it("says 'not measured' rather than guess: an AVX2-only CPU, a CPU it cannot read, a model given as a file", () => {
    expect(fastestMeasuredVariant("all-minilm-l6-v2", zen3)).toEqual({
      variant: null,
      reason: "not measured for all-minilm-l6-v2 on a CPU with this one's instruction sets",
    });
    expect(fastestMeasuredVariant("all-minilm-l6-v2", null).variant).toBeNull();
    expect(fastestMeasuredVariant("/models/all-minilm-l6-v2-f32.gguf", zen4).variant).toBeNull();
    expect(fastestMeasuredVariant("gemma-3-270m", zen4).variant).toBeNull();
  });
});
