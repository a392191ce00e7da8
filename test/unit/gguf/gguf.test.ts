import { mkdtemp, mkdir, readdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { ggmlTensorByteLength, GgmlType, GgufValueType } from "../../../lib/gguf/format.js";
import { GgufFormatError, readGgufHeader } from "../../../lib/gguf/reader.js";
import { ggufValue, writeGgufFile, type GgufTensorToWrite, type GgufTypedValue } from "../../../lib/gguf/writer.js";

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "ctxembed-gguf-"));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

let fileCounter = 0;
const freshPath = () => join(directory, `file-${++fileCounter}.gguf`);

function tensor(name: string, shape: number[], type: number, data: Uint8Array, chunkBytes = 5): GgufTensorToWrite {
  return {
    name,
    shape,
    type,
    *chunks() {
      for (let i = 0; i < data.length; i += chunkBytes) yield data.subarray(i, i + chunkBytes);
    },
  };
}

function bytesOf(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);
}

const ALL_VALUE_TYPES: [string, GgufTypedValue, unknown][] = [
  ["t.uint8", ggufValue.uint8(255), 255],
  ["t.int8", ggufValue.int8(-128), -128],
  ["t.uint16", ggufValue.uint16(65535), 65535],
  ["t.int16", ggufValue.int16(-32768), -32768],
  ["t.uint32", ggufValue.uint32(4294967295), 4294967295],
  ["t.int32", ggufValue.int32(-2147483648), -2147483648],
  ["t.uint64", ggufValue.uint64(2n ** 64n - 1n), 2n ** 64n - 1n],
  ["t.int64", ggufValue.int64(-(2n ** 63n)), -(2n ** 63n)],
  ["t.float32", ggufValue.float32(0.1), Math.fround(0.1)],
  ["t.float64", ggufValue.float64(0.1), 0.1],
  ["t.bool.true", ggufValue.bool(true), true],
  ["t.bool.false", ggufValue.bool(false), false],
  ["t.string", ggufValue.string("h\u00e9llo \u2581 \ud83d\ude80"), "h\u00e9llo \u2581 \ud83d\ude80"],
  ["t.string.empty", ggufValue.string(""), ""],
  // a leading U+FEFF is a character of the string (gemma-4's vocabulary has "\ufeff//" beside "//"), not a BOM to drop
  ["t.string.bom", ggufValue.string("\ufeff//"), "\ufeff//"],
  ["t.array.string.bom", ggufValue.array(GgufValueType.STRING, ["//", "\ufeff//"]), ["//", "\ufeff//"]],
  ["t.array.string", ggufValue.array(GgufValueType.STRING, ["[CLS]", "\u2581the", ""]), ["[CLS]", "\u2581the", ""]],
  ["t.array.int32", ggufValue.array(GgufValueType.INT32, [1, -3, 5]), [1, -3, 5]],
  ["t.array.float32", ggufValue.array(GgufValueType.FLOAT32, [0.5, -2]), [0.5, -2]],
  ["t.array.uint8", ggufValue.array(GgufValueType.UINT8, [0, 255]), [0, 255]],
  ["t.array.bool", ggufValue.array(GgufValueType.BOOL, [true, false]), [true, false]],
  ["t.array.uint64", ggufValue.array(GgufValueType.UINT64, [1n, 2n ** 40n]), [1n, 2n ** 40n]],
  ["t.array.empty", ggufValue.array(GgufValueType.INT32, []), []],
];

