// Bad input gets a clear error or a documented result, and the process lives on.
import { mkdtemp, open, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel, type EmbeddingModel } from "../../../lib/embedding/embedding-model.js";
import { cosineSimilarity } from "../../../lib/vectors/similarity.js";
import { minilmPath, sentenceFixture } from "../models.js";

let model: EmbeddingModel;
let modelFile: string;
let scratch: string;

beforeAll(async () => {
  modelFile = await minilmPath("f32");
  model = await loadModel(modelFile);
  scratch = await mkdtemp(join(tmpdir(), "ctxembed-robustness-"));
});
afterAll(() => model.dispose());

async function copyPrefix(source: string, bytes: number, target: string): Promise<string> {
  const handle = await open(source, "r");
  try {
    const buffer = Buffer.alloc(bytes);
    await handle.read(buffer, 0, bytes, 0);
    await writeFile(target, buffer);
  } finally {
    await handle.close();
  }
  return target;
}

describe("text inputs", () => {
  it("rejects an empty string with a RangeError naming it", async () => {
    await expect(model.embed(["fine", ""])).rejects.toThrow(/inputs\[1\] is an empty string/);
  });

  it("rejects lone surrogates, which have no UTF-8 form", async () => {
    await expect(model.embed("broken \ud83d text")).rejects.toThrow(/lone surrogate .* at index 7/);
    await expect(model.embed(["\udc00"])).rejects.toThrow(TypeError);
  });

  it("rejects non-strings and unknown options before reaching the addon", async () => {
    await expect(model.embed([42 as unknown as string])).rejects.toThrow(
      /inputs\[0\] must be a string or \{text, spans\}, got number 42/,
    );
    await expect(model.embed(["a"], { normalise: false } as never)).rejects.toThrow(/no option "normalise"/);
    await expect(model.embed(["a"], { pooling: "median" as never })).rejects.toThrow(/pooling must be one of/);
  });

  it("truncates a 10,000-token text by default and says so, and equals its first 256 tokens", async () => {
    const words = Array.from({ length: 10_000 }, (_, i) => `w${i % 97}`).join(" ");
    expect(model.tokenize(words).length).toBeGreaterThan(10_000);
    const long = await model.embed(words);
    expect(long.truncated).toBe(true);
    expect(long.tokenCount).toBe(256);
    expect(long.embedding.every(Number.isFinite)).toBe(true);
    // The same result as embedding exactly the tokens that were kept ([CLS] + 254 + [SEP]).
    const kept = words.split(" ").slice(0, 200).join(" ");
    const keptIds = model.tokenize(kept);
    expect(keptIds.length).toBeGreaterThan(256);
    const prefix = await model.embed(kept);
    expect(cosineSimilarity(prefix.embedding, long.embedding)).toBeGreaterThan(0.99999);
  });

  it("rejects an over-long text with truncate: false, naming the limit", async () => {
    const words = "lorem ipsum ".repeat(400);
    await expect(model.embed(words, { truncate: false })).rejects.toThrow(
      /has \d+ tokens but .* embeds at most 256 \(pass truncate: true/,
    );
  });

  it("returns an empty list for an empty batch", async () => {
    await expect(model.embed([])).resolves.toEqual([]);
  });
});

describe("model files", () => {
  it("rejects a file that is not GGUF", async () => {
    const path = join(scratch, "not-a-model.gguf");
    await writeFile(path, "PK\u0003\u0004 this is a zip file, not a model");
    await expect(loadModel(path)).rejects.toThrow(/not a GGUF file/);
  });

  it("rejects a truncated GGUF file before llama.cpp reads it", async () => {
    const path = await copyPrefix(modelFile, 5_000_000, join(scratch, "truncated.gguf"));
    await expect(loadModel(path)).rejects.toThrow(/truncated/);
  });

  it("rejects a missing file with its path", async () => {
    await expect(loadModel(join(scratch, "nowhere.gguf"))).rejects.toThrow(/nowhere\.gguf/);
  });
});

describe("lifecycle and concurrency", () => {
  it("throws a clear error on every call after dispose, and dispose twice is harmless", async () => {
    const disposable = await loadModel(modelFile);
    await disposable.dispose();
    await disposable.dispose();
    expect(disposable.disposed).toBe(true);
    await expect(disposable.embed("hello")).rejects.toThrow(/has been disposed/);
    expect(() => disposable.tokenize("hello")).toThrow(/has been disposed/);
  });

  it("serves concurrent calls on one model, each with its own results", async () => {
    const fixture = sentenceFixture();
    const groups = [0, 1, 2, 3, 4, 5, 6, 7].map((g) => fixture.sentences.slice(g * 16, g * 16 + 16));
    const results = await Promise.all(groups.map((group) => model.embed(group)));
    results.forEach((group, g) =>
      group.forEach((result, i) =>
        expect(cosineSimilarity(result.embedding, fixture.embeddings[g * 16 + i]!)).toBeGreaterThan(0.9999),
      ),
    );
  });

  it("lets several models compute at once", async () => {
    const other = await loadModel(modelFile, { threads: 1 });
    try {
      const [a, b] = await Promise.all([model.embed("the same text"), other.embed("the same text")]);
      expect(cosineSimilarity(a.embedding, b.embedding)).toBeGreaterThan(0.99999);
    } finally {
      await other.dispose();
    }
  });
});
