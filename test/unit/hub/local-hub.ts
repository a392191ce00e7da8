// A stand-in for the Hugging Face Hub, which is not reachable from the build machines: repository
// folders served with the Hub's routes and headers, as its documentation and its Python client
// describe them, so that the same client code runs against it and against huggingface.co.
//
// What it reproduces, and where that behaviour is documented:
// - `GET /api/models/{repo_id}/revision/{revision}`: the model-info route, JSON with `sha` (the
//   commit the revision resolves to) and `siblings[].rfilename` (every file). huggingface_hub
//   src/huggingface_hub/hf_api.py (`model_info`: the revision is URL-quoted with safe=""), and the
//   Hub API reference, https://huggingface.co/docs/hub/api ("GET /api/models/{repo_id}/revision/{revision}").
// - `HEAD|GET /{repo_id}/resolve/{revision}/{path}`: huggingface_hub src/huggingface_hub/file_download.py
//   (`hf_hub_url`, HUGGINGFACE_CO_URL_TEMPLATE in constants.py; `get_hf_file_metadata` sends a HEAD
//   with `Accept-Encoding: identity`, follows only relative redirects, and reads X-Repo-Commit,
//   X-Linked-Etag or ETag, X-Linked-Size or Content-Length, and Location). Files stored in git are
//   answered directly with their git blob sha1 as ETag; LFS files are answered with a 302 to the
//   storage (another host: cdn-lfs / cas-bridge on the real Hub) that carries X-Linked-Etag = the
//   file's sha256 and X-Linked-Size. The `hf_hub_url` docstring: "An object's ETag is: its
//   git-sha1 if stored in git, or its sha256 if stored in git-lfs."
// - Range requests (`http_get` resumes a `.incomplete` file with `Range: bytes={resume_size}-`),
//   answered with 206 and Content-Range as RFC 9110 §14 says.
// - Errors carry X-Error-Code as `hf_raise_for_status` (src/huggingface_hub/utils/_http.py) reads
//   them: 401 GatedRepo for a gated repository without a token (403 with a token that has no
//   access), 401 RepoNotFound for a missing or private repository, 404 RevisionNotFound, 404
//   EntryNotFound. https://huggingface.co/docs/hub/models-gated: gated files need an access token;
//   users' reports show the refusal on both routes, "Cannot access gated repo for url
//   https://huggingface.co/google/gemma-2-2b/resolve/main/config.json … 401"
//   (https://huggingface.co/google/gemma-2-2b/discussions/14) and "… for url
//   https://huggingface.co/api/models/meta-llama/Meta-Llama-3-8B-Instruct/revision/main"
//   (https://huggingface.co/meta-llama/Meta-Llama-3-8B-Instruct/discussions/51).
// - `Authorization: Bearer {token}` (huggingface_hub `build_hf_headers`).
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type RepositoryFiles = Record<string, Uint8Array | string>;

export interface RepositoryDefinition {
  /** branch or tag → files at its commit; `main` is the default branch */
  revisions: Record<string, RepositoryFiles>;
  /** files need a token that is in `tokens` */
  gated?: boolean;
}

interface StoredFile {
  bytes: Buffer;
  lfs: boolean;
  sha256: string;
  gitSha1: string;
}

interface Commit {
  id: string;
  files: Map<string, StoredFile>;
}

interface Repository {
  gated: boolean;
  refs: Map<string, string>;
  commits: Map<string, Commit>;
}

/** Faults injected into the next downloads, of LFS files from the storage and of the others from the Hub. */
export interface StorageFaults {
  /** cut the connection after sending this many bytes of a response body… */
  cutAfterBytes?: number;
  /** …for this many responses */
  cuts?: number;
  /** instead of cutting the connection, leave it open and send nothing more (a stalled network) */
  stall?: boolean;
  /** flip one byte at this offset of the file in every response */
  corruptOffset?: number;
}

export interface LoggedRequest {
  host: "hub" | "storage";
  method: string;
  path: string;
  range?: string;
  authorization?: string;
}

const lfsPattern = /\.(gguf|safetensors|bin|h5)$/;

