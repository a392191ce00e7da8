import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { NpyWriter, type NpyDtype, type NpyRow } from "../../../lib/output/npy.js";
import {
  dequantizeInt8,
  float16ToFloat32Array,
  hammingSimilarity,
  precisions,
  quantize,
  quantizedToJson,
  truncateDimensions,
} from "../../../lib/output/quantize-vectors.js";
import { numpyPython } from "../../python-numpy.js";
import { whereProvided } from "../../skips.js";
import { cosineSimilarity } from "../../../lib/vectors/similarity.js";

/** Deterministic values of both signs, no two alike. */
function wavyVector(width: number, seed: number): Float32Array {
  return Float32Array.from({ length: width }, (_, i) => Math.sin(seed * 7.31 + i * 12.9898));
}

describe("truncateDimensions", () => {
  const vector = Float32Array.of(3, 4, 12);

  it("keeps the first dimensions, scaled back to unit length when asked", () => {
    expect(Array.from(truncateDimensions(vector, 2, false))).toEqual([3, 4]);
    expect(Array.from(truncateDimensions(vector, 2, true))).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    expect(Array.from(truncateDimensions(vector, 3, false))).toEqual([3, 4, 12]);
  });

  it("returns a copy, leaving the input alone", () => {
    truncateDimensions(vector, 3, true)[0] = 99;
    expect(Array.from(vector)).toEqual([3, 4, 12]);
  });

  it.each([0, 4, 1.5, -1])("refuses %s dimensions of 3", (dimensions) => {
    expect(() => truncateDimensions(vector, dimensions, true)).toThrow(RangeError);
    expect(() => truncateDimensions(vector, dimensions, true)).toThrow(/3-dimensional vector .* \(1 to 3\)/);
  });
});

describe("quantize", () => {
  it("float32 is the vector itself", () => {
    const vector = Float32Array.of(0.25, -1);
    expect(quantize(vector, "float32")).toEqual({ precision: "float32", values: vector });
  });

  it.each([
    [1, 0x3c00],
    [-2, 0xc000],
    [0.1, 0x2e66],
    [-0, 0x8000],
    [65504, 0x7bff], // largest float16
    [65519, 0x7bff], // just under the midpoint to infinity
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -26, 0x0000], // underflows to zero
    [1 + 2 ** -11, 0x3c00], // halfway between 1 and the next half: ties go to the even mantissa, down
    [1 + 3 * 2 ** -11, 0x3c02], // the next tie goes up, again to the even mantissa
  ])("float16 of %s is bits %i (round to nearest, ties to even)", (value, bits) => {
    expect(Array.from(quantize(Float32Array.of(value), "float16").bits)).toEqual([bits]);
  });

  it("float16 refuses values that would overflow to infinity", () => {
    expect(() => quantize(Float32Array.of(1, -65520), "float16")).toThrow(
      /-65520 \(at index 1\) is beyond float16's range/,
    );
  });

  it("int8 maps the largest magnitude to ±127 and rounds halves away from zero", () => {
    expect(quantize(Float32Array.of(127, -2.5, 2.5, 0.4, -127), "int8")).toEqual({
      precision: "int8",
      values: Int8Array.of(127, -3, 3, 0, -127),
      scale: 1,
    });
  });

  it("int8 gives a zero vector scale 0 and zero values", () => {
    expect(quantize(new Float32Array(4), "int8")).toEqual({ precision: "int8", values: new Int8Array(4), scale: 0 });
  });

  it("int8 records a float32 scale that undoes the quantization to within half a step", () => {
    const vector = wavyVector(384, 1);
    const quantized = quantize(vector, "int8");
    expect(Math.fround(quantized.scale)).toBe(quantized.scale);
    expect(Math.max(...Array.from(quantized.values, Math.abs))).toBe(127);
    const restored = dequantizeInt8(quantized);
    restored.forEach((value, i) =>
      expect(Math.abs(value - vector[i]!)).toBeLessThanOrEqual(quantized.scale / 2 + 1e-7),
    );
    const negated = quantize(
      vector.map((value) => -value),
      "int8",
    );
    expect(negated.values).toEqual(Int8Array.from(quantized.values, (value) => -value));
  });

  it("binary packs x > 0 as 1, most significant bit first, zero-padding the last byte", () => {
    // signs + - 0 + + - + - | +  ->  0b10011010 0b1_0000000
    const packed = quantize(Float32Array.of(0.5, -1, 0, 2, 3, -0.1, 0.2, -5, 1), "binary");
    expect(packed).toEqual({ precision: "binary", bits: Uint8Array.of(0x9a, 0x80), width: 9 });
  });

  // numpy.packbits documents bitorder='big' as its default, which "will mimic bin(val),
  // [0, 0, 0, 0, 0, 0, 1, 1] => 3", and in its example packs [1, 0, 1] to 160 (0b10100000);
  // sentence-transformers' precision="ubinary" is np.packbits(embeddings > 0).
  it.each([
    [[-1, -1, -1, -1, -1, -1, 1, 1], [3]],
    [[1, -1, 1], [160]],
    [
      [0, -0, 1e-30, -1e-30, 1, 1, 1, 1, 1],
      [0b00101111, 0b10000000],
    ],
  ])("binary of %j is numpy.packbits(x > 0) = %j", (vector, bytes) => {
    expect(Array.from(quantize(Float32Array.from(vector), "binary").bits)).toEqual(bytes);
  });

  describe.each(precisions)("%s refuses values no precision but float32 could keep", (precision) => {
    it.each([NaN, Infinity, -Infinity])("%s", (value) => {
      expect(() => quantize(Float32Array.of(0.5, value), precision)).toThrow(RangeError);
      expect(() => quantize(Float32Array.of(0.5, value), precision)).toThrow(
        `cannot quantize a vector holding ${value} (at index 1)`,
      );
    });
  });
});

