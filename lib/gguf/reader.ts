import { open, type FileHandle } from "node:fs/promises";

import {
  alignUp,
  GGML_MAX_DIMS,
  GGML_MAX_NAME_BYTES,
  ggmlTensorByteLength,
  ggmlTypeTraits,
  GGUF_ALIGNMENT_KEY,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_MAX_ARRAY_ELEMENTS,
  GGUF_MAX_STRING_BYTES,
  GGUF_READABLE_VERSIONS,
  ggufScalarByteSize,
  ggufValueTypeName,
  GgufValueType,
  isGgufValueType,
  type GgufScalarType,
} from "./format.js";

/** uint64/int64 values are bigints; every other number type is a number. */
export type GgufValue = number | bigint | boolean | string | GgufValue[];

export interface GgufTensorInfo {
  name: string;
  /** dimensions in GGUF order: ne[0] (the contiguous one) first, i.e. reversed relative to PyTorch */
  shape: number[];
  /** ggml_type id */
  type: number;
  /** byte offset relative to the start of the tensor data section */
  offset: number;
  /** byte size of the tensor's data */
  byteLength: number;
}

/** How a metadata value is stored: its type, and for an array its items' type. */
export interface GgufStoredType {
  type: GgufValueType;
  itemType?: GgufScalarType;
}

export interface GgufHeader {
  version: number;
  metadata: Map<string, GgufValue>;
  /** each metadata key's stored type, so that a file can be written again as it was */
  metadataTypes: Map<string, GgufStoredType>;
  tensors: GgufTensorInfo[];
  alignment: number;
  /** absolute byte offset of the tensor data section */
  dataOffset: number;
  fileSize: number;
}

/** A file that is missing, unreadable or not a GGUF file llama.cpp can load. */
export class GgufFormatError extends Error {
  override readonly name = "GgufFormatError";

  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super(`${path}: ${detail}`);
  }
}

/** magic + version + tensor count + metadata count */
const FIXED_HEADER_BYTES = 4 + 4 + 8 + 8;
// The smallest encodings, used to reject counts that cannot fit in the file before looping over them.
const MIN_KV_BYTES = 8 + 1 + 4 + 1;
const MIN_TENSOR_INFO_BYTES = 8 + 4 + 8 + 4 + 8;
const READ_CHUNK_BYTES = 1 << 20;

/** Reads and validates a GGUF file's header; throws GgufFormatError naming what is wrong. */
export async function readGgufHeader(path: string): Promise<GgufHeader> {
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    throw new GgufFormatError(path, `cannot open the file: ${(error as Error).message}`);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new GgufFormatError(path, "not a regular file");
    return await new HeaderParser(path, new FileCursor(handle, stats.size)).parse();
  } catch (error) {
    if (error instanceof GgufFormatError) throw error;
    throw new GgufFormatError(path, `cannot read the file: ${(error as Error).message}`);
  } finally {
    await handle.close();
  }
}

/** Thrown by FileCursor when the header runs past the end of the file; HeaderParser adds context. */
class EndOfFile extends Error {}

/**
 * Sequential little-endian reads from a file, fetched in large chunks so that huge files are never
 * read whole. Reads are synchronous from the buffer; `ensure` must first make the bytes available.
 */
class FileCursor {
  position = 0;
  private buffer = new Uint8Array(0);
  private view = new DataView(this.buffer.buffer);
  private bufferStart = 0;

  constructor(
    private readonly handle: FileHandle,
    readonly fileSize: number,
  ) {}

  get remaining(): number {
    return this.fileSize - this.position;
  }

  /** Bytes at the current position that are already in memory. */
  get buffered(): number {
    return this.bufferStart + this.buffer.length - this.position;
  }

  async ensure(count: number): Promise<void> {
    if (count > this.remaining) throw new EndOfFile();
    if (count > this.buffered) await this.fill(count);
  }