function gitBlobSha1(bytes: Buffer): string {
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

function store(path: string, content: Uint8Array | string): StoredFile {
  const bytes = Buffer.from(content);
  return {
    bytes,
    lfs: lfsPattern.test(path),
    sha256: createHash("sha256").update(bytes).digest("hex"),
    gitSha1: gitBlobSha1(bytes),
  };
}

function commitOf(files: Map<string, StoredFile>): Commit {
  const id = createHash("sha1")
    .update(JSON.stringify([...files].map(([path, file]) => [path, file.gitSha1]).sort()))
    .digest("hex");
  return { id, files };
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export class LocalHub {
  readonly requests: LoggedRequest[] = [];
  faults: StorageFaults = {};
  /** tokens that may read gated repositories */
  readonly tokens = new Set<string>();
  private readonly repositories = new Map<string, Repository>();
  private readonly blobs = new Map<string, StoredFile>();
  private readonly hub = createServer((request, response) => this.answerHub(request, response));
  private readonly storage = createServer((request, response) => this.answerStorage(request, response));
  endpoint = "";
  private storageOrigin = "";

  static async start(): Promise<LocalHub> {
    const hub = new LocalHub();
    hub.endpoint = await listen(hub.hub);
    hub.storageOrigin = await listen(hub.storage);
    return hub;
  }

  stop(): Promise<void> {
    return Promise.all([close(this.hub), close(this.storage)]).then(() => undefined);
  }

  /** Adds a repository; resolves to each revision's commit id. */
  addRepository(id: string, definition: RepositoryDefinition): Record<string, string> {
    const repository: Repository = { gated: definition.gated ?? false, refs: new Map(), commits: new Map() };
    const ids: Record<string, string> = {};
    for (const [revision, files] of Object.entries(definition.revisions)) {
      const stored = new Map(Object.entries(files).map(([path, content]) => [path, store(path, content)] as const));
      for (const file of stored.values()) if (file.lfs) this.blobs.set(file.sha256, file);
      const commit = commitOf(stored);
      repository.commits.set(commit.id, commit);
      repository.refs.set(revision, commit.id);
      ids[revision] = commit.id;
    }
    this.repositories.set(id, repository);
    return ids;
  }

  /** The hub's requests whose path contains `fragment` (for checking what a client asked). */
  requestsTo(host: "hub" | "storage", fragment = ""): LoggedRequest[] {
    return this.requests.filter((request) => request.host === host && request.path.includes(fragment));
  }

  private log(host: "hub" | "storage", request: IncomingMessage): void {
    const entry: LoggedRequest = { host, method: request.method ?? "", path: request.url ?? "" };
    if (request.headers.range) entry.range = request.headers.range;
    if (request.headers.authorization) entry.authorization = request.headers.authorization;
    this.requests.push(entry);
  }

  private refuse(response: ServerResponse, status: number, code: string): void {
    response.writeHead(status, { "x-error-code": code, "content-type": "application/json" });
    response.end(JSON.stringify({ error: code }));
  }

  private answerHub(request: IncomingMessage, response: ServerResponse): void {
    this.log("hub", request);
    const url = new URL(request.url ?? "/", this.endpoint);
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(url.pathname);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const match = api ?? resolve;
    if (!match) {
      this.refuse(response, 404, "NotFound");
      return;
    }
    const repository = this.repositories.get(decodeURIComponent(match[1] as string));
    if (!repository) {
      this.refuse(response, 401, "RepoNotFound");
      return;
    }
    const revision = decodeURIComponent(match[2] as string);
    const commit = repository.commits.get(repository.refs.get(revision) ?? revision);
    if (!commit) {
      this.refuse(response, 404, "RevisionNotFound");
      return;
    }
    if (repository.gated) {
      const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1];
      if (token === undefined) {
        this.refuse(response, 401, "GatedRepo");
        return;
      }
      if (!this.tokens.has(token)) {
        this.refuse(response, 403, "GatedRepo");
        return;
      }
    }
    if (api) {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(
        JSON.stringify({
          id: match[1],
          sha: commit.id,
          gated: repository.gated ? "auto" : false,
          siblings: [...commit.files.keys()].map((rfilename) => ({ rfilename })),
        }),
      );
      return;
    }
    const path = (match[3] as string).split("/").map(decodeURIComponent).join("/");
    const file = commit.files.get(path);
    if (!file) {
      this.refuse(response, 404, "EntryNotFound");
      return;
    }
    const common = { "x-repo-commit": commit.id, "accept-ranges": "bytes" };
    if (file.lfs) {
      response.writeHead(302, {
        ...common,
        location: `${this.storageOrigin}/lfs/${file.sha256}?signature=local`,
        "x-linked-etag": `"${file.sha256}"`,
        "x-linked-size": String(file.bytes.length),
        etag: `"${gitBlobSha1(Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${file.sha256}\n`))}"`,
        "content-length": "0",
      });
      response.end();
      return;
    }
    this.sendBytes(request, response, file.bytes, { ...common, etag: `"${file.gitSha1}"` });
  }

  private answerStorage(request: IncomingMessage, response: ServerResponse): void {
    this.log("storage", request);
    const sha256 = /^\/lfs\/([0-9a-f]{64})/.exec(request.url ?? "")?.[1];
    const file = sha256 === undefined ? undefined : this.blobs.get(sha256);
    if (!file) {
      response.writeHead(404);
      response.end();
      return;
    }
    this.sendBytes(request, response, file.bytes, { etag: `"${file.sha256}"` });
  }

  /** The whole file or the range asked for, with the faults applied. */
  private sendBytes(
    request: IncomingMessage,
    response: ServerResponse,
    original: Buffer,
    headers: Record<string, string>,
  ): void {
    let bytes = original;
    if (this.faults.corruptOffset !== undefined && this.faults.corruptOffset < original.length) {
      bytes = Buffer.from(original);
      bytes[this.faults.corruptOffset] = (bytes[this.faults.corruptOffset] as number) ^ 0xff;
    }
    let start = 0;
    let status = 200;
    const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? "");
    const extra: Record<string, string> = {};
    if (range) {
      start = Number(range[1]);
      if (start >= bytes.length) {
        response.writeHead(416, { "content-range": `bytes */${bytes.length}` });
        response.end();
        return;
      }
      status = 206;
      extra["content-range"] = `bytes ${start}-${bytes.length - 1}/${bytes.length}`;
    }
    const body = bytes.subarray(start);
    response.writeHead(status, { ...headers, ...extra, "content-length": String(body.length) });
    if (request.method === "HEAD") {
      response.end();
      return;
    }
    const cuts = this.faults.cuts ?? 0;
    if (cuts > 0 && this.faults.cutAfterBytes !== undefined && this.faults.cutAfterBytes < body.length) {
      this.faults.cuts = cuts - 1;
      const stall = this.faults.stall === true;
      response.write(body.subarray(0, this.faults.cutAfterBytes), () => {
        // A dropped connection mid-body, as a network failure or a killed proxy leaves it; or one that stays silent.
        if (!stall) setTimeout(() => response.socket?.destroy(), 20);
      });
      return;
    }
    response.end(body);
  }
}