describe("similarities and inverses", () => {
  const signs = (vector: Float32Array): Float32Array => vector.map((value) => (value > 0 ? 1 : -1));

  it.each([13, 16, 384])("hamming similarity of %i dimensions is the cosine of the ±1 vectors", (width) => {
    for (let seed = 1; seed <= 20; seed++) {
      const a = wavyVector(width, seed);
      const b = wavyVector(width, seed + 100);
      const expected = cosineSimilarity(signs(a), signs(b));
      expect(hammingSimilarity(quantize(a, "binary").bits, quantize(b, "binary").bits, width)).toBeCloseTo(
        expected,
        12,
      );
    }
    const bits = quantize(wavyVector(width, 1), "binary").bits;
    expect(hammingSimilarity(bits, bits, width)).toBe(1);
    expect(
      hammingSimilarity(
        bits,
        bits.map((byte) => ~byte & 0xff),
        8 * bits.length,
      ),
    ).toBe(-1);
  });

  it("hamming similarity refuses bytes that do not fit the width", () => {
    expect(() => hammingSimilarity(new Uint8Array(2), new Uint8Array(2), 17)).toThrow(
      /17 dimensions pack into 3 bytes; got 2 and 2/,
    );
    expect(() => hammingSimilarity(new Uint8Array(2), new Uint8Array(1), 9)).toThrow(RangeError);
  });

  it("int8 cosine is the cosine of the dequantized vectors, and 0 against a zero vector", () => {
    const a = quantize(wavyVector(50, 1), "int8");
    const b = quantize(
      wavyVector(50, 2).map((value) => value * 40),
      "int8",
    );
    expect(cosineSimilarity(a.values, b.values)).toBeCloseTo(cosineSimilarity(dequantizeInt8(a), dequantizeInt8(b)), 6);
    expect(cosineSimilarity(a.values, new Int8Array(50))).toBe(0);
    expect(() => cosineSimilarity(a.values, new Int8Array(3))).toThrow(/50 and 3 dimensions/);
  });

  it("float16 bits widen back to the rounded values exactly", () => {
    const vector = Float32Array.of(1, -2, 0.1, 2 ** -24, 65504);
    expect(Array.from(float16ToFloat32Array(quantize(vector, "float16").bits))).toEqual([
      1,
      -2,
      0.0999755859375,
      2 ** -24,
      65504,
    ]);
  });
});

