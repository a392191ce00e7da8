// The quantizer's checks that run before llama.cpp is reached, and its type names against the
// pinned llama.h (the enum the addon passes through unchanged).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GgufFormatError } from "../../../lib/gguf/reader.js";
import { llamaFileTypeOf, QUANTIZE_TYPES, quantizeModel, type QuantizeType } from "../../../lib/hub/quantize-model.js";

const llamaHeader = join(import.meta.dirname, "..", "..", "..", "native", "llama.cpp", "include", "llama.h");

describe("quantization types", () => {
  it("each name is llama.h's LLAMA_FTYPE value of that name", () => {
    expect(existsSync(llamaHeader), `${llamaHeader} (fetched by npm install)`).toBe(true);
    const declared = new Map(
      [...readFileSync(llamaHeader, "utf8").matchAll(/^\s*LLAMA_FTYPE_(?:ALL|MOSTLY)_(\w+)\s*=\s*(\d+)/gm)].map(
        ([, name, value]) => [name!.toLowerCase(), Number(value)],
      ),
    );
    for (const type of QUANTIZE_TYPES) expect(llamaFileTypeOf(type), type).toBe(declared.get(type));
  });
});

describe("quantizeModel's argument checks", () => {
  let scratch: string;
  beforeEach(() => {
    scratch = mkdtempSync(join(tmpdir(), "ctxembed-quantize-"));
  });
  afterEach(() => rmSync(scratch, { recursive: true, force: true }));

  it("names the known types for an unknown one", async () => {
    await expect(
      quantizeModel(join(scratch, "in.gguf"), join(scratch, "out.gguf"), { type: "q3" as QuantizeType }),
    ).rejects.toThrow(/unknown quantization type 'q3': expected one of f32, f16, bf16, q8_0/);
  });

  it("refuses to write over its input", async () => {
    const input = join(scratch, "in.gguf");
    await expect(quantizeModel(input, `${scratch}/./in.gguf`, { type: "q8_0" })).rejects.toThrow(
      /is the input .*it would be overwritten/,
    );
  });

  it("refuses a file that is not GGUF before llama.cpp sees it, and writes nothing", async () => {
    const input = join(scratch, "in.gguf");
    writeFileSync(input, "not a gguf file at all, but long enough to hold a header");
    await expect(quantizeModel(input, join(scratch, "out.gguf"), { type: "q8_0" })).rejects.toBeInstanceOf(
      GgufFormatError,
    );
    expect(existsSync(join(scratch, "out.gguf"))).toBe(false);
  });

  it("refuses a thread count that is not a positive integer", async () => {
    await expect(
      quantizeModel(join(scratch, "in.gguf"), join(scratch, "out.gguf"), { type: "q8_0", threads: 0 }),
    ).rejects.toThrow("threads must be a positive integer, got 0");
  });
});