  bytes(count: number): Uint8Array {
    const at = this.advance(count);
    return this.buffer.subarray(at, at + count);
  }

  u32(): number {
    return this.view.getUint32(this.advance(4), true);
  }

  i32(): number {
    return this.view.getInt32(this.advance(4), true);
  }

  u64(): bigint {
    return this.view.getBigUint64(this.advance(8), true);
  }

  i64(): bigint {
    return this.view.getBigInt64(this.advance(8), true);
  }

  /** Decodes `count` fixed-size scalars stored back to back. */
  scalars(type: Exclude<GgufScalarType, typeof GgufValueType.STRING>, count: number): GgufValue[] {
    const size = ggufScalarByteSize(type) ?? 0;
    const at = this.advance(size * count);
    const values: GgufValue[] = new Array<GgufValue>(count);
    for (let i = 0; i < count; i++) values[i] = decodeScalar(this.view, type, at + i * size);
    return values;
  }

  /** Moves past `count` ensured bytes and returns where they start in `buffer`. */
  private advance(count: number): number {
    if (count > this.buffered) throw new Error("FileCursor: read past the ensured bytes");
    const at = this.position - this.bufferStart;
    this.position += count;
    return at;
  }

  private async fill(minimum: number): Promise<void> {
    const size = Math.min(Math.max(minimum, READ_CHUNK_BYTES), this.remaining);
    const buffer = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await this.handle.read(buffer, filled, size - filled, this.position + filled);
      if (bytesRead === 0) throw new EndOfFile(); // the file shrank while we were reading it
      filled += bytesRead;
    }
    this.buffer = buffer;
    this.view = new DataView(buffer.buffer);
    this.bufferStart = this.position;
  }
}

function decodeScalar(view: DataView, type: GgufScalarType, at: number): GgufValue {
  switch (type) {
    case GgufValueType.UINT8:
      return view.getUint8(at);
    case GgufValueType.INT8:
      return view.getInt8(at);
    case GgufValueType.UINT16:
      return view.getUint16(at, true);
    case GgufValueType.INT16:
      return view.getInt16(at, true);
    case GgufValueType.UINT32:
      return view.getUint32(at, true);
    case GgufValueType.INT32:
      return view.getInt32(at, true);
    case GgufValueType.FLOAT32:
      return view.getFloat32(at, true);
    case GgufValueType.BOOL:
      return view.getUint8(at) !== 0;
    case GgufValueType.UINT64:
      return view.getBigUint64(at, true);
    case GgufValueType.INT64:
      return view.getBigInt64(at, true);
    case GgufValueType.FLOAT64:
      return view.getFloat64(at, true);
    case GgufValueType.STRING:
      throw new TypeError("strings are length-prefixed, not fixed-size scalars");
  }
}

/** ignoreBOM: a leading U+FEFF is part of the string (vocabularies have "\ufeff//" beside "//"), not a BOM to drop */
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

class HeaderParser {
  /** What is being read, for error messages ("the name of tensor 3"). */
  private reading = "the header";

  constructor(
    private readonly path: string,
    private readonly cursor: FileCursor,
  ) {}

  async parse(): Promise<GgufHeader> {
    try {
      return await this.parseHeader();
    } catch (error) {
      if (!(error instanceof EndOfFile)) throw error;
      throw this.fail(
        `truncated: the file ends (at ${this.cursor.fileSize} bytes) while reading ${this.reading}; ` +
          "re-download or re-convert it",
      );
    }
  }

  private fail(detail: string): GgufFormatError {
    return new GgufFormatError(this.path, detail);
  }