describe("quantizedToJson", () => {
  it("writes float32 in nine significant digits", () => {
    expect(quantizedToJson(quantize(Float32Array.of(0.5, -2), "float32"))).toBe("[0.5,-2]");
  });

  it("writes float16 as its rounded values", () => {
    expect(quantizedToJson(quantize(Float32Array.of(0.1, -1, 65504), "float16"))).toBe("[0.099976,-1,65504]");
  });

  it("writes every finite float16 in digits that read back to the same half", () => {
    // All finite bit patterns but negative zero, which JSON cannot write.
    const bits = Uint16Array.from({ length: 0x10000 }, (_, pattern) => pattern).filter(
      (pattern) => (pattern & 0x7c00) !== 0x7c00 && pattern !== 0x8000,
    );
    const parsed = Float32Array.from(JSON.parse(quantizedToJson({ precision: "float16", bits })) as number[]);
    expect(quantize(parsed, "float16").bits).toEqual(bits);
  });

  it("writes int8 as its values and scale", () => {
    expect(quantizedToJson(quantize(Float32Array.of(127, -2.5, 0), "int8"))).toBe('{"values":[127,-3,0],"scale":1}');
    expect(JSON.parse(quantizedToJson(quantize(Float32Array.of(0.3, -0.1), "int8")))).toEqual({
      values: [127, -42],
      scale: Number(Math.fround(Math.fround(0.3) / 127).toPrecision(9)),
    });
  });

  it("writes binary as base64 of the packed bytes", () => {
    expect(quantizedToJson(quantize(Float32Array.of(0.5, -1, 0, 2, 3, -0.1, 0.2, -5, 1), "binary"))).toBe('"moA="');
  });
});

// ---- .npy files ---------------------------------------------------------------------------------

interface ParsedNpy {
  headerBytes: number;
  dtype: string;
  fortranOrder: boolean;
  shape: number[];
  data: ArrayBuffer;
}

/** Reads a .npy v1.0 file by the format's description, independently of NpyWriter. */
function readNpy(path: string): ParsedNpy {
  const bytes = readFileSync(path);
  expect(bytes.toString("latin1", 0, 6)).toBe("\x93NUMPY");
  expect([bytes[6], bytes[7]]).toEqual([1, 0]);
  const headerTextBytes = bytes.readUInt16LE(8);
  const header = bytes.toString("latin1", 10, 10 + headerTextBytes);
  const fields = /^\{'descr': '([^']+)', 'fortran_order': (True|False), 'shape': \((\d+), (\d+)\), \} *\n$/.exec(
    header,
  );
  if (!fields) throw new Error(`unexpected .npy header ${JSON.stringify(header)}`);
  const dataStart = 10 + headerTextBytes;
  return {
    headerBytes: dataStart,
    dtype: fields[1]!,
    fortranOrder: fields[2] === "True",
    shape: [Number(fields[3]), Number(fields[4])],
    data: bytes.buffer.slice(bytes.byteOffset + dataStart, bytes.byteOffset + bytes.length),
  };
}

