// Pulling `hf:` models into the cache. A GGUF repository's file is fetched as it is; a BERT
// sentence-transformers checkpoint in safetensors is fetched and converted by the project's
// converter. Everything lives under the commit the revision resolved to:
//
//   $CTXEMBED_CACHE/hf/models--OWNER--REPO/
//     refs/REVISION              the commit a branch or tag pointed at when last pulled
//     files/COMMIT.json          the repository's file list at that commit
//     snapshots/COMMIT/PATH      fetched files, named only once verified
//     converted/COMMIT/REPO-TYPE.gguf
//     blobs/ETAG.incomplete      downloads in progress, resumed by the next attempt
//     blobs/ETAG.incomplete.path the repository path each is a download of
//
// Loading a model by name uses the cache when it holds the file a revision last resolved to,
// without asking the Hub; `ctxembed models pull` asks the Hub where the revision points now.
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { check } from "proper-lockfile";
import { writeFileAtomic } from "../util/atomic-file.js";
import { isJsonObject, readRequiredJsonObject } from "../util/json-files.js";
import { cacheDirectory } from "./cache.js";
import { convertCheckpoint, type ConvertType } from "./convert/index.js";
import { readBertConfig } from "./convert/bert.js";
import { readSentenceTransformerSettings } from "./convert/sentence-transformers.js";
import {
  downloadVerified,
  fetchFileMetadata,
  fetchRepositorySnapshot,
  HubError,
  hubSettings,
  type HubSettings,
  type RepositorySnapshot,
} from "./hf-client.js";
import { formatHubName, isCommitHash, type HubModelName } from "./hf-name.js";

export interface HubPullOptions {
  /** Ask the Hub where the revision points even when the cache holds what it pointed at last (default true). */
  refresh?: boolean;
  /** Use the cache only, as HF_HUB_OFFLINE=1 does (`ctxembed models path`). */
  cacheOnly?: boolean;
  /** Fetch and convert again even when cached. */
  force?: boolean;
  onProgress?: (message: string) => void;
}

/** Everything cached for one repository. */
export function hubRepositoryDirectory(repository: string): string {
  return join(cacheDirectory(), "hf", `models--${repository.replace("/", "--")}`);
}

const convertTypes: readonly ConvertType[] = ["f32", "f16"];

/** The files the converter reads from a sentence-transformers BERT checkpoint, besides the module configurations. */
const checkpointFiles = [
  "config.json",
  "modules.json",
  "sentence_bert_config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "vocab.txt",
  "README.md",
];
const otherWeights = [
  "model.safetensors.index.json",
  "pytorch_model.bin",
  "pytorch_model.bin.index.json",
  "tf_model.h5",
];

/** What a name asks for in a repository at one commit. */
type Plan = { kind: "gguf"; path: string } | { kind: "convert"; type: ConvertType };

const splitGguf = /-\d{5}-of-\d{5}\.gguf$/i;

function isGguf(path: string): boolean {
  return path.toLowerCase().endsWith(".gguf") && !/(^|\/)mmproj/i.test(path);
}

/** The quantization a GGUF file name carries (`bge-small-en-v1.5-q8_0.gguf` → `q8_0`), for messages. */
function quantOf(path: string): string {
  const stem = path.replace(/\.gguf$/i, "");
  return /(?:^|[-._/])((?:I?Q\d[A-Za-z0-9_]*)|BF16|F16|F32)$/i.exec(stem)?.[1] ?? path;
}

function describeGgufs(ggufs: readonly string[]): string {
  return ggufs.map((path) => `${quantOf(path)} (${path})`).join(", ");
}

