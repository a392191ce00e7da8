import type { FileHandle } from "node:fs/promises";
import { openAtomicFile } from "../util/atomic-file.js";
import {
  alignUp,
  GGML_MAX_DIMS,
  GGML_MAX_NAME_BYTES,
  ggmlTensorByteLength,
  ggmlTypeTraits,
  GGUF_ALIGNMENT_KEY,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_VERSION,
  ggufValueTypeName,
  GgufValueType,
  type GgufScalarType,
} from "./format.js";
import type { GgufHeader } from "./reader.js";

export type GgufScalar = number | bigint | boolean | string;

/** A metadata value together with the GGUF type it is stored as. */
export type GgufTypedValue =
  | { readonly type: GgufScalarType; readonly value: GgufScalar }
  | {
      readonly type: typeof GgufValueType.ARRAY;
      readonly itemType: GgufScalarType;
      readonly value: readonly GgufScalar[];
    };

/** Constructors for typed metadata values: `ggufValue.uint32(6)`, `ggufValue.array(GgufValueType.STRING, tokens)`. */
export const ggufValue = {
  uint8: (value: number): GgufTypedValue => ({ type: GgufValueType.UINT8, value }),
  int8: (value: number): GgufTypedValue => ({ type: GgufValueType.INT8, value }),
  uint16: (value: number): GgufTypedValue => ({ type: GgufValueType.UINT16, value }),
  int16: (value: number): GgufTypedValue => ({ type: GgufValueType.INT16, value }),
  uint32: (value: number): GgufTypedValue => ({ type: GgufValueType.UINT32, value }),
  int32: (value: number): GgufTypedValue => ({ type: GgufValueType.INT32, value }),
  uint64: (value: bigint | number): GgufTypedValue => ({ type: GgufValueType.UINT64, value }),
  int64: (value: bigint | number): GgufTypedValue => ({ type: GgufValueType.INT64, value }),
  float32: (value: number): GgufTypedValue => ({ type: GgufValueType.FLOAT32, value }),
  float64: (value: number): GgufTypedValue => ({ type: GgufValueType.FLOAT64, value }),
  bool: (value: boolean): GgufTypedValue => ({ type: GgufValueType.BOOL, value }),
  string: (value: string): GgufTypedValue => ({ type: GgufValueType.STRING, value }),
  array: (itemType: GgufScalarType, value: readonly GgufScalar[]): GgufTypedValue => ({
    type: GgufValueType.ARRAY,
    itemType,
    value,
  }),
};

/** A read file's metadata, each value with the type it was stored as, ready to be written again. */
export function typedMetadata(header: GgufHeader): Map<string, GgufTypedValue> {
  const typed = new Map<string, GgufTypedValue>();
  for (const [key, value] of header.metadata) {
    const stored = header.metadataTypes.get(key)!;
    typed.set(
      key,
      stored.type === GgufValueType.ARRAY
        ? { type: stored.type, itemType: stored.itemType!, value: value as GgufScalar[] }
        : { type: stored.type, value: value as GgufScalar },
    );
  }
  return typed;
}