  private async parseHeader(): Promise<GgufHeader> {
    const { cursor } = this;
    await this.checkMagic();
    if (cursor.fileSize < FIXED_HEADER_BYTES) {
      throw this.fail(
        `too short to be a GGUF file: it has ${cursor.fileSize} bytes, the fixed header alone needs ${FIXED_HEADER_BYTES}`,
      );
    }
    await cursor.ensure(FIXED_HEADER_BYTES - GGUF_MAGIC.length);
    const version = this.readVersion();
    const tensorCount = this.checkCount(cursor.u64(), MIN_TENSOR_INFO_BYTES, "tensors");
    const kvCount = this.checkCount(cursor.u64(), MIN_KV_BYTES, "metadata entries");

    const { metadata, types } = await this.readMetadata(kvCount);
    const alignment = this.alignmentOf(metadata, types);
    const rawTensors = await this.readTensorInfos(tensorCount, alignment);
    const dataOffset = alignUp(cursor.position, alignment);
    const tensors = this.placeTensorData(rawTensors, dataOffset);
    return { version, metadata, metadataTypes: types, tensors, alignment, dataOffset, fileSize: cursor.fileSize };
  }

  private async checkMagic(): Promise<void> {
    const length = Math.min(GGUF_MAGIC.length, this.cursor.fileSize);
    await this.cursor.ensure(length);
    const head = this.cursor.bytes(length);
    if (head.length === GGUF_MAGIC.length && head.every((byte, i) => byte === GGUF_MAGIC[i])) return;
    if (head.length === 0) throw this.fail("the file is empty; re-download or re-convert it");
    const hex = Array.from(head, (byte) => byte.toString(16).padStart(2, "0")).join(" ");
    throw this.fail(
      `not a GGUF file: it starts with bytes ${hex}${describeForeignFile(head)}, a GGUF file starts with 47 47 55 46 ("GGUF")`,
    );
  }

  private readVersion(): number {
    const version = this.cursor.u32();
    if (version !== 0 && (version & 0xffff) === 0) {
      throw this.fail(
        `unsupported GGUF version ${version}: the file looks big-endian, only little-endian files are supported`,
      );
    }
    if (!GGUF_READABLE_VERSIONS.includes(version)) {
      const hint = version === 1 ? " (GGUF v1 is obsolete; re-convert the model)" : "";
      throw this.fail(
        `unsupported GGUF version ${version}${hint}; supported versions: ${GGUF_READABLE_VERSIONS.join(", ")}`,
      );
    }
    return version;
  }

  /** Rejects counts whose smallest possible encoding would not fit in the rest of the file. */
  private checkCount(count: bigint, minBytesEach: number, what: string): number {
    if (count * BigInt(minBytesEach) > BigInt(this.cursor.remaining)) {
      throw this.fail(
        `the header claims ${count} ${what}, which cannot fit in a file of ${this.cursor.fileSize} bytes`,
      );
    }
    return Number(count);
  }

  private async readMetadata(
    count: number,
  ): Promise<{ metadata: Map<string, GgufValue>; types: Map<string, GgufStoredType> }> {
    const metadata = new Map<string, GgufValue>();
    const types = new Map<string, GgufStoredType>();
    for (let index = 0; index < count; index++) {
      this.reading = `the key of metadata entry ${index}`;
      const key = await this.readString();
      if (key === "") throw this.fail(`metadata entry ${index} has an empty key`);
      if (metadata.has(key)) throw this.fail(`metadata key "${key}" appears twice`);
      this.reading = `the value of metadata key "${key}"`;
      const type = await this.readValueType(`metadata key "${key}"`);
      if (type === GgufValueType.ARRAY) {
        const { itemType, items } = await this.readArray(key);
        metadata.set(key, items);
        types.set(key, { type, itemType });
      } else {
        metadata.set(key, await this.readScalar(type));
        types.set(key, { type });
      }
    }
    return { metadata, types };
  }

  private async readValueType(owner: string): Promise<GgufValueType> {
    await this.cursor.ensure(4);
    const type = this.cursor.u32();
    if (!isGgufValueType(type)) throw this.fail(`${owner} has unknown value type ${type}`);
    return type;
  }