describe("GGUF writer and reader", () => {
  it("round-trips every metadata value type and tensor data", async () => {
    const path = freshPath();
    const tensors = [
      tensor("a.weight", [3, 2], GgmlType.F32, bytesOf(24, 1)),
      tensor("b.bias", [5], GgmlType.F16, bytesOf(10, 2)),
      tensor("c.q8", [32, 2], GgmlType.Q8_0, bytesOf(68, 3)),
      tensor("d.i32", [1, 2, 3], GgmlType.I32, bytesOf(24, 4), 24),
    ];
    await writeGgufFile(
      path,
      ALL_VALUE_TYPES.map(([key, typed]) => [key, typed] as const),
      tensors,
    );

    const header = await readGgufHeader(path);
    expect(header.version).toBe(3);
    expect(header.alignment).toBe(32);
    expect([...header.metadata.keys()]).toEqual(ALL_VALUE_TYPES.map(([key]) => key));
    for (const [key, , expected] of ALL_VALUE_TYPES) expect(header.metadata.get(key), key).toEqual(expected);

    expect(header.tensors).toEqual([
      { name: "a.weight", shape: [3, 2], type: GgmlType.F32, offset: 0, byteLength: 24 },
      { name: "b.bias", shape: [5], type: GgmlType.F16, offset: 32, byteLength: 10 },
      { name: "c.q8", shape: [32, 2], type: GgmlType.Q8_0, offset: 64, byteLength: 68 },
      { name: "d.i32", shape: [1, 2, 3], type: GgmlType.I32, offset: 160, byteLength: 24 },
    ]);
    expect(header.dataOffset % 32).toBe(0);
    const file = await readFile(path);
    expect(header.fileSize).toBe(file.length);
    expect(file.length).toBe(header.dataOffset + 192);
    for (const [index, info] of header.tensors.entries()) {
      const start = header.dataOffset + info.offset;
      expect(new Uint8Array(file.subarray(start, start + info.byteLength))).toEqual(
        bytesOf(info.byteLength, index + 1),
      );
    }
  });

  it("honours general.alignment", async () => {
    const path = freshPath();
    await writeGgufFile(
      path,
      [["general.alignment", ggufValue.uint32(64)]],
      [tensor("x", [3], GgmlType.F32, bytesOf(12, 0)), tensor("y", [3], GgmlType.F32, bytesOf(12, 1))],
    );
    const header = await readGgufHeader(path);
    expect(header.alignment).toBe(64);
    expect(header.dataOffset % 64).toBe(0);
    expect(header.tensors.map((t) => t.offset)).toEqual([0, 64]);
  });

  it("computes byte sizes of block-quantised types", () => {
    expect(ggmlTensorByteLength([256, 4], GgmlType.Q4_K)).toBe(4n * 144n);
    expect(ggmlTensorByteLength([256], GgmlType.Q6_K)).toBe(210n);
    expect(ggmlTensorByteLength([64, 3], GgmlType.Q4_0)).toBe(6n * 18n);
    expect(ggmlTensorByteLength([7], GgmlType.BF16)).toBe(14n);
  });

  it("never leaves a partial file when tensor data is short, keeping an existing file intact", async () => {
    const folder = join(directory, "atomic");
    await mkdir(folder);
    const path = join(folder, "model.gguf");
    await writeFile(path, "previous model");
    const write = writeGgufFile(path, [], [tensor("short", [4], GgmlType.F32, bytesOf(12, 0))]);
    await expect(write).rejects.toThrow('tensor "short" produced only 12 bytes of data, expected 16');
    expect(await readdir(folder)).toEqual(["model.gguf"]);
    expect(await readFile(path, "utf8")).toBe("previous model");
  });

  it("rejects invalid metadata values and tensors before writing", async () => {
    await expect(writeGgufFile(freshPath(), [["k", ggufValue.uint8(256)]], [])).rejects.toThrow(
      'metadata key "k": 256 is not a valid uint8',
    );
    await expect(writeGgufFile(freshPath(), [], [tensor("q", [16], GgmlType.Q8_0, bytesOf(17, 0))])).rejects.toThrow(
      "not a multiple of the Q8_0 block size 32",
    );
  });
});

/** Hand-built GGUF bytes, for files the writer refuses to produce. */
class RawGguf {
  private parts: Buffer[] = [];

  magic(text = "GGUF"): this {
    this.parts.push(Buffer.from(text, "latin1"));
    return this;
  }