export interface GgufTensorToWrite {
  name: string;
  /** dimensions in GGUF order (ne[0] first), as GgufTensorInfo.shape */
  shape: readonly number[];
  /** ggml_type id */
  type: number;
  /** Produces the tensor's bytes in order; together they must be exactly the size its shape and type imply. */
  chunks(): AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

/**
 * Writes a GGUF v3 file. Tensor data is streamed, never held in memory as a whole; the file
 * appears at `path` whole or not at all (lib/util/atomic-file.ts: its temporary is removed on
 * an error, on exit and on a signal).
 */
export async function writeGgufFile(
  path: string,
  metadata: Iterable<readonly [string, GgufTypedValue]>,
  tensors: readonly GgufTensorToWrite[],
): Promise<void> {
  const entries = [...metadata];
  const alignment = alignmentOf(entries);
  const layout = layOutTensors(tensors, alignment);
  const header = encodeHeader(entries, layout);

  const file = await openAtomicFile(path);
  try {
    const output = new SequentialWriter(file.handle);
    await output.write(header);
    await output.padTo(alignment);
    for (const { tensor, byteLength } of layout) {
      let written = 0;
      for await (const chunk of tensor.chunks()) {
        written += chunk.length;
        if (written > byteLength) break; // stop before spilling into the next tensor's place
        await output.write(chunk);
      }
      if (written !== byteLength) {
        throw new Error(
          `tensor "${tensor.name}" produced ${written > byteLength ? "over" : "only"} ${written} bytes of data, expected ${byteLength}`,
        );
      }
      await output.padTo(alignment);
    }
  } catch (error) {
    await file.abort();
    throw error;
  }
  await file.commit();
}

interface PlacedTensor {
  tensor: GgufTensorToWrite;
  byteLength: number;
  offset: number;
}

function alignmentOf(entries: readonly (readonly [string, GgufTypedValue])[]): number {
  const entry = entries.find(([key]) => key === GGUF_ALIGNMENT_KEY);
  if (entry === undefined) return GGUF_DEFAULT_ALIGNMENT;
  const [, typed] = entry;
  const value = typed.value;
  if (typed.type !== GgufValueType.UINT32 || typeof value !== "number" || value <= 0 || (value & (value - 1)) !== 0) {
    throw new RangeError(`${GGUF_ALIGNMENT_KEY} must be a uint32 power of 2`);
  }
  return value;
}

function layOutTensors(tensors: readonly GgufTensorToWrite[], alignment: number): PlacedTensor[] {
  const names = new Set<string>();
  let offset = 0;
  return tensors.map((tensor) => {
    const { name, shape, type } = tensor;
    const traits = ggmlTypeTraits(type);
    if (names.has(name)) throw new Error(`tensor "${name}" is given twice`);
    names.add(name);
    if (utf8.encode(name).length > GGML_MAX_NAME_BYTES)
      throw new Error(`tensor name "${name}" is longer than ${GGML_MAX_NAME_BYTES} bytes`);
    if (traits === undefined) throw new Error(`tensor "${name}" has unknown ggml type ${type}`);
    if (
      shape.length === 0 ||
      shape.length > GGML_MAX_DIMS ||
      !shape.every((dim) => Number.isSafeInteger(dim) && dim > 0)
    ) {
      throw new Error(`tensor "${name}" has invalid shape [${shape.join(", ")}]`);
    }
    if ((shape[0] ?? 0) % traits.blockSize !== 0) {
      throw new Error(
        `tensor "${name}" has rows of ${shape[0]} elements, not a multiple of the ${traits.name} block size ${traits.blockSize}`,
      );
    }
    const byteLength = Number(ggmlTensorByteLength(shape, type));
    const placed = { tensor, byteLength, offset };
    offset += alignUp(byteLength, alignment);
    return placed;
  });
}

const utf8 = new TextEncoder();

function encodeHeader(
  entries: readonly (readonly [string, GgufTypedValue])[],
  layout: readonly PlacedTensor[],
): Uint8Array {
  const out = new ByteBuilder();
  out.bytes(GGUF_MAGIC);
  out.u32(GGUF_VERSION);
  out.u64(layout.length);
  out.u64(entries.length);
  const keys = new Set<string>();
  for (const [key, typed] of entries) {
    if (keys.has(key)) throw new Error(`metadata key "${key}" is given twice`);
    keys.add(key);
    out.string(key);
    out.u32(typed.type);
    if (typed.type === GgufValueType.ARRAY) {
      out.u32(typed.itemType);
      out.u64(typed.value.length);
      for (const item of typed.value) encodeScalar(out, key, typed.itemType, item);
    } else {
      encodeScalar(out, key, typed.type, typed.value);
    }
  }
  for (const { tensor, offset } of layout) {
    out.string(tensor.name);
    out.u32(tensor.shape.length);
    for (const dim of tensor.shape) out.u64(dim);
    out.u32(tensor.type);
    out.u64(offset);
  }
  return out.result();
}

const INTEGER_RANGES = new Map<number, readonly [bigint, bigint]>([
  [GgufValueType.UINT8, [0n, 0xffn]],
  [GgufValueType.INT8, [-0x80n, 0x7fn]],
  [GgufValueType.UINT16, [0n, 0xffffn]],
  [GgufValueType.INT16, [-0x8000n, 0x7fffn]],
  [GgufValueType.UINT32, [0n, 0xffff_ffffn]],
  [GgufValueType.INT32, [-0x8000_0000n, 0x7fff_ffffn]],
  [GgufValueType.UINT64, [0n, 0xffff_ffff_ffff_ffffn]],
  [GgufValueType.INT64, [-0x8000_0000_0000_0000n, 0x7fff_ffff_ffff_ffffn]],
]);

function encodeScalar(out: ByteBuilder, key: string, type: GgufScalarType, value: GgufScalar): void {
  const mismatch = () =>
    new TypeError(`metadata key "${key}": ${String(value)} is not a valid ${ggufValueTypeName(type)}`);
  const range = INTEGER_RANGES.get(type);
  if (range !== undefined) {
    if ((typeof value !== "number" || !Number.isInteger(value)) && typeof value !== "bigint") throw mismatch();
    const integer = BigInt(value);
    if (integer < range[0] || integer > range[1]) throw mismatch();
    out.integer(type, integer);
    return;
  }
  switch (type) {
    case GgufValueType.FLOAT32:
    case GgufValueType.FLOAT64:
      if (typeof value !== "number") throw mismatch();
      out.float(type, value);
      return;
    case GgufValueType.BOOL:
      if (typeof value !== "boolean") throw mismatch();
      out.integer(GgufValueType.UINT8, value ? 1n : 0n);
      return;
    case GgufValueType.STRING:
      if (typeof value !== "string") throw mismatch();
      out.string(value);
      return;
    default:
      throw mismatch();
  }
}

/** A growable little-endian byte buffer for the header, which is small next to the tensor data. */
class ByteBuilder {
  private buffer = new Uint8Array(1 << 16);
  private view = new DataView(this.buffer.buffer);
  private length = 0;

