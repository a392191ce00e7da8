// `hf:` names against a local server in the Hub's layout (local-hub.ts says which documented
// behaviour it reproduces and where). The files are arbitrary bytes: fetching does not read them;
// test/model/hub/hf-pull.test.ts converts and loads real ones.
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { HubError } from "../../../lib/hub/hf-client.js";
import { parseHubName } from "../../../lib/hub/hf-name.js";
import { HubModelNotCachedError, hubRepositoryDirectory, pullHubModel } from "../../../lib/hub/hf-pull.js";
import { modelReferenceForWorkers, resolveModel } from "../../../lib/hub/pull.js";
import { ChecksumMismatchError } from "../../../lib/hub/wheel.js";
import { LocalHub } from "./local-hub.js";

const ggufA = randomBytes(300_000);
const ggufB = randomBytes(200_000);
const ggufOld = randomBytes(100_000);
const bertConfig = {
  architectures: ["BertModel"],
  vocab_size: 10,
  hidden_size: 8,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  intermediate_size: 16,
};
const readme = "---\nlicense: mit\n---\n# a GGUF repository\n";

const proxyVariables = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"];

let hub: LocalHub;
let scratch: string;
let commits: Record<string, string>;

const pull = (name: string, options: Parameters<typeof pullHubModel>[1] = {}) =>
  pullHubModel(parseHubName(name), options);

function partials(repository: string): string[] {
  const blobs = join(hubRepositoryDirectory(repository), "blobs");
  return existsSync(blobs) ? readdirSync(blobs).filter((name) => name.endsWith(".incomplete")) : [];
}

beforeAll(async () => {
  hub = await LocalHub.start();
  commits = hub.addRepository("owner/embed-GGUF", {
    revisions: {
      main: {
        "README.md": readme,
        "embed-Q4_K_M.gguf": ggufA,
        "embed-Q8_0.gguf": ggufB,
        "sub/embed-f16.gguf": ggufOld,
      },
      v1: { "README.md": readme, "embed-Q8_0.gguf": ggufOld },
      "refs/pr/1": { "embed-Q8_0.gguf": ggufA },
    },
  });
  hub.addRepository("owner/single-gguf", { revisions: { main: { "model.Q8_0.gguf": ggufB, "config.json": "{}" } } });
  hub.addRepository("owner/gated-gguf", { gated: true, revisions: { main: { "model-f16.gguf": ggufA } } });
  hub.addRepository("owner/torch-only", {
    revisions: { main: { "config.json": '{"model_type":"bert"}', "pytorch_model.bin": ggufA, "README.md": readme } },
  });
  hub.addRepository("owner/hostile", { revisions: { main: { "../../../escape.gguf": ggufA } } });
  hub.addRepository("owner/xlm-roberta-st", {
    revisions: {
      main: { "config.json": JSON.stringify({ architectures: ["XLMRobertaModel"] }), "model.safetensors": ggufA },
    },
  });
  hub.addRepository("owner/dense-st", {
    revisions: {
      main: {
        "config.json": JSON.stringify(bertConfig),
        "modules.json": JSON.stringify([
          { idx: 0, name: "0", path: "", type: "sentence_transformers.models.Transformer" },
          { idx: 1, name: "1", path: "1_Pooling", type: "sentence_transformers.models.Pooling" },
          { idx: 2, name: "2", path: "2_Dense", type: "sentence_transformers.models.Dense" },
        ]),
        "1_Pooling/config.json": JSON.stringify({ pooling_mode_mean_tokens: true }),
        "model.safetensors": ggufA,
      },
    },
  });
});

afterAll(async () => {
  await hub.stop();
});

beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), "ctxembed-hf-"));
  vi.stubEnv("CTXEMBED_CACHE", join(scratch, "cache"));
  vi.stubEnv("HF_ENDPOINT", hub.endpoint);
  // An empty HF_HOME, so that a token saved on this machine by `hf auth login` is not sent.
  vi.stubEnv("HF_HOME", join(scratch, "hf-home"));
  vi.stubEnv("HF_TOKEN", "");
  vi.stubEnv("HF_HUB_OFFLINE", "");
  // The local servers are reached directly, whatever proxy this machine is set up with.
  for (const name of proxyVariables) vi.stubEnv(name, "");
  hub.faults = {};
  hub.requests.length = 0;
});

afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(scratch, { recursive: true, force: true });
});

describe("hf: names", () => {
  it("parses repository, quantization, path and revision", () => {
    expect(parseHubName("hf:owner/repo")).toEqual({
      repository: "owner/repo",
      revision: "main",
      text: "hf:owner/repo",
    });
    expect(parseHubName("hf:owner/repo:Q8_0@v1.0")).toMatchObject({
      repository: "owner/repo",
      quant: "Q8_0",
      revision: "v1.0",
    });
    expect(parseHubName("hf:owner/repo@v1.0+build-2").revision).toBe("v1.0+build-2");
    expect(parseHubName("hf:owner/repo/sub/m.f16.gguf@refs/pr/1")).toMatchObject({
      path: "sub/m.f16.gguf",
      revision: "refs/pr/1",
    });
  });

  it.each([
    ["hf:repo-only", "is not a repository id"],
    ["hf:owner/re..po", "is not a repository id"],
    ["hf:owner/repo:Q8 0", "is not a quantization name"],
    ["hf:owner/repo/model.bin", "is not a .gguf file"],
    ["hf:owner/repo/../x.gguf", "is not a file path"],
    ["hf:owner/repo@", "is not a revision"],
    ["hf:owner/repo@a/../b", "is not a revision"],
    ["hf:owner/repo@a b", "is not a git branch, tag or commit"],
  ])("refuses %s", (name, why) => {
    expect(() => parseHubName(name)).toThrow(why);
  });
});