describe("NpyWriter", () => {
  const directory = mkdtempSync(join(tmpdir(), "ctxembed-npy-"));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));
  const rows = [wavyVector(13, 1), wavyVector(13, 2), Float32Array.of(1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1)];

  async function writeNpy(name: string, dtype: NpyDtype, width: number, values: NpyRow[]): Promise<string> {
    const path = join(directory, name);
    const writer = await NpyWriter.open(path, { dtype, width });
    for (const row of values) await writer.append(row);
    expect(await writer.close()).toEqual({ rows: values.length });
    return path;
  }

  /** Each row at each precision, as the files a caller would store. */
  async function writePrecisionFiles(): Promise<{
    float32: string;
    float16: string;
    int8: string;
    scales: string;
    binary: string;
  }> {
    const int8 = rows.map((row) => quantize(row, "int8"));
    return {
      float32: await writeNpy("float32.npy", "<f4", 13, rows),
      float16: await writeNpy(
        "float16.npy",
        "<f2",
        13,
        rows.map((row) => quantize(row, "float16").bits),
      ),
      int8: await writeNpy(
        "int8.npy",
        "|i1",
        13,
        int8.map((quantized) => quantized.values),
      ),
      scales: await writeNpy(
        "int8-scales.npy",
        "<f4",
        1,
        int8.map((quantized) => Float32Array.of(quantized.scale)),
      ),
      binary: await writeNpy(
        "binary.npy",
        "|u1",
        2,
        rows.map((row) => quantize(row, "binary").bits),
      ),
    };
  }

  it("writes each dtype with a 64-byte-aligned header, C order and the final shape", async () => {
    const files = await writePrecisionFiles();
    const expected = [
      {
        path: files.float32,
        dtype: "<f4",
        shape: [3, 13],
        values: rows.flatMap((row) => Array.from(row)),
        read: (data: ArrayBuffer) => new Float32Array(data),
      },
      {
        path: files.float16,
        dtype: "<f2",
        shape: [3, 13],
        values: rows.flatMap((row) => Array.from(quantize(row, "float16").bits)),
        read: (data: ArrayBuffer) => new Uint16Array(data),
      },
      {
        path: files.int8,
        dtype: "|i1",
        shape: [3, 13],
        values: rows.flatMap((row) => Array.from(quantize(row, "int8").values)),
        read: (data: ArrayBuffer) => new Int8Array(data),
      },
      {
        path: files.scales,
        dtype: "<f4",
        shape: [3, 1],
        values: rows.map((row) => quantize(row, "int8").scale),
        read: (data: ArrayBuffer) => new Float32Array(data),
      },
      {
        path: files.binary,
        dtype: "|u1",
        shape: [3, 2],
        values: rows.flatMap((row) => Array.from(quantize(row, "binary").bits)),
        read: (data: ArrayBuffer) => new Uint8Array(data),
      },
    ];
    for (const { path, dtype, shape, values, read } of expected) {
      const parsed = readNpy(path);
      expect(parsed.headerBytes % 64).toBe(0);
      expect({ dtype: parsed.dtype, fortranOrder: parsed.fortranOrder, shape: parsed.shape }).toEqual({
        dtype,
        fortranOrder: false,
        shape,
      });
      expect(Array.from(read(parsed.data))).toEqual(values);
    }
  });

  it("copies each row, so a caller may reuse one buffer", async () => {
    const row = new Float32Array(4);
    const path = join(directory, "reused.npy");
    const writer = await NpyWriter.open(path, { dtype: "<f4", width: 4 });
    for (let i = 0; i < 3; i++) {
      row.fill(i);
      await writer.append(row);
    }
    await writer.close();
    expect(Array.from(new Float32Array(readNpy(path).data))).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
  });

  it("streams more rows than the stream buffers, keeping the header's length", async () => {
    const count = 5000;
    const row = new Float32Array(384);
    const path = join(directory, "many.npy");
    const writer = await NpyWriter.open(path, { dtype: "<f4", width: 384 });
    for (let i = 0; i < count; i++) {
      row[0] = i;
      await writer.append(row);
    }
    expect(await writer.close()).toEqual({ rows: count });
    const parsed = readNpy(path);
    expect(parsed.shape).toEqual([count, 384]);
    const values = new Float32Array(parsed.data);
    expect(values.length).toBe(count * 384);
    expect(values[(count - 1) * 384]).toBe(count - 1);
    // The same header as a file of one row: rewriting the count never moved the data.
    expect(parsed.headerBytes).toBe(readNpy(await writeNpy("one.npy", "<f4", 384, [row])).headerBytes);
  });

  it("refuses rows of the wrong width or type, and appends after close", async () => {
    const writer = await NpyWriter.open(join(directory, "checked.npy"), { dtype: "|i1", width: 3 });
    await expect(writer.append(new Int8Array(4))).rejects.toThrow(
      /row 0 of .*checked\.npy has 4 values; its rows have 3/,
    );
    await expect(writer.append(new Uint8Array(3))).rejects.toThrow(
      /row 0 of .*checked\.npy is a Uint8Array; \|i1 rows are Int8Arrays/,
    );
    await writer.append(new Int8Array(3));
    expect(await writer.close()).toEqual({ rows: 1 });
    await expect(writer.append(new Int8Array(3))).rejects.toThrow(/it is closed/);
    await expect(writer.close()).rejects.toThrow(/already closed/);
  });

  it("refuses a bad width or dtype, and reports a file it cannot create", async () => {
    const path = join(directory, "never.npy");
    await expect(NpyWriter.open(path, { dtype: "<f4", width: 0 })).rejects.toThrow(/positive integer, not 0/);
    await expect(NpyWriter.open(path, { dtype: "<f8" as NpyDtype, width: 2 })).rejects.toThrow(
      /unsupported \.npy dtype "<f8"/,
    );
    await expect(NpyWriter.open(join(directory, "missing", "x.npy"), { dtype: "<f4", width: 2 })).rejects.toThrow(
      /ENOENT/,
    );
  });

  const { python, missing } = numpyPython();

  whereProvided(missing).it("numpy loads the files, and agrees on float16 rounding and packbits", async () => {
    const files = await writePrecisionFiles();
    const script = `
import json, sys
import numpy as np
float32, float16, int8, scales, binary = sys.argv[1:]
headers = []
for path in sys.argv[1:]:
    with open(path, "rb") as file:
        version = np.lib.format.read_magic(file)
        shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(file)
    headers.append({"version": list(version), "dtype": dtype.str, "fortran_order": fortran_order, "shape": list(shape)})
print(json.dumps({
    "headers": headers,
    "float32": np.load(float32).tolist(),
    "float16_equals_numpy_rounding": bool(np.array_equal(np.load(float16), np.load(float32).astype(np.float16))),
    "dequantized": (np.load(int8) * np.load(scales)).tolist(),
    "binary_equals_packbits": bool(np.array_equal(np.load(binary), np.packbits(np.load(float32) > 0, axis=-1))),
}))
`;
    const run = spawnSync(
      python,
      ["-c", script, files.float32, files.float16, files.int8, files.scales, files.binary],
      { encoding: "utf8" },
    );
    expect(run.stderr).toBe("");
    const loaded = JSON.parse(run.stdout) as {
      headers: unknown[];
      float32: number[][];
      float16_equals_numpy_rounding: boolean;
      dequantized: number[][];
      binary_equals_packbits: boolean;
    };
    const header = (dtype: string, shape: number[]) => ({ version: [1, 0], dtype, fortran_order: false, shape });
    expect(loaded.headers).toEqual([
      header("<f4", [3, 13]),
      header("<f2", [3, 13]),
      header("|i1", [3, 13]),
      header("<f4", [3, 1]),
      header("|u1", [3, 2]),
    ]);
    expect(loaded.float32).toEqual(rows.map((row) => Array.from(row)));
    expect(loaded.float16_equals_numpy_rounding).toBe(true);
    expect(loaded.dequantized).toEqual(rows.map((row) => Array.from(dequantizeInt8(quantize(row, "int8")))));
    expect(loaded.binary_equals_packbits).toBe(true);
  });
});