  u32(value: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value);
    this.parts.push(b);
    return this;
  }

  u64(value: bigint | number): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(value));
    this.parts.push(b);
    return this;
  }

  string(text: string): this {
    const bytes = Buffer.from(text, "utf8");
    return this.u64(bytes.length).raw(bytes);
  }

  raw(bytes: Uint8Array): this {
    this.parts.push(Buffer.from(bytes));
    return this;
  }

  /** magic, version, tensor count, metadata count */
  header(tensorCount: number | bigint, kvCount: number | bigint, version = 3): this {
    return this.magic().u32(version).u64(tensorCount).u64(kvCount);
  }

  tensorInfo(name: string, shape: (number | bigint)[], type: number, offset: number): this {
    this.string(name).u32(shape.length);
    for (const dim of shape) this.u64(BigInt.asUintN(64, BigInt(dim)));
    return this.u32(type).u64(offset);
  }

  async save(): Promise<string> {
    const path = freshPath();
    await writeFile(path, Buffer.concat(this.parts));
    return path;
  }
}

async function expectFormatError(path: string, fragment: string): Promise<GgufFormatError> {
  const error = await readGgufHeader(path).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(GgufFormatError);
  const formatError = error as GgufFormatError;
  expect(formatError.name).toBe("GgufFormatError");
  expect(formatError.message).toContain(path);
  expect(formatError.message).toContain(fragment);
  return formatError;
}