describe("pulling a GGUF repository", () => {
  it("fetches the file a quantization names, verified, under the resolved commit", async () => {
    const path = await pull("hf:owner/embed-GGUF:q8_0");
    expect(path).toBe(
      join(hubRepositoryDirectory("owner/embed-GGUF"), "snapshots", commits.main as string, "embed-Q8_0.gguf"),
    );
    expect(readFileSync(path).equals(ggufB)).toBe(true);
    expect(partials("owner/embed-GGUF")).toEqual([]);
    // The LFS file came from the storage host, which never saw the token.
    expect(hub.requestsTo("storage").map((request) => request.method)).toEqual(["GET"]);
  });

  it("fetches a file by its path", async () => {
    const path = await pull("hf:owner/embed-GGUF/sub/embed-f16.gguf");
    expect(path.endsWith(join(commits.main as string, "sub", "embed-f16.gguf"))).toBe(true);
    expect(readFileSync(path).equals(ggufOld)).toBe(true);
  });

  it("fetches at a revision, by tag or by commit, and records where the tag pointed", async () => {
    const byTag = await pull("hf:owner/embed-GGUF:Q8_0@v1");
    expect(byTag).toContain(commits.v1 as string);
    expect(readFileSync(byTag).equals(ggufOld)).toBe(true);
    const refFile = join(hubRepositoryDirectory("owner/embed-GGUF"), "refs", "v1");
    expect(readFileSync(refFile, "utf8")).toBe(commits.v1);
    expect(await pull(`hf:owner/embed-GGUF:Q8_0@${commits.v1}`)).toBe(byTag);
  });

  it("fetches at a revision with slashes (a pull request's ref), URL-encoded as huggingface_hub does", async () => {
    const path = await pull("hf:owner/embed-GGUF:Q8_0@refs/pr/1");
    expect(readFileSync(path).equals(ggufA)).toBe(true);
    expect(hub.requestsTo("hub", "/api/").map((request) => request.path)).toEqual([
      "/api/models/owner/embed-GGUF/revision/refs%2Fpr%2F1",
    ]);
    expect(readFileSync(join(hubRepositoryDirectory("owner/embed-GGUF"), "refs", "refs", "pr", "1"), "utf8")).toBe(
      commits["refs/pr/1"],
    );
  });

  it("takes the only GGUF of a repository without a quantization", async () => {
    const path = await pull("hf:owner/single-gguf");
    expect(readFileSync(path).equals(ggufB)).toBe(true);
  });

  it("refuses to guess between several GGUF files, and names them", async () => {
    await expect(pull("hf:owner/embed-GGUF")).rejects.toThrow(
      /has several GGUF files: Q4_K_M \(embed-Q4_K_M\.gguf\), Q8_0 \(embed-Q8_0\.gguf\), f16 \(sub\/embed-f16\.gguf\); name one as hf:owner\/embed-GGUF:QUANT/,
    );
    await expect(pull("hf:owner/embed-GGUF:Q5_K_M")).rejects.toThrow(/has no GGUF file for Q5_K_M; it has Q4_K_M/);
    await expect(pull("hf:owner/embed-GGUF/missing.gguf")).rejects.toThrow(/has no file missing\.gguf/);
  });

  it("names a missing repository and a missing revision", async () => {
    await expect(pull("hf:owner/nothing-here")).rejects.toThrow(
      /owner\/nothing-here: repository not found, or private \(set HF_TOKEN/,
    );
    await expect(pull("hf:owner/embed-GGUF:Q8_0@v9")).rejects.toThrow(/no such revision in owner\/embed-GGUF/);
  });

  it("refuses a file list with a name that would leave the cache", async () => {
    await expect(pull("hf:owner/hostile")).rejects.toThrow(
      /the server lists a file named "\.\.\/\.\.\/\.\.\/escape\.gguf", which is not a path inside a repository/,
    );
    expect(hub.requestsTo("hub", "/resolve/")).toEqual([]);
  });

  it("refuses a repository with no usable file, without downloading anything", async () => {
    await expect(pull("hf:owner/torch-only")).rejects.toThrow(
      /has no usable model: no GGUF file and no single-file safetensors checkpoint \(config\.json \+ model\.safetensors\); it has pytorch_model\.bin/,
    );
    expect(hub.requestsTo("hub", "/resolve/")).toEqual([]);
  });

  it("refuses a checkpoint it cannot convert before fetching its weights", async () => {
    await expect(pull("hf:owner/dense-st")).rejects.toThrow(/module .*Dense.* is not supported/);
    await expect(pull("hf:owner/xlm-roberta-st")).rejects.toThrow(
      /unsupported architecture XLMRobertaModel; only BERT checkpoints .* can be converted/,
    );
    await expect(pull("hf:owner/dense-st:q4_0")).rejects.toThrow(
      /is a safetensors checkpoint, converted to f32 or f16 \(not q4_0\); quantize the converted file with `ctxembed quantize`/,
    );
    expect(hub.requestsTo("hub", "model.safetensors")).toEqual([]);
    expect(hub.requestsTo("storage")).toEqual([]);
  });
});

describe("downloads that cannot lie", () => {
  it("resumes a cut download with a Range request in the same pull", async () => {
    hub.faults = { cutAfterBytes: 70_000, cuts: 1 };
    const progress: string[] = [];
    const path = await pull("hf:owner/embed-GGUF:Q4_K_M", { onProgress: (line) => progress.push(line) });
    expect(readFileSync(path).equals(ggufA)).toBe(true);
    expect(hub.requestsTo("storage").map((request) => request.range)).toEqual([undefined, "bytes=70000-"]);
    expect(progress.join("\n")).toMatch(/embed-Q4_K_M\.gguf: download cut at 0\.1 MB .*; resuming/);
  });

  it("cuts a download that stalls and resumes it", async () => {
    hub.faults = { cutAfterBytes: 50_000, cuts: 1, stall: true };
    vi.stubEnv("HF_HUB_DOWNLOAD_TIMEOUT", "0.5");
    const progress: string[] = [];
    const path = await pull("hf:owner/embed-GGUF:Q4_K_M", { onProgress: (line) => progress.push(line) });
    expect(readFileSync(path).equals(ggufA)).toBe(true);
    expect(hub.requestsTo("storage").map((request) => request.range)).toEqual([undefined, "bytes=50000-"]);
    expect(progress.join("\n")).toMatch(/download cut at 0\.1 MB \(nothing received for 0\.5 s\); resuming/);
  });

  it("keeps a cut download under a partial name and resumes it in the next pull", async () => {
    hub.faults = { cutAfterBytes: 20_000, cuts: 4 };
    await expect(pull("hf:owner/embed-GGUF:Q4_K_M")).rejects.toThrow(
      /embed-Q4_K_M\.gguf: download cut at 80000 of 300000 bytes after 4 attempts .*run the same command again to resume/,
    );
    const repository = "owner/embed-GGUF";
    const [partial] = partials(repository);
    const sha256 = createHash("sha256").update(ggufA).digest("hex");
    expect(partial).toBe(`${sha256}.incomplete`);
    expect(statSync(join(hubRepositoryDirectory(repository), "blobs", partial as string)).size).toBe(80_000);
    expect(
      existsSync(join(hubRepositoryDirectory(repository), "snapshots", commits.main as string, "embed-Q4_K_M.gguf")),
    ).toBe(false);

    hub.requests.length = 0;
    const path = await pull("hf:owner/embed-GGUF:Q4_K_M");
    expect(hub.requestsTo("storage").map((request) => request.range)).toEqual(["bytes=80000-"]);
    expect(readFileSync(path).equals(ggufA)).toBe(true);
    expect(partials(repository)).toEqual([]);
  });

  it("removes a cut download of a file once the same file is pulled whole at another ETag, and keeps other files' partials", async () => {
    const repository = "owner/embed-GGUF";
    // v1's embed-Q8_0.gguf, and main's embed-Q4_K_M.gguf: both cut, both kept for resuming.
    const progress: string[] = [];
    for (const name of ["hf:owner/embed-GGUF:Q8_0@v1", "hf:owner/embed-GGUF:Q4_K_M"]) {
      hub.faults = { cutAfterBytes: 20_000, cuts: 4 };
      await expect(pull(name, { onProgress: (line) => progress.push(line) }), progress.join("\n")).rejects.toThrow(
        /download cut/,
      );
    }
    const etagOf = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
    expect(partials(repository).sort()).toEqual(
      [`${etagOf(ggufOld)}.incomplete`, `${etagOf(ggufA)}.incomplete`].sort(),
    );
    hub.faults = {};
    // main's embed-Q8_0.gguf is the same file at another ETag: v1's partial will never be finished as it.
    expect(readFileSync(await pull("hf:owner/embed-GGUF:Q8_0")).equals(ggufB)).toBe(true);
    expect(partials(repository)).toEqual([`${etagOf(ggufA)}.incomplete`]);
    // The file whose partial was removed still pulls, from its first byte.
    hub.requests.length = 0;
    expect(readFileSync(await pull("hf:owner/embed-GGUF:Q8_0@v1")).equals(ggufOld)).toBe(true);
    expect(hub.requestsTo("storage").map((request) => request.range)).toEqual([undefined]);
    // What is left: the one partial still to resume, and its record of the path it is a download of.
    const blobs = join(hubRepositoryDirectory(repository), "blobs");
    expect(readdirSync(blobs).sort()).toEqual([`${etagOf(ggufA)}.incomplete`, `${etagOf(ggufA)}.incomplete.path`]);
    expect(readFileSync(join(blobs, `${etagOf(ggufA)}.incomplete.path`), "utf8")).toBe("embed-Q4_K_M.gguf");
  });

  it("refuses a small file whose git hash does not match, before converting anything", async () => {
    hub.faults = { corruptOffset: 3 };
    await expect(pull("hf:owner/dense-st")).rejects.toThrow(/git blob sha1 mismatch for config\.json/);
    expect(existsSync(join(hubRepositoryDirectory("owner/dense-st"), "snapshots"))).toBe(false);
  });

  it("fetches a file once when two pulls want it at the same time", async () => {
    const [first, second] = await Promise.all([pull("hf:owner/embed-GGUF:Q4_K_M"), pull("hf:owner/embed-GGUF:Q4_K_M")]);
    expect(second).toBe(first);
    expect(readFileSync(first).equals(ggufA)).toBe(true);
    expect(hub.requestsTo("storage")).toHaveLength(1);
  });

  it("fetches again with force", async () => {
    const path = await pull("hf:owner/embed-GGUF:Q8_0");
    hub.requests.length = 0;
    expect(await pull("hf:owner/embed-GGUF:Q8_0", { force: true })).toBe(path);
    expect(hub.requestsTo("storage")).toHaveLength(1);
    expect(readFileSync(path).equals(ggufB)).toBe(true);
  });

  it("refuses a file with one corrupted byte and keeps nothing of it", async () => {
    hub.faults = { corruptOffset: 123_456 };
    const failure = pull("hf:owner/embed-GGUF:Q4_K_M");
    await expect(failure).rejects.toBeInstanceOf(ChecksumMismatchError);
    await expect(failure).rejects.toThrow(/sha256 mismatch for embed-Q4_K_M\.gguf/);
    expect(partials("owner/embed-GGUF")).toEqual([]);
    expect(
      existsSync(
        join(hubRepositoryDirectory("owner/embed-GGUF"), "snapshots", commits.main as string, "embed-Q4_K_M.gguf"),
      ),
    ).toBe(false);
    // A later pull downloads it whole again.
    hub.faults = {};
    expect(readFileSync(await pull("hf:owner/embed-GGUF:Q4_K_M")).equals(ggufA)).toBe(true);
  });
});

describe("access, mirrors and offline use", () => {
  it("asks for HF_TOKEN for a gated repository, and sends it only to the Hub", async () => {
    await expect(pull("hf:owner/gated-gguf")).rejects.toThrow(
      /owner\/gated-gguf is a gated repository: accept its conditions on its Hub page, then set HF_TOKEN .*HTTP 401 GatedRepo/,
    );
    vi.stubEnv("HF_TOKEN", "hf_without_access");
    await expect(pull("hf:owner/gated-gguf")).rejects.toThrow(
      /check that the token sent \(HF_TOKEN\) belongs to that account.*HTTP 403 GatedRepo/,
    );
    expect(partials("owner/gated-gguf")).toEqual([]);

    hub.tokens.add("hf_granted");
    vi.stubEnv("HF_TOKEN", "hf_granted");
    hub.requests.length = 0;
    const path = await pull("hf:owner/gated-gguf");
    expect(readFileSync(path).equals(ggufA)).toBe(true);
    // The file list and the file's metadata from the Hub, with the token; the LFS file from the storage, without.
    expect(hub.requestsTo("hub").map((request) => [request.method, request.authorization])).toEqual([
      ["GET", "Bearer hf_granted"],
      ["HEAD", "Bearer hf_granted"],
    ]);
    expect(hub.requestsTo("storage").map((request) => request.authorization)).toEqual([undefined]);
  });

  it("with HF_HUB_OFFLINE=1 uses the cache and asks no server", async () => {
    const pulled = await pull("hf:owner/embed-GGUF:Q8_0");
    vi.stubEnv("HF_HUB_OFFLINE", "1");
    hub.requests.length = 0;
    expect(await pull("hf:owner/embed-GGUF:Q8_0")).toBe(pulled);
    expect(await resolveModel("hf:owner/embed-GGUF:Q8_0")).toBe(pulled);
    const missing = pull("hf:owner/embed-GGUF:Q4_K_M");
    await expect(missing).rejects.toBeInstanceOf(HubModelNotCachedError);
    await expect(missing).rejects.toThrow(/HF_HUB_OFFLINE is set and the cache .* has no embed-Q4_K_M\.gguf/);
    await expect(pull("hf:owner/single-gguf")).rejects.toThrow(
      /HF_HUB_OFFLINE is set and the cache .* has no owner\/single-gguf@main/,
    );
    expect(hub.requests).toEqual([]);
  });

  it("loads a cached name without asking the Hub, while models pull asks where the branch points", async () => {
    const pulled = await pull("hf:owner/embed-GGUF:Q8_0");
    hub.requests.length = 0;
    expect(await resolveModel("hf:owner/embed-GGUF:Q8_0")).toBe(pulled);
    expect(hub.requests).toEqual([]);
    expect(await pull("hf:owner/embed-GGUF:Q8_0")).toBe(pulled);
    expect(hub.requestsTo("hub").map((request) => request.path)).toEqual([
      "/api/models/owner/embed-GGUF/revision/main",
    ]);
  });

  it("goes through HTTP_PROXY, as huggingface_hub does, and not for NO_PROXY hosts", async () => {
    const tunnels: string[] = [];
    // A forward proxy that tunnels with CONNECT, as corporate proxies do for HTTPS.
    const proxy = createServer();
    proxy.on("connect", (request, client, head) => {
      tunnels.push(request.url ?? "");
      const [host, port] = (request.url ?? "").split(":");
      const upstream = connect(Number(port), host, () => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on("error", () => client.destroy());
      client.on("error", () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    try {
      const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      vi.stubEnv("HTTP_PROXY", proxyUrl);
      vi.stubEnv("http_proxy", proxyUrl);
      expect(readFileSync(await pull("hf:owner/embed-GGUF:Q8_0")).equals(ggufB)).toBe(true);
      const hubHost = new URL(hub.endpoint).host;
      expect(tunnels).toContain(hubHost);
      // The LFS file came through the proxy too, from the storage host.
      expect(new Set(tunnels).size).toBe(2);

      tunnels.length = 0;
      vi.stubEnv("NO_PROXY", "127.0.0.1");
      vi.stubEnv("no_proxy", "127.0.0.1");
      await pull("hf:owner/embed-GGUF:Q4_K_M");
      expect(tunnels).toEqual([]);
    } finally {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it("says where the Hub could not be reached", async () => {
    vi.stubEnv("HF_ENDPOINT", "http://127.0.0.1:9");
    const failure = pull("hf:owner/embed-GGUF:Q8_0");
    await expect(failure).rejects.toBeInstanceOf(HubError);
    await expect(failure).rejects.toThrow(
      /cannot reach http:\/\/127\.0\.0\.1:9 .*set HF_ENDPOINT to a mirror, or set HF_HUB_OFFLINE=1/,
    );
  });

  it("names a model for a job's workers by the commit its revision resolves to", async () => {
    expect(await modelReferenceForWorkers("hf:owner/embed-GGUF:Q8_0")).toBe(`hf:owner/embed-GGUF:Q8_0@${commits.main}`);
    expect(await modelReferenceForWorkers("hf:owner/embed-GGUF/embed-Q8_0.gguf@v1")).toBe(
      `hf:owner/embed-GGUF/embed-Q8_0.gguf@${commits.v1}`,
    );
    // Refused at submission, not by every worker.
    await expect(modelReferenceForWorkers("hf:owner/embed-GGUF")).rejects.toThrow(/has several GGUF files/);
    expect(await modelReferenceForWorkers("all-minilm-l6-v2:q8_0")).toBe("all-minilm-l6-v2:q8_0");
    expect(await modelReferenceForWorkers("models/x.gguf")).toBe(join(process.cwd(), "models", "x.gguf"));
  });

  it("takes --variant as the quantization and refuses a contradiction", async () => {
    const path = await resolveModel("hf:owner/embed-GGUF", { variant: "Q8_0" });
    expect(readFileSync(path).equals(ggufB)).toBe(true);
    await expect(resolveModel("hf:owner/embed-GGUF:Q4_K_M", { variant: "Q8_0" })).rejects.toThrow(
      "'hf:owner/embed-GGUF:Q4_K_M' names Q4_K_M, but variant Q8_0 was asked for as well",
    );
  });
});