  private async readArray(key: string): Promise<{ itemType: GgufScalarType; items: GgufValue[] }> {
    const itemType = await this.readValueType(`the array of metadata key "${key}"`);
    if (itemType === GgufValueType.ARRAY)
      throw this.fail(`metadata key "${key}" is an array of arrays, which llama.cpp does not support`);
    await this.cursor.ensure(8);
    const count = this.cursor.u64();
    const minItemBytes = ggufScalarByteSize(itemType) ?? 8;
    if (count > BigInt(GGUF_MAX_ARRAY_ELEMENTS) || count * BigInt(minItemBytes) > BigInt(this.cursor.remaining)) {
      throw this.fail(
        `metadata key "${key}" claims an array of ${count} ${ggufValueTypeName(itemType)} items, ` +
          `which cannot fit in the ${this.cursor.remaining} bytes left in the file`,
      );
    }
    const length = Number(count);
    if (itemType !== GgufValueType.STRING) {
      await this.cursor.ensure(minItemBytes * length);
      return { itemType, items: this.cursor.scalars(itemType, length) };
    }
    const strings: GgufValue[] = new Array<GgufValue>(length);
    // Vocabularies hold hundreds of thousands of strings: read the buffered ones without awaiting.
    for (let i = 0; i < length; i++)
      strings[i] = utf8.decode(this.takeBufferedString() ?? (await this.readStringBytes()));
    return { itemType, items: strings };
  }

  private async readScalar(type: GgufScalarType): Promise<GgufValue> {
    if (type === GgufValueType.STRING) return this.readString();
    await this.cursor.ensure(ggufScalarByteSize(type) ?? 0);
    const [value] = this.cursor.scalars(type, 1);
    return value as GgufValue;
  }

  private async readStringBytes(): Promise<Uint8Array> {
    await this.cursor.ensure(8);
    const length = this.checkStringLength(this.cursor.u64());
    await this.cursor.ensure(length);
    return this.cursor.bytes(length);
  }

  /** The next string if it is entirely in memory already; otherwise nothing is consumed. */
  private takeBufferedString(): Uint8Array | undefined {
    const { cursor } = this;
    if (cursor.buffered < 8) return undefined;
    const start = cursor.position;
    const length = this.checkStringLength(cursor.u64());
    if (length <= cursor.buffered) return cursor.bytes(length);
    cursor.position = start;
    return undefined;
  }

  private checkStringLength(length: bigint): number {
    if (length > BigInt(GGUF_MAX_STRING_BYTES) || length > BigInt(this.cursor.remaining)) {
      throw this.fail(
        `a string of ${length} bytes is claimed while reading ${this.reading}, ` +
          `but only ${this.cursor.remaining} bytes are left in the file`,
      );
    }
    return Number(length);
  }

  private async readString(): Promise<string> {
    return utf8.decode(await this.readStringBytes());
  }

  private alignmentOf(metadata: Map<string, GgufValue>, types: Map<string, GgufStoredType>): number {
    const alignment = metadata.get(GGUF_ALIGNMENT_KEY);
    if (alignment === undefined) return GGUF_DEFAULT_ALIGNMENT;
    const type = types.get(GGUF_ALIGNMENT_KEY)?.type ?? -1;
    if (type !== GgufValueType.UINT32) {
      throw this.fail(`${GGUF_ALIGNMENT_KEY} must be a uint32, not ${ggufValueTypeName(type)}`);
    }
    const value = alignment as number;
    if (value === 0 || (value & (value - 1)) !== 0)
      throw this.fail(`${GGUF_ALIGNMENT_KEY} is ${value}, not a power of 2`);
    return value;
  }

