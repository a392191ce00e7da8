// WiC features are costly (a model pass per group, WordNet inventories) and cheap to keep: one
// JSON file per model file, feature group and set of pairs, under the ctxembed cache, so that a
// cross-validation grid or a second run of `eval wic` reads them instead of embedding again.
import { createHash } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { cacheDirectory } from "../hub/cache.js";
import { writeFileAtomic } from "../util/atomic-file.js";
import { sha256File } from "../hub/wheel.js";
import type { WicPair } from "./wic.js";

const checksums = new Map<string, Promise<string>>();

/** The model file's sha256, computed once per process and path. */
export function modelChecksum(path: string): Promise<string> {
  let checksum = checksums.get(path);
  if (!checksum) checksums.set(path, (checksum = sha256File(path)));
  return checksum;
}

/** Where one group's features of `pairs` are kept: model checksum, group (with its settings), and a digest of the pairs themselves. */
export async function featureCachePath(modelPath: string, group: string, pairs: readonly WicPair[]): Promise<string> {
  const model = (await modelChecksum(modelPath)).slice(0, 16);
  const data = createHash("sha256").update(JSON.stringify(pairs)).digest("hex").slice(0, 16);
  return join(cacheDirectory(), "wic-features", model, `${group.replace(/[^\w.-]+/g, "_")}-${data}.json`);
}

/** `compute()`'s result, read from the cache when it holds it, written there when not. */
export async function cachedFeatures<T>(
  modelPath: string,
  group: string,
  pairs: readonly WicPair[],
  compute: () => Promise<T>,
): Promise<T> {
  const path = await featureCachePath(modelPath, group, pairs);
  const kept = await readFile(path, "utf8").then(
    (text) => JSON.parse(text) as T,
    () => undefined,
  );
  if (kept !== undefined) return kept;
  const value = await compute();
  await mkdir(dirname(path), { recursive: true });
  // Two evaluations of one group may race to fill the cache: each writes a whole file.
  await writeFileAtomic(path, JSON.stringify(value));
  return value;
}