/** Chooses the file (or the conversion) a name asks for; throws an error that lists what the repository has. */
export function planFor(name: HubModelName, snapshot: RepositorySnapshot): Plan {
  const where = `${name.repository} at ${snapshot.commit.slice(0, 12)}`;
  const ggufs = snapshot.files.filter(isGguf);
  const convertible = snapshot.files.includes("config.json") && snapshot.files.includes("model.safetensors");
  if (name.path !== undefined) {
    if (!snapshot.files.includes(name.path)) {
      throw new HubError(
        `${name.text}: ${where} has no file ${name.path}; its GGUF files: ${ggufs.join(", ") || "none"}`,
      );
    }
    return { kind: "gguf", path: name.path };
  }
  const quant = name.quant;
  const candidates =
    quant === undefined
      ? ggufs
      : ggufs.filter((path) =>
          new RegExp(`(^|[-._/])${quant}($|[-._])`, "i").test(
            path
              .replace(/\.gguf$/i, "")
              .split("/")
              .pop() ?? "",
          ),
        );
  if (candidates.length === 1) {
    const [path] = candidates as [string];
    if (splitGguf.test(path)) {
      throw new HubError(
        `${name.text}: ${path} is one part of a split GGUF, which ctxembed does not load; merge it with llama-gguf-split --merge`,
      );
    }
    return { kind: "gguf", path };
  }
  if (candidates.length > 1) {
    if (candidates.every((path) => splitGguf.test(path))) {
      throw new HubError(
        `${name.text}: ${where} holds it as a split GGUF (${candidates.join(", ")}), which ctxembed does not load`,
      );
    }
    throw new HubError(
      `${name.text}: ${where} has several GGUF files${quant ? ` for ${quant}` : ""}: ${describeGgufs(candidates)}; ` +
        `name one as hf:${name.repository}:QUANT or hf:${name.repository}/PATH.gguf`,
    );
  }
  if (ggufs.length > 0) {
    throw new HubError(`${name.text}: ${where} has no GGUF file for ${quant}; it has ${describeGgufs(ggufs)}`);
  }
  if (convertible) {
    const type = (quant?.toLowerCase() ?? "f32") as ConvertType;
    if (!convertTypes.includes(type)) {
      throw new HubError(
        `${name.text}: ${where} is a safetensors checkpoint, converted to ${convertTypes.join(" or ")} ` +
          `(not ${quant}); quantize the converted file with \`ctxembed quantize\``,
      );
    }
    return { kind: "convert", type };
  }
  const weights = otherWeights.filter((file) => snapshot.files.includes(file));
  throw new HubError(
    `${name.text}: ${where} has no usable model: no GGUF file and no single-file safetensors checkpoint ` +
      `(config.json + model.safetensors)${weights.length > 0 ? `; it has ${weights.join(", ")}, which ctxembed does not convert` : ""}. ` +
      `Files: ${snapshot.files.slice(0, 20).join(", ")}${snapshot.files.length > 20 ? ", …" : ""}`,
  );
}

interface RepositoryCache {
  root: string;
  refPath(revision: string): string;
  filesPath(commit: string): string;
  snapshotPath(commit: string, path: string): string;
  convertedPath(commit: string, type: ConvertType): string;
  partialPath(etag: string): string;
}

function repositoryCache(repository: string): RepositoryCache {
  const root = hubRepositoryDirectory(repository);
  const repoName = repository.split("/")[1] as string;
  return {
    root,
    refPath: (revision) => join(root, "refs", ...revision.split("/")),
    filesPath: (commit) => join(root, "files", `${commit}.json`),
    snapshotPath: (commit, path) => join(root, "snapshots", commit, ...path.split("/")),
    convertedPath: (commit, type) => join(root, "converted", commit, `${repoName}-${type}.gguf`),
    partialPath: (etag) => join(root, "blobs", `${etag}.incomplete`),
  };
}

/** The cache lacks what a name needs and the Hub may not be asked. */
export class HubModelNotCachedError extends HubError {
  override name = "HubModelNotCachedError";
}

function notCached(name: HubModelName, what: string): HubModelNotCachedError {
  const why = hubSettings().offline ? "HF_HUB_OFFLINE is set and " : "";
  return new HubModelNotCachedError(
    `${name.text}: ${why}the cache (${hubRepositoryDirectory(name.repository)}) has no ${what}; run \`ctxembed models pull ${name.text}\` with the network first`,
  );
}

async function readText(path: string): Promise<string | undefined> {
  return readFile(path, "utf8").then(
    (text) => text.trim(),
    () => undefined,
  );
}

/** The commit and file list for a name: from the cache when allowed and present, else from the Hub (and cached). */
async function snapshotFor(
  name: HubModelName,
  cache: RepositoryCache,
  settings: HubSettings,
  refresh: boolean,
): Promise<RepositorySnapshot> {
  const pinned = isCommitHash(name.revision);
  if (pinned || !refresh || settings.offline) {
    const recorded = pinned ? name.revision : await readText(cache.refPath(name.revision));
    const commit = recorded !== undefined && isCommitHash(recorded) ? recorded : undefined;
    const files = commit === undefined ? undefined : await readText(cache.filesPath(commit));
    if (commit !== undefined && files !== undefined) return { commit, files: JSON.parse(files) as string[] };
    if (settings.offline) throw notCached(name, `${name.repository}@${name.revision}`);
  }
  const snapshot = await fetchRepositorySnapshot(settings, name.repository, name.revision);
  await mkdir(join(cache.root, "files"), { recursive: true });
  await writeFileAtomic(cache.filesPath(snapshot.commit), JSON.stringify(snapshot.files));
  return snapshot;
}

async function fetchFile(
  name: HubModelName,
  cache: RepositoryCache,
  settings: HubSettings,
  commit: string,
  path: string,
  onProgress: (message: string) => void,
): Promise<string> {
  const finalPath = cache.snapshotPath(commit, path);
  if (existsSync(finalPath)) return finalPath;
  if (settings.offline) throw notCached(name, `${path} at ${commit.slice(0, 12)}`);
  const metadata = await fetchFileMetadata(settings, name.repository, commit, path);
  if (metadata.size > 10e6)
    onProgress(`downloading ${name.repository}/${path} (${(metadata.size / 1e6).toFixed(1)} MB)…`);
  const partialPath = cache.partialPath(metadata.etag);
  await mkdir(dirname(partialPath), { recursive: true });
  await writeFileAtomic(`${partialPath}${partialOwnerSuffix}`, path);
  await downloadVerified(settings, metadata, partialPath, finalPath, onProgress);
  await removeStalePartials(dirname(partialPath), path);
  return finalPath;
}