  private async readTensorInfos(count: number, alignment: number): Promise<RawTensorInfo[]> {
    const tensors: RawTensorInfo[] = [];
    const names = new Set<string>();
    // llama.cpp requires the tensors to be packed in order, each padded to the alignment.
    let expectedOffset = 0n;
    for (let index = 0; index < count; index++) {
      this.reading = `the name of tensor ${index}`;
      const nameBytes = await this.readStringBytes();
      const name = utf8.decode(nameBytes);
      if (nameBytes.length > GGML_MAX_NAME_BYTES) {
        throw this.fail(
          `tensor ${index} has a ${nameBytes.length}-byte name, longer than ggml's limit of ${GGML_MAX_NAME_BYTES}: "${name}"`,
        );
      }
      if (names.has(name)) throw this.fail(`tensor name "${name}" appears twice`);
      names.add(name);

      this.reading = `the description of tensor "${name}"`;
      const shape = await this.readShape(name);
      await this.cursor.ensure(4);
      const type = this.cursor.i32();
      const traits = ggmlTypeTraits(type);
      if (traits === undefined) {
        throw this.fail(
          `tensor "${name}" has unknown ggml type ${type}; the file may need a newer llama.cpp, or it is corrupt`,
        );
      }
      if ((shape[0] ?? 0) % traits.blockSize !== 0) {
        throw this.fail(
          `tensor "${name}" of type ${traits.name} has rows of ${shape[0]} elements, not a multiple of its block size ${traits.blockSize}`,
        );
      }
      await this.cursor.ensure(8);
      const offset = this.cursor.u64();
      if (offset !== expectedOffset) {
        throw this.fail(
          `tensor "${name}" has data offset ${offset}, expected ${expectedOffset} (tensors must be stored in order, each aligned to ${alignment} bytes)`,
        );
      }
      const byteLength = ggmlTensorByteLength(shape, type);
      expectedOffset += alignUpBig(byteLength, alignment);
      tensors.push({ name, shape, type, offset, byteLength });
    }
    return tensors;
  }

  private async readShape(name: string): Promise<number[]> {
    await this.cursor.ensure(4);
    const dimensionCount = this.cursor.u32();
    if (dimensionCount === 0 || dimensionCount > GGML_MAX_DIMS) {
      throw this.fail(`tensor "${name}" has ${dimensionCount} dimensions; ggml supports 1 to ${GGML_MAX_DIMS}`);
    }
    const shape: number[] = [];
    await this.cursor.ensure(8 * dimensionCount);
    for (let axis = 0; axis < dimensionCount; axis++) {
      const size = this.cursor.i64();
      if (size <= 0n || size > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw this.fail(`tensor "${name}" has invalid size ${size} in dimension ${axis}`);
      }
      shape.push(Number(size));
    }
    return shape;
  }

  /** Ensures each tensor's data lies inside the file, which llama.cpp would otherwise assert on. */
  private placeTensorData(tensors: readonly RawTensorInfo[], dataOffset: number): GgufTensorInfo[] {
    const fileSize = BigInt(this.cursor.fileSize);
    return tensors.map(({ name, shape, type, offset, byteLength }) => {
      const start = BigInt(dataOffset) + offset;
      const end = start + byteLength;
      if (end > fileSize) {
        throw this.fail(
          `truncated: tensor "${name}" needs bytes ${start}..${end} but the file has ${fileSize} bytes; ` +
            "re-download or re-convert it",
        );
      }
      return { name, shape, type, offset: Number(offset), byteLength: Number(byteLength) };
    });
  }
}

interface RawTensorInfo {
  name: string;
  shape: number[];
  type: number;
  offset: bigint;
  byteLength: bigint;
}

function alignUpBig(value: bigint, alignment: number): bigint {
  const step = BigInt(alignment);
  return ((value + step - 1n) / step) * step;
}

/** Names common non-GGUF contents, which is what people usually hand over by mistake. */
function describeForeignFile(head: Uint8Array): string {
  const text = String.fromCharCode(...head);
  if (text === "PK\u0003\u0004") return " (a zip archive, such as a PyTorch checkpoint)";
  if (text === "vers") return " (probably a Git LFS pointer: fetch the real file with git lfs pull)";
  if (text.startsWith("<")) return " (an HTML or XML page, probably a failed download)";
  return "";
}
