// The few Hugging Face Hub routes ctxembed needs, with the conventions of the `huggingface_hub`
// library: HF_ENDPOINT (mirrors), HF_TOKEN (or the token file `hf auth login` writes),
// HF_HUB_OFFLINE, and the proxy variables. Files are downloaded under a partial name that survives the process, resumed
// with an HTTP Range request, and checked against the hash the Hub gives as the file's ETag
// (sha256 for LFS files in X-Linked-Etag, the git blob sha1 otherwise) before they get their name.
import { createHash } from "node:crypto";
import { createReadStream, existsSync, readFileSync } from "node:fs";
import { mkdir, open, rm, stat, truncate } from "node:fs/promises";
import { homedir } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { dirname, join } from "node:path";
import { lock } from "proper-lockfile";
import { EnvHttpProxyAgent, fetch, type Response } from "undici";
import { commitFile } from "../util/atomic-file.js";
import { isRepositoryPath } from "./hf-name.js";
import { ChecksumMismatchError } from "./wheel.js";

export const defaultEndpoint = "https://huggingface.co";

export interface HubSettings {
  endpoint: string;
  token: string | undefined;
  offline: boolean;
  /** how long a metadata request may take */
  metadataTimeoutSeconds: number;
  /** how long a download may receive nothing before it is cut and resumed */
  downloadTimeoutSeconds: number;
}

// huggingface_hub's constants._is_true
function isTrue(value: string | undefined): boolean {
  return value !== undefined && ["1", "ON", "YES", "TRUE"].includes(value.toUpperCase());
}

/** The token huggingface_hub would send: HF_TOKEN, else the file `hf auth login` writes. */
function hubToken(): string | undefined {
  const explicit = process.env.HF_TOKEN?.trim();
  if (explicit) return explicit;
  const home = process.env.HF_HOME || join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "huggingface");
  const tokenPath = process.env.HF_TOKEN_PATH || join(home, "token");
  if (!existsSync(tokenPath)) return undefined;
  return readFileSync(tokenPath, "utf8").trim() || undefined;
}

function seconds(variable: string, fallback: number): number {
  const value = Number(process.env[variable] || fallback);
  if (!(value > 0))
    throw new HubError(`${variable} must be a positive number of seconds, not ${process.env[variable]}`);
  return value;
}

let proxyAgent: { environment: string; agent: EnvHttpProxyAgent } | undefined;

/** An agent that goes through HTTPS_PROXY / HTTP_PROXY except for NO_PROXY hosts, as huggingface_hub (requests) does. */
function proxyAwareAgent(): EnvHttpProxyAgent {
  const environment = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"]
    .map((name) => process.env[name] ?? "")
    .join("\n");
  if (proxyAgent?.environment !== environment) proxyAgent = { environment, agent: new EnvHttpProxyAgent() };
  return proxyAgent.agent;
}

/** Read on every call, so that tests and long-lived processes see changes to the environment. */
export function hubSettings(): HubSettings {
  return {
    endpoint: (process.env.HF_ENDPOINT || defaultEndpoint).replace(/\/+$/, ""),
    token: hubToken(),
    offline: isTrue(process.env.HF_HUB_OFFLINE),
    // huggingface_hub's HF_HUB_ETAG_TIMEOUT and HF_HUB_DOWNLOAD_TIMEOUT, 10 s each by default.
    metadataTimeoutSeconds: seconds("HF_HUB_ETAG_TIMEOUT", 10),
    downloadTimeoutSeconds: seconds("HF_HUB_DOWNLOAD_TIMEOUT", 10),
  };
}