describe("GGUF reader errors", () => {
  it("reports a missing file with its system error code", async () => {
    await expectFormatError(join(directory, "absent.gguf"), "ENOENT");
  });

  it("reports a folder", async () => {
    await expectFormatError(directory, "not a regular file");
  });

  it("reports empty and too-short files", async () => {
    await expectFormatError(await new RawGguf().save(), "the file is empty");
    await expectFormatError(await new RawGguf().magic().u32(3).save(), "too short to be a GGUF file: it has 8 bytes");
  });

  it("names what a non-GGUF file starts with", async () => {
    const zip = await new RawGguf().raw(Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0])).save();
    await expectFormatError(zip, "not a GGUF file: it starts with bytes 50 4b 03 04 (a zip archive");
    await expectFormatError(await new RawGguf().magic("version https://git-lfs").save(), "Git LFS pointer");
  });

  it("rejects unsupported versions", async () => {
    await expectFormatError(await new RawGguf().header(0, 0, 1).save(), "unsupported GGUF version 1");
    await expectFormatError(await new RawGguf().header(0, 0, 4).save(), "unsupported GGUF version 4");
    await expectFormatError(await new RawGguf().header(0, 0, 0x03000000).save(), "big-endian");
  });

  it("reads version 2 files", async () => {
    const header = await readGgufHeader(
      await new RawGguf().header(0, 1, 2).string("k").u32(GgufValueType.UINT8).raw(Uint8Array.of(7)).save(),
    );
    expect(header.version).toBe(2);
    expect(header.metadata.get("k")).toBe(7);
  });

  it("rejects counts that cannot fit in the file", async () => {
    await expectFormatError(await new RawGguf().header(2n ** 40n, 0).save(), "claims 1099511627776 tensors");
    await expectFormatError(await new RawGguf().header(0, 1000).save(), "claims 1000 metadata entries");
  });

  it("rejects strings longer than the file", async () => {
    const path = await new RawGguf()
      .header(0, 1)
      .u64(1n << 40n)
      .raw(Buffer.from("key of some entry"))
      .save();
    await expectFormatError(
      path,
      "a string of 1099511627776 bytes is claimed while reading the key of metadata entry 0",
    );
  });

  it("rejects arrays too big for the file", async () => {
    const path = await new RawGguf()
      .header(0, 1)
      .string("tokens")
      .u32(GgufValueType.ARRAY)
      .u32(GgufValueType.STRING)
      .u64(1_000_000)
      .save();
    await expectFormatError(path, 'metadata key "tokens" claims an array of 1000000 string items');
  });

  it("rejects unknown value types", async () => {
    const path = await new RawGguf().header(0, 1).string("k").u32(13).u64(0).save();
    await expectFormatError(path, 'metadata key "k" has unknown value type 13');
  });

  it("rejects a bad general.alignment", async () => {
    const notPowerOfTwo = await new RawGguf()
      .header(0, 1)
      .string("general.alignment")
      .u32(GgufValueType.UINT32)
      .u32(48)
      .save();
    await expectFormatError(notPowerOfTwo, "general.alignment is 48, not a power of 2");
    const wrongType = await new RawGguf()
      .header(0, 1)
      .string("general.alignment")
      .u32(GgufValueType.UINT64)
      .u64(32)
      .save();
    await expectFormatError(wrongType, "general.alignment must be a uint32, not uint64");
  });

  it("rejects duplicate keys and tensor names", async () => {
    const kv = (raw: RawGguf) => raw.string("k").u32(GgufValueType.UINT8).raw(Uint8Array.of(1));
    await expectFormatError(await kv(kv(new RawGguf().header(0, 2))).save(), 'metadata key "k" appears twice');
    const twice = new RawGguf()
      .header(2, 0)
      .tensorInfo("t", [8], GgmlType.F32, 0)
      .tensorInfo("t", [8], GgmlType.F32, 32);
    await expectFormatError(await twice.raw(new Uint8Array(64)).save(), 'tensor name "t" appears twice');
  });

  it("rejects unknown ggml tensor types", async () => {
    const removed = new RawGguf().header(1, 0).tensorInfo("t", [32], 4, 0).raw(new Uint8Array(64));
    await expectFormatError(await removed.save(), 'tensor "t" has unknown ggml type 4');
    const unknown = new RawGguf().header(1, 0).tensorInfo("t", [32], 99, 0).raw(new Uint8Array(64));
    await expectFormatError(await unknown.save(), 'tensor "t" has unknown ggml type 99');
  });

  it("rejects empty, negative and too many dimensions", async () => {
    const build = (shape: (number | bigint)[]) =>
      new RawGguf().header(1, 0).tensorInfo("t", shape, GgmlType.F32, 0).raw(new Uint8Array(64)).save();
    await expectFormatError(await build([4, 0]), 'tensor "t" has invalid size 0 in dimension 1');
    await expectFormatError(await build([-2]), 'tensor "t" has invalid size -2 in dimension 0');
    await expectFormatError(await build([1, 1, 1, 1, 1]), 'tensor "t" has 5 dimensions; ggml supports 1 to 4');
    await expectFormatError(await build([]), 'tensor "t" has 0 dimensions');
  });

  it("rejects rows that do not fill whole blocks", async () => {
    const path = await new RawGguf()
      .header(1, 0)
      .tensorInfo("q", [16], GgmlType.Q8_0, 0)
      .raw(new Uint8Array(64))
      .save();
    await expectFormatError(
      path,
      'tensor "q" of type Q8_0 has rows of 16 elements, not a multiple of its block size 32',
    );
  });

  it("rejects tensors stored out of place", async () => {
    const path = await new RawGguf()
      .header(1, 0)
      .tensorInfo("t", [4], GgmlType.F32, 32)
      .raw(new Uint8Array(128))
      .save();
    await expectFormatError(path, 'tensor "t" has data offset 32, expected 0');
  });

  it("reports truncated tensor data with the byte range it needs", async () => {
    const path = freshPath();
    await writeGgufFile(
      path,
      [["general.name", ggufValue.string("tiny")]],
      [tensor("first", [8], GgmlType.F32, bytesOf(32, 0)), tensor("second", [16], GgmlType.F32, bytesOf(64, 1))],
    );
    const { dataOffset } = await readGgufHeader(path);
    const size = dataOffset + 32 + 40;
    await truncate(path, size);
    await expectFormatError(
      path,
      `truncated: tensor "second" needs bytes ${dataOffset + 32}..${dataOffset + 96} but the file has ${size} bytes; re-download or re-convert it`,
    );
  });

  it("reports a file cut inside its header", async () => {
    const path = freshPath();
    await writeGgufFile(
      path,
      [["tokenizer.ggml.tokens", ggufValue.array(GgufValueType.STRING, ["alpha", "beta", "gamma"])]],
      [],
    );
    // header, key, value and item types, count, two strings, half of the third one's length
    const cut = 24 + (8 + 21) + 4 + 4 + 8 + (8 + 5) + (8 + 4) + 4;
    await truncate(path, cut);
    await expectFormatError(
      path,
      `truncated: the file ends (at ${cut} bytes) while reading the value of metadata key "tokenizer.ggml.tokens"`,
    );
  });
});
