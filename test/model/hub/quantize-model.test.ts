// llama.cpp's quantizer through the addon, on the real all-MiniLM-L6-v2 f32 file: what it
// writes, what it refuses, and that a failure leaves nothing behind.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel } from "../../../lib/embedding/embedding-model.js";
import { GgmlType, LlamaFileType } from "../../../lib/gguf/format.js";
import { readGgufHeader } from "../../../lib/gguf/reader.js";
import { quantizeModel } from "../../../lib/hub/quantize-model.js";
import { cosineSimilarity } from "../../../lib/vectors/similarity.js";
import { startCli } from "../cli/cli-process.js";
import { upstreamLlamaEmbedding } from "../llama-tools.js";
import { minilmPath, sentenceFixture } from "../models.js";

let scratch: string;
let f32Path: string;
/** llama.cpp's llama-embedding built without ctxembed's patches: what other tools on llama.cpp load */
let upstreamEmbedding: string;
beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "ctxembed-quantize-"));
  f32Path = await minilmPath("f32");
  upstreamEmbedding = await upstreamLlamaEmbedding();
}, 1_800_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("quantizeModel on all-MiniLM-L6-v2", () => {
  it("writes q4_k_m weights that llama.cpp loads, smaller than the f32 file and close to it", async () => {
    const out = join(scratch, "minilm-q4_k_m.gguf");
    const report = await quantizeModel(f32Path, out, { type: "q4_k_m", threads: 2 });
    expect(report.outputBytes).toBeLessThan(report.inputBytes / 4);
    const header = await readGgufHeader(out);
    expect(header.metadata.get("general.file_type")).toBe(LlamaFileType.MOSTLY_Q4_K_M);
    // llama.cpp keeps the position and token-type tables as they are; every block's weight matrix is quantized.
    const blockMatrices = header.tensors.filter(
      (tensor) => tensor.name.startsWith("blk.") && tensor.shape.length === 2,
    );
    expect(blockMatrices.length).toBe(6 * 6);
    expect(blockMatrices.filter((tensor) => tensor.type === GgmlType.F32 || tensor.type === GgmlType.F16)).toEqual([]);

    const sentences = sentenceFixture().sentences.slice(0, 32);
    const [reference, quantized] = [await loadModel(f32Path), await loadModel(out)];
    try {
      const [a, b] = [await reference.embed(sentences), await quantized.embed(sentences)];
      const worst = Math.min(...a.map((result, i) => cosineSimilarity(result.embedding, b[i]!.embedding)));
      console.log(`q4_k_m against f32, worst cosine over ${sentences.length} sentences: ${worst.toFixed(5)}`);
      // 4-bit weights on a 384-wide model: well below the 0.999 of q8_0, yet the same vectors.
      expect(worst).toBeGreaterThan(0.95);
      expect(worst).toBeLessThan(0.9999);
    } finally {
      await Promise.all([reference.dispose(), quantized.dispose()]);
    }
  });

  it("smooths a BERT's activations for a quantized type unless told not to, and never for bf16", async () => {
    const factorTensors = async (path: string) =>
      (await readGgufHeader(path)).tensors.filter((tensor) => tensor.name.endsWith(".input_smooth")).length;
    const smoothed = await quantizeModel(f32Path, join(scratch, "smoothed-q8_0.gguf"), { type: "q8_0" });
    expect(smoothed.smoothed).toBe(true);
    expect(await factorTensors(smoothed.outputPath)).toBe(2 * 6);

    const plain = await quantizeModel(f32Path, join(scratch, "plain-q8_0.gguf"), {
      type: "q8_0",
      smoothActivations: false,
    });
    expect(plain).toMatchObject({ smoothed: false });
    expect(plain.notSmoothedBecause).toBeUndefined();
    expect(await factorTensors(plain.outputPath)).toBe(0);

    const bf16 = await quantizeModel(f32Path, join(scratch, "unsmoothed-bf16.gguf"), { type: "bf16" });
    expect(bf16.smoothed).toBe(false);
    expect(bf16.notSmoothedBecause).toBeUndefined();
    await expect(
      quantizeModel(f32Path, join(scratch, "never.gguf"), { type: "bf16", smoothActivations: true }),
    ).rejects.toThrow(/cannot be smoothed: bf16 weights meet unquantized activations/);
  });

  it("says why a file's activations were not smoothed: they are smoothed already", async () => {
    const q8 = join(scratch, "source-q8_0.gguf");
    await quantizeModel(f32Path, q8, { type: "q8_0" });
    const report = await quantizeModel(q8, join(scratch, "requantized.gguf"), { type: "q4_0", allowRequantize: true });
    expect(report.smoothed).toBe(false);
    expect(report.notSmoothedBecause).toMatch(/it is smoothed already/);
  });

  it("refuses to quantize quantized weights again unless asked", async () => {
    const q8 = join(scratch, "minilm-q8_0.gguf");
    await quantizeModel(f32Path, q8, { type: "q8_0" });
    await expect(quantizeModel(q8, join(scratch, "twice.gguf"), { type: "q4_0" })).rejects.toThrow(
      /is quantized already \(\d+ tensors, e\.g\. .+\); quantize from an f32, f16 or bf16 file/,
    );
    await quantizeModel(q8, join(scratch, "twice.gguf"), { type: "q4_0", allowRequantize: true });
    expect((await readGgufHeader(join(scratch, "twice.gguf"))).metadata.get("general.file_type")).toBe(
      LlamaFileType.MOSTLY_Q4_0,
    );
  });

  it("rejects a truncated file before llama.cpp reads it, and writes nothing", async () => {
    const directory = mkdtempSync(join(scratch, "truncated-"));
    const truncated = join(directory, "truncated.gguf");
    copyFileSync(f32Path, truncated);
    truncateSync(truncated, (await readGgufHeader(f32Path)).dataOffset + 4096);
    await expect(quantizeModel(truncated, join(directory, "out.gguf"), { type: "q8_0" })).rejects.toThrow(
      /truncated: tensor "[^"]+" needs bytes/,
    );
    expect(readdirSync(directory)).toEqual(["truncated.gguf"]);
  });

  it("passes on llama.cpp's own refusal (an architecture it does not know) and leaves no partial file", async () => {
    const directory = mkdtempSync(join(scratch, "unknown-architecture-"));
    const renamed = join(directory, "renamed.gguf");
    const bytes = readFileSync(f32Path);
    // general.architecture's value, "bert", becomes "bxrt": a well-formed file llama.cpp has no graph for.
    const key = bytes.indexOf("general.architecture");
    const value = bytes.indexOf("bert", key);
    bytes.write("bxrt", value, "latin1");
    writeFileSync(renamed, bytes);
    await expect(quantizeModel(renamed, join(directory, "out.gguf"), { type: "q8_0" })).rejects.toThrow(
      /llama\.cpp could not quantize .*renamed\.gguf: .*bxrt/,
    );
    expect(readdirSync(directory)).toEqual(["renamed.gguf"]);
  });
});