export class HubError extends Error {
  override name = "HubError";
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** A refusal the Hub explains with its X-Error-Code header, in words that say what to do. */
function responseError(response: Response, what: string, repository: string, settings: HubSettings): HubError {
  const code = response.headers.get("x-error-code");
  const status = response.status;
  const tokenHint = settings.token
    ? "the token sent (HF_TOKEN) has no access to it"
    : "set HF_TOKEN to a token of an account that has access";
  let message: string;
  if (code === "GatedRepo") {
    message = `${repository} is a gated repository: accept its conditions on its Hub page, then ${settings.token ? "check that the token sent (HF_TOKEN) belongs to that account" : "set HF_TOKEN to a token of that account"}`;
  } else if (code === "RevisionNotFound") {
    message = `${what}: no such revision in ${repository}`;
  } else if (code === "EntryNotFound") {
    message = `${what}: no such file in ${repository}`;
  } else if (code === "RepoNotFound" || status === 401) {
    message = `${repository}: repository not found, or private (${tokenHint})`;
  } else if (status === 403) {
    message = `${what}: access refused (${tokenHint})`;
  } else {
    message = `${what}: HTTP ${status} ${response.statusText}`.trim();
  }
  return new HubError(`${message} [${settings.endpoint}, HTTP ${status}${code ? ` ${code}` : ""}]`, status);
}

function requireOnline(settings: HubSettings, what: string): void {
  if (settings.offline) throw new HubError(`${what}: HF_HUB_OFFLINE is set, so the Hub is not asked`);
}

/**
 * One request with redirects followed only within the endpoint's origin, as huggingface_hub
 * does (a renamed repository): the redirect of an LFS file to its storage is returned, so that
 * its X-Linked-* headers can be read, and the token is never sent to another host.
 */
async function hubRequest(
  url: string,
  init: { method: "GET" | "HEAD"; headers?: Record<string, string>; signal?: AbortSignal },
  settings: HubSettings,
): Promise<Response> {
  const signal = init.signal ?? AbortSignal.timeout(settings.metadataTimeoutSeconds * 1000);
  let target = new URL(url);
  for (let hop = 0; hop < 10; hop++) {
    const headers: Record<string, string> = { "accept-encoding": "identity", ...init.headers };
    if (settings.token && target.origin === new URL(settings.endpoint).origin) {
      headers.authorization = `Bearer ${settings.token}`;
    }
    let response: Response;
    try {
      response = await fetch(target, {
        method: init.method,
        headers,
        redirect: "manual",
        signal,
        dispatcher: proxyAwareAgent(),
      });
    } catch (error) {
      // A download that fails (cut for silence, or its host unreachable for a moment) is resumed by the caller.
      if (init.signal) throw error;
      if (signal.aborted) {
        throw new HubError(
          `${target.origin} did not answer within ${settings.metadataTimeoutSeconds} s (HF_HUB_ETAG_TIMEOUT)`,
        );
      }
      throw new HubError(
        `cannot reach ${target.origin} (${(error as Error & { cause?: Error }).cause?.message ?? (error as Error).message}): ` +
          "check the network, set HF_ENDPOINT to a mirror, or set HF_HUB_OFFLINE=1 to use the cache only",
      );
    }
    const location = response.headers.get("location");
    if (response.status < 300 || response.status >= 400 || location === null) return response;
    const next = new URL(location, target);
    // A redirect that describes an LFS file is where its hash is, wherever it points (a mirror may keep its storage on its own host).
    if (next.origin !== new URL(url).origin || response.headers.has("x-linked-etag")) return response;
    await response.body?.cancel();
    target = next;
  }
  throw new HubError(`${url}: too many redirects`);
}

function apiRevisionUrl(settings: HubSettings, repository: string, revision: string): string {
  return `${settings.endpoint}/api/models/${repository}/revision/${encodeURIComponent(revision)}`;
}

export function resolveUrl(settings: HubSettings, repository: string, revision: string, path: string): string {
  const quotedPath = path.split("/").map(encodeURIComponent).join("/");
  return `${settings.endpoint}/${repository}/resolve/${encodeURIComponent(revision)}/${quotedPath}`;
}

export interface RepositorySnapshot {
  /** the commit the revision resolved to */
  commit: string;
  /** every file's path at that commit */
  files: string[];
}

/** The commit a revision points at and the files there (the Hub's model-info route). */
export async function fetchRepositorySnapshot(
  settings: HubSettings,
  repository: string,
  revision: string,
): Promise<RepositorySnapshot> {
  const what = `${repository}@${revision}`;
  requireOnline(settings, what);
  const response = await hubRequest(apiRevisionUrl(settings, repository, revision), { method: "GET" }, settings);
  if (!response.ok) throw responseError(response, what, repository, settings);
  const body = (await response.json().catch(() => undefined)) as
    | { sha?: unknown; siblings?: { rfilename?: unknown }[] }
    | undefined;
  const commit = body?.sha;
  if (typeof commit !== "string" || !/^[0-9a-f]{40}$/.test(commit) || !Array.isArray(body?.siblings)) {
    throw new HubError(`${what}: the Hub's answer has no commit and file list (is ${settings.endpoint} a Hub?)`);
  }
  const files = body.siblings.map((sibling) => sibling.rfilename);
  // The names become paths in the cache: one that could leave it is refused, not cleaned.
  const unsafe = files.find((name) => typeof name !== "string" || !isRepositoryPath(name));
  if (unsafe !== undefined) {
    throw new HubError(
      `${what}: the server lists a file named ${JSON.stringify(unsafe)}, which is not a path inside a repository`,
    );
  }
  return { commit, files: files as string[] };
}

/** What the resolve route's headers say about one file (huggingface_hub's get_hf_file_metadata). */
export interface HubFileMetadata {
  path: string;
  /** sha256 (LFS) or git blob sha1, lower-case hex */
  etag: string;
  size: number;
  /** where the bytes are: the resolve URL itself or the storage it redirects to */
  location: string;
}

function normaliseEtag(etag: string | null): string | undefined {
  return etag?.replace(/^W\//, "").replace(/"/g, "").toLowerCase();
}

export async function fetchFileMetadata(
  settings: HubSettings,
  repository: string,
  commit: string,
  path: string,
): Promise<HubFileMetadata> {
  const url = resolveUrl(settings, repository, commit, path);
  const what = `${repository}/${path}@${commit.slice(0, 12)}`;
  requireOnline(settings, what);
  const response = await hubRequest(url, { method: "HEAD" }, settings);
  const redirected = response.status >= 300 && response.status < 400;
  if (!response.ok && !redirected) throw responseError(response, what, repository, settings);
  const repoCommit = response.headers.get("x-repo-commit");
  if (repoCommit !== null && repoCommit !== commit) {
    throw new HubError(`${what}: the Hub answered for commit ${repoCommit}, not the one asked for`);
  }
  const etag = normaliseEtag(response.headers.get("x-linked-etag") ?? response.headers.get("etag"));
  if (etag === undefined || !/^([0-9a-f]{64}|[0-9a-f]{40})$/.test(etag)) {
    throw new HubError(
      `${what}: the server gave no sha256 or git hash for the file (ETag ${etag ?? "missing"}), so its download could not be verified`,
    );
  }
  const size = Number(response.headers.get("x-linked-size") ?? response.headers.get("content-length"));
  if (!Number.isSafeInteger(size) || size < 0) throw new HubError(`${what}: the server gave no file size`);
  const location = redirected ? new URL(response.headers.get("location") as string, url).href : url;
  return { path, etag, size, location };
}

/** The file's hash in the form its ETag has: sha256, or git's blob sha1 ("blob <size>\0" + content). */
async function hashLike(path: string, etag: string, size: number): Promise<string> {
  const hash = createHash(etag.length === 64 ? "sha256" : "sha1");
  if (etag.length === 40) hash.update(`blob ${size}\0`);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

const attempts = 4;

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/**
 * Downloads a file to `finalPath`, building it at `partialPath` (kept if the download is cut, so
 * that the next attempt, in this process or a later one, asks only for the rest), and gives it its
 * name only once its size and hash are those the Hub announced. A file that fails the hash is
 * deleted, never resumed. Two processes downloading one file take turns (a lock on the partial).
 */
export async function downloadVerified(
  settings: HubSettings,
  file: HubFileMetadata,
  partialPath: string,
  finalPath: string,
  onProgress: (message: string) => void,
): Promise<void> {
  await mkdir(dirname(partialPath), { recursive: true });
  const release = await lock(partialPath, {
    realpath: false,
    retries: { retries: 600, minTimeout: 100, maxTimeout: 1000 },
    // Lost to a stalled clock or a busy machine, the lock may let a second writer in: the hash check still refuses what they make.
    onCompromised: (error) => onProgress(`${file.path}: the lock on its partial file was lost (${error.message})`),
  });
  try {
    if (existsSync(finalPath)) return;
    let lastError: Error | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        await fetchRest(settings, file, partialPath, onProgress);
        lastError = undefined;
        break;
      } catch (error) {
        if (error instanceof HubError) throw error;
        lastError = error as Error;
        const have = (await stat(partialPath).catch(() => undefined))?.size ?? 0;
        if (attempt < attempts) {
          onProgress(`${file.path}: download cut at ${megabytes(have)} (${lastError.message}); resuming`);
          await sleep(250 * attempt);
        }
      }
    }
    const have = (await stat(partialPath).catch(() => undefined))?.size ?? 0;
    if (lastError) {
      throw new HubError(
        `${file.path}: download cut at ${have} of ${file.size} bytes after ${attempts} attempts (${lastError.message}); ` +
          "run the same command again to resume from there",
      );
    }
    if (have !== file.size) {
      await rm(partialPath, { force: true });
      throw new HubError(`${file.path}: received ${have} bytes, but the Hub announced ${file.size}; deleted`);
    }
    const actual = await hashLike(partialPath, file.etag, file.size);
    if (actual !== file.etag) {
      await rm(partialPath, { force: true });
      const mismatch = new ChecksumMismatchError(`${file.path} (from ${file.location})`, file.etag, actual);
      if (file.etag.length === 40) mismatch.message = mismatch.message.replace("sha256", "git blob sha1");
      throw mismatch;
    }
    await mkdir(dirname(finalPath), { recursive: true });
    await commitFile(partialPath, finalPath);
  } finally {
    await release().catch(() => undefined);
  }
}

/** Appends what `partialPath` lacks; a server that ignores the Range header sends the whole file again. */
async function fetchRest(
  settings: HubSettings,
  file: HubFileMetadata,
  partialPath: string,
  onProgress: (message: string) => void,
): Promise<void> {
  let have = (await stat(partialPath).catch(() => undefined))?.size ?? 0;
  if (have > file.size) {
    await truncate(partialPath, 0);
    have = 0;
  }
  if (have === file.size) return;
  // Cut, and so resumed, when nothing arrives for the download timeout: a stalled connection must not hang the pull.
  const stalled = new AbortController();
  const idleLimit = settings.downloadTimeoutSeconds * 1000;
  const idle = setTimeout(
    () => stalled.abort(new Error(`nothing received for ${settings.downloadTimeoutSeconds} s`)),
    idleLimit,
  );
  const stillAlive = (): void => {
    idle.refresh();
  };
  try {
    await receive(settings, file, partialPath, have, stalled.signal, stillAlive, onProgress);
  } catch (error) {
    throw stalled.signal.aborted ? (stalled.signal.reason as Error) : error;
  } finally {
    clearTimeout(idle);
  }
}

async function receive(
  settings: HubSettings,
  file: HubFileMetadata,
  partialPath: string,
  have: number,
  signal: AbortSignal,
  stillAlive: () => void,
  onProgress: (message: string) => void,
): Promise<void> {
  const response = await hubRequest(
    file.location,
    { method: "GET", headers: have > 0 ? { range: `bytes=${have}-` } : {}, signal },
    settings,
  );
  let start = 0;
  if (response.status === 206) {
    start = Number(/^bytes (\d+)-/.exec(response.headers.get("content-range") ?? "")?.[1]);
    if (start !== have) {
      await response.body?.cancel();
      throw new HubError(`${file.path}: asked for bytes from ${have}, the server sent from ${start}`);
    }
  } else if (response.status !== 200) {
    await response.body?.cancel();
    throw new HubError(`${file.path}: HTTP ${response.status} from ${new URL(file.location).origin}`);
  }
  if (start === 0 && have > 0) onProgress(`${file.path}: the server does not resume downloads; starting over`);
  else if (have > 0) onProgress(`${file.path}: resuming at ${megabytes(have)} of ${megabytes(file.size)}`);
  const handle = await open(partialPath, start === 0 ? "w" : "a");
  let written = start;
  let reported = Date.now();
  try {
    for await (const chunk of response.body ?? []) {
      stillAlive();
      await handle.write(chunk as Uint8Array);
      written += (chunk as Uint8Array).length;
      if (Date.now() - reported > 2000) {
        reported = Date.now();
        onProgress(
          `${file.path}: ${megabytes(written)} of ${megabytes(file.size)} (${Math.floor((100 * written) / file.size)}%)`,
        );
      }
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (written < file.size) throw new Error(`the connection ended at ${written} of ${file.size} bytes`);
}