  bytes(data: Uint8Array): void {
    this.reserve(data.length).set(data);
  }

  u32(value: number): void {
    this.integer(GgufValueType.UINT32, BigInt(value));
  }

  u64(value: number): void {
    this.integer(GgufValueType.UINT64, BigInt(value));
  }

  string(value: string): void {
    const encoded = utf8.encode(value);
    this.u64(encoded.length);
    this.bytes(encoded);
  }

  integer(type: number, value: bigint): void {
    const at = this.length;
    switch (type) {
      case GgufValueType.UINT8:
      case GgufValueType.INT8:
        this.reserve(1);
        this.view.setUint8(at, Number(BigInt.asUintN(8, value)));
        return;
      case GgufValueType.UINT16:
      case GgufValueType.INT16:
        this.reserve(2);
        this.view.setUint16(at, Number(BigInt.asUintN(16, value)), true);
        return;
      case GgufValueType.UINT32:
      case GgufValueType.INT32:
        this.reserve(4);
        this.view.setUint32(at, Number(BigInt.asUintN(32, value)), true);
        return;
      default:
        this.reserve(8);
        this.view.setBigUint64(at, BigInt.asUintN(64, value), true);
    }
  }

  float(type: typeof GgufValueType.FLOAT32 | typeof GgufValueType.FLOAT64, value: number): void {
    const at = this.length;
    if (type === GgufValueType.FLOAT32) {
      this.reserve(4);
      this.view.setFloat32(at, value, true);
    } else {
      this.reserve(8);
      this.view.setFloat64(at, value, true);
    }
  }

  result(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }

  /** Grows the buffer if needed and returns the `size` bytes just appended. */
  private reserve(size: number): Uint8Array {
    if (this.length + size > this.buffer.length) {
      const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + size));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
      this.view = new DataView(grown.buffer);
    }
    const start = this.length;
    this.length += size;
    return this.buffer.subarray(start, this.length);
  }
}

/** Appends to a file handle, tracking the position so padding can be computed. */
class SequentialWriter {
  private position = 0;

  constructor(private readonly handle: FileHandle) {}

  async write(data: Uint8Array): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.handle.write(data, done, data.length - done, this.position + done);
      done += bytesWritten;
    }
    this.position += data.length;
  }

  async padTo(alignment: number): Promise<void> {
    const padding = alignUp(this.position, alignment) - this.position;
    if (padding > 0) await this.write(new Uint8Array(padding));
  }
}
