import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SenseDictionary, type DictionarySettings } from "../../../lib/senses/dictionary.js";
import {
  decodeDictionary,
  encodeDictionary,
  loadDictionary,
  saveDictionary,
} from "../../../lib/senses/dictionary-file.js";
import { l2Normalize } from "../../../lib/vectors/similarity.js";
import { seededRandom } from "../../../lib/util/random.js";

const settings: DictionarySettings = {
  model: "test-model",
  dimensions: 8,
  layers: { layers: [-2, -1], combine: "mean" },
  spanPooling: "mean",
  clustering: { method: "kmeans", k: 20 },
  samplesPerWord: 1000,
  minOccurrencesToSplit: 10,
  seed: 1,
};

function sampleDictionary(): SenseDictionary {
  const random = seededRandom(9);
  const vector = () => l2Normalize(Float32Array.from({ length: settings.dimensions }, () => random() - 0.5));
  return new SenseDictionary(settings, [
    {
      word: "bank",
      occurrences: 120,
      senses: [0, 1, 2].map((i) => ({
        centroid: vector(),
        samples: 10 + i,
        contexts: [`river bank ${i}`, "naïve “quotes”"],
      })),
    },
    { word: "rare", occurrences: 3, senses: [{ centroid: vector(), samples: 3, contexts: ["a rare word"] }] },
  ]);
}

describe("sense dictionary file", () => {
  const directory = mkdtempSync(join(tmpdir(), "ctxembed-senses-"));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it("round-trips settings, words, counts, contexts and every centroid bit for bit", async () => {
    const original = sampleDictionary();
    const path = join(directory, "round.ctxsense");
    await saveDictionary(original, path);
    const loaded = await loadDictionary(path);
    expect(loaded.settings).toEqual(original.settings);
    expect(
      [...loaded.words].map((w) => ({
        ...w,
        senses: w.senses.map((s) => ({ ...s, centroid: Array.from(s.centroid) })),
      })),
    ).toEqual(
      [...original.words].map((w) => ({
        ...w,
        senses: w.senses.map((s) => ({ ...s, centroid: Array.from(s.centroid) })),
      })),
    );
  });

  it("assigns an occurrence to the centroid with the largest dot product, after loading too", () => {
    const loaded = decodeDictionary(encodeDictionary(sampleDictionary()));
    const senses = loaded.lookup("BANK")!.senses;
    senses.forEach((sense, i) => expect(loaded.assign("bank", sense.centroid)?.sense).toBe(i));
    expect(loaded.assign("unknown", senses[0]!.centroid)).toBeUndefined();
    expect(() => loaded.assign("bank", new Float32Array(3))).toThrow(RangeError);
  });

  it("rejects a truncated file", () => {
    const bytes = encodeDictionary(sampleDictionary());
    for (const length of [0, 10, 20, bytes.length - 40, bytes.length - 1]) {
      expect(() => decodeDictionary(bytes.subarray(0, length))).toThrow(/not a valid sense dictionary/);
    }
  });

  it("rejects a file with any byte changed (checksum), a wrong magic, or a newer version", () => {
    const bytes = encodeDictionary(sampleDictionary());
    for (const at of [20, Math.floor(bytes.length / 2), bytes.length - 50]) {
      const changed = Buffer.from(bytes);
      changed[at]! ^= 0x01;
      expect(() => decodeDictionary(changed)).toThrow(/checksum|not a valid/);
    }
    const wrongMagic = Buffer.from(bytes);
    wrongMagic.write("XX", 0, "ascii");
    expect(() => decodeDictionary(wrongMagic)).toThrow(/CTXSENSE/);
    const newer = Buffer.from(bytes);
    newer.writeUInt32LE(99, 8);
    expect(() => decodeDictionary(newer)).toThrow(/version 99/);
  });

  it("rejects a file that is not a dictionary at all", async () => {
    const path = join(directory, "junk.ctxsense");
    writeFileSync(path, "CTXSENSE but then just text, nothing else of the format at all");
    await expect(loadDictionary(path)).rejects.toThrow(/not a valid sense dictionary/);
  });
});