describe("ctxembed quantize", () => {
  it("quantizes a catalogue model to bf16 and says what it wrote", async () => {
    const out = join(scratch, "cli-bf16.gguf");
    const cli = startCli(["quantize", "all-minilm-l6-v2", out, "--type", "bf16", "--threads", "2"]);
    expect(await cli.exited).toEqual({ status: 0, signal: null });
    expect(cli.stderr()).toMatch(/wrote .*cli-bf16\.gguf: bf16, \d+\.\d MB \(from \d+\.\d MB\)\n/);
    expect((await readGgufHeader(out)).metadata.get("general.file_type")).toBe(LlamaFileType.MOSTLY_BF16);
  });

  it("smooths q8_0 activations by default, marks the file and says it needs ctxembed (unpatched llama.cpp refuses it); --no-smooth writes plain weights that it loads", async () => {
    for (const [flags, said, marked] of [
      [
        [],
        /q8_0, \d+\.\d MB \(from \d+\.\d MB\), activations smoothed\n.*only ctxembed loads it: .*llama\.cpp.* refuse .*--no-smooth/s,
        true,
      ],
      [["--no-smooth"], /q8_0, \d+\.\d MB \(from \d+\.\d MB\)\n$/, false],
    ] as const) {
      const out = join(scratch, `cli-q8_0${flags.join("")}.gguf`);
      const cli = startCli(["quantize", "all-minilm-l6-v2", out, "--type", "q8_0", ...flags]);
      expect(await cli.exited).toEqual({ status: 0, signal: null });
      expect(cli.stderr()).toMatch(said);
      // the key survives llama.cpp's quantizer, which copies the smoothed f32 file's metadata
      const provenance = (await readGgufHeader(out)).metadata.get("ctxembed.activation_smoothing");
      const info = startCli(["info", "--model", out]);
      expect(await info.exited).toEqual({ status: 0, signal: null });
      const shown = (JSON.parse(info.stdout()) as { activationSmoothing?: string }).activationSmoothing;
      const upstream = spawnSync(upstreamEmbedding, ["-m", out, "-p", "a short test", "-t", "1"], {
        encoding: "utf8",
      });
      if (marked) {
        expect(upstream.status, "upstream llama.cpp must refuse a smoothed file").not.toBe(0);
        expect(upstream.stderr).toMatch(/wrong number of tensors/);
        expect(provenance).toMatch(
          /^SmoothQuant \(alpha 0\.5\).* measured on all-minilm-l6-v2-f32\.gguf \(sha256 [0-9a-f]{64}\) over \d+ calibration sentences \(sha256 [0-9a-f]{64}, /,
        );
        expect(shown).toBe(provenance);
      } else {
        expect(upstream.status, `upstream llama.cpp loads a --no-smooth file: ${upstream.stderr.slice(-400)}`).toBe(0);
        expect(provenance).toBeUndefined();
        expect(shown).toBeUndefined();
      }
    }
  });

  it("requires --type and names the choices", async () => {
    const cli = startCli(["quantize", "all-minilm-l6-v2", join(scratch, "none.gguf")]);
    expect((await cli.exited).status).toBe(2);
    expect(cli.stderr()).toMatch(/--type <type>/);
  });

  it("refuses an output that is a folder, in a missing folder, or the input, before any work, naming it", async () => {
    const cases: [string, RegExp][] = [
      [scratch, /output .* is a folder: name a file inside it/],
      [join(scratch, "no-such-folder", "out.gguf"), /its folder .*no-such-folder does not exist/],
      [f32Path, /output .* is the input \(.*\): it would be overwritten/],
    ];
    for (const [out, said] of cases) {
      const started = Date.now();
      const cli = startCli(["quantize", f32Path, out, "--type", "q8_0", "--threads", "1"]);
      expect((await cli.exited).status, cli.stderr()).toBe(1);
      expect(cli.stderr()).toMatch(said);
      expect(cli.stderr()).not.toMatch(/EISDIR|ENOENT/);
      // Smoothing and quantizing take several seconds at one thread: a refusal before the work takes far less.
      console.log(`refused ${out} after ${Date.now() - started} ms`);
    }
    expect(readdirSync(scratch).filter((name) => name.startsWith("."))).toEqual([]);
  });

  it("Ctrl-C while quantizing leaves no file, hidden or not, and says so (exit 130)", async () => {
    const folder = mkdtempSync(join(scratch, "interrupted-"));
    const out = join(folder, "minilm-q8_0.gguf");
    const cli = startCli(["quantize", f32Path, out, "--type", "q8_0", "--threads", "1"]);
    // Once the smoothed f32 copy or the quantizer's output is being written.
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (readdirSync(folder).length > 0 || cli.child.exitCode !== null) {
          clearInterval(poll);
          resolve();
        }
      }, 10);
    });
    cli.child.kill("SIGINT");
    const { status } = await cli.exited;
    expect(status, cli.stderr()).toBe(130);
    expect(cli.stderr()).toMatch(/interrupted: .*minilm-q8_0\.gguf was not written/);
    expect(readdirSync(folder)).toEqual([]);
  });
});