/** Beside each `ETAG.incomplete`: the repository path it is a download of. */
const partialOwnerSuffix = ".path";

/**
 * Once `path` is fetched whole, the partial downloads of it at other ETags (another revision's
 * copy, cut) would only be resumed by a pull of that revision: they are removed with their
 * records, unless a process holds their lock (downloading them now). Blobs are per repository.
 */
async function removeStalePartials(blobs: string, path: string): Promise<void> {
  for (const name of await readdir(blobs).catch(() => [] as string[])) {
    if (!name.endsWith(`.incomplete${partialOwnerSuffix}`)) continue;
    const record = join(blobs, name);
    const owner = await readFile(record, "utf8").catch(() => undefined);
    const partial = record.slice(0, -partialOwnerSuffix.length);
    if (owner === path && !(await check(partial, { realpath: false }).catch(() => true))) {
      await rm(partial, { force: true });
      await rm(record, { force: true });
    }
  }
}

/** Fetches what the converter reads, small files first, so that an unconvertible checkpoint fails before its weights are fetched. */
async function fetchCheckpoint(
  name: HubModelName,
  cache: RepositoryCache,
  settings: HubSettings,
  snapshot: RepositorySnapshot,
  onProgress: (message: string) => void,
): Promise<string> {
  const fetch = (path: string): Promise<string> => fetchFile(name, cache, settings, snapshot.commit, path, onProgress);
  for (const file of checkpointFiles) if (snapshot.files.includes(file)) await fetch(file);
  const directory = cache.snapshotPath(snapshot.commit, "");
  readBertConfig(
    await readRequiredJsonObject(join(directory, "config.json"), "the model configuration"),
    join(directory, "config.json"),
  );
  if (snapshot.files.includes("modules.json")) {
    const modules = JSON.parse(await readFile(join(directory, "modules.json"), "utf8")) as unknown;
    for (const module of Array.isArray(modules) ? modules : []) {
      const config = isJsonObject(module) && typeof module.path === "string" ? `${module.path}/config.json` : undefined;
      if (config !== undefined && module.path !== "" && snapshot.files.includes(config)) await fetch(config);
    }
  }
  // Refuses pipelines the converted model cannot reproduce (a Dense layer, max pooling) before the weights.
  await readSentenceTransformerSettings(directory);
  await fetch("model.safetensors");
  return directory;
}

/**
 * Resolves an `hf:` name to a GGUF file in the cache, fetching (and converting) it first when
 * needed. With `refresh` false, a revision whose file is cached is used without asking the Hub.
 */
export async function pullHubModel(name: HubModelName, options: HubPullOptions = {}): Promise<string> {
  const settings = { ...hubSettings(), ...(options.cacheOnly ? { offline: true } : {}) };
  const onProgress = options.onProgress ?? (() => {});
  const cache = repositoryCache(name.repository);
  const snapshot = await snapshotFor(name, cache, settings, options.refresh ?? true);
  const plan = planFor(name, snapshot);
  const target =
    plan.kind === "gguf"
      ? cache.snapshotPath(snapshot.commit, plan.path)
      : cache.convertedPath(snapshot.commit, plan.type);
  if (options.force) {
    if (settings.offline) throw new HubError(`${name.text}: --force fetches again, which HF_HUB_OFFLINE=1 forbids`);
    await rm(plan.kind === "gguf" ? target : cache.snapshotPath(snapshot.commit, ""), { recursive: true, force: true });
    await rm(target, { force: true });
  }
  if (!existsSync(target)) {
    if (plan.kind === "gguf") {
      await fetchFile(name, cache, settings, snapshot.commit, plan.path, onProgress);
    } else {
      const directory = await fetchCheckpoint(name, cache, settings, snapshot, onProgress);
      onProgress(`converting ${name.repository} to ${plan.type}…`);
      // The GGUF writer builds under a partial name and renames it into place once synced.
      await convertCheckpoint(directory, target, { type: plan.type, name: name.repository.split("/")[1], onProgress });
    }
    onProgress(`${name.text} at ${snapshot.commit.slice(0, 12)}: ${target}`);
  }
  const refPath = cache.refPath(name.revision);
  if (!isCommitHash(name.revision) && (await readText(refPath)) !== snapshot.commit) {
    await mkdir(join(refPath, ".."), { recursive: true });
    await writeFileAtomic(refPath, snapshot.commit);
  }
  return target;
}

/**
 * The name with its revision replaced by the commit it resolves to (from the cache when it knows
 * it, else from the Hub), after checking that the repository has what the name asks for there.
 */
export async function pinHubName(name: HubModelName): Promise<string> {
  const settings = hubSettings();
  const snapshot = await snapshotFor(name, repositoryCache(name.repository), settings, false);
  planFor(name, snapshot);
  return formatHubName({ ...name, revision: snapshot.commit });
}
