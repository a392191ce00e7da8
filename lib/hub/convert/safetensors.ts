import { open, type FileHandle } from "node:fs/promises";

export interface SafetensorsTensor {
  name: string;
  /** safetensors dtype name: "F32", "F16", "BF16", "I64", ... */
  dtype: string;
  /** row-major (PyTorch) order */
  shape: number[];
  /** absolute byte offset of the data in the file */
  start: number;
  byteLength: number;
}

const DTYPE_BYTES: ReadonlyMap<string, number> = new Map([
  ["BOOL", 1],
  ["U8", 1],
  ["I8", 1],
  ["F8_E5M2", 1],
  ["F8_E4M3", 1],
  ["I16", 2],
  ["U16", 2],
  ["F16", 2],
  ["BF16", 2],
  ["I32", 4],
  ["U32", 4],
  ["F32", 4],
  ["I64", 8],
  ["U64", 8],
  ["F64", 8],
]);

// The reference implementation refuses headers above 100 MB; nothing legitimate comes close.
const MAX_HEADER_BYTES = 100_000_000;

/** An open safetensors file: its tensor index, and their data read on demand in bounded chunks. */
export class SafetensorsFile {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    /** in the order they appear in the header */
    readonly tensors: ReadonlyMap<string, SafetensorsTensor>,
  ) {}

  static async open(path: string): Promise<SafetensorsFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, "r");
    } catch (error) {
      throw new Error(`cannot open safetensors file ${path}: ${(error as Error).message}`);
    }
    try {
      return new SafetensorsFile(path, handle, await readIndex(path, handle));
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Yields the tensor's bytes in pieces of at most `maxChunkBytes` (rounded down to whole elements). */
  async *chunks(tensor: SafetensorsTensor, maxChunkBytes: number): AsyncGenerator<Uint8Array> {
    const elementBytes = DTYPE_BYTES.get(tensor.dtype) ?? 1;
    const chunkBytes = Math.max(elementBytes, maxChunkBytes - (maxChunkBytes % elementBytes));
    for (let done = 0; done < tensor.byteLength; ) {
      // A fresh, aligned buffer each time so callers may view it as a typed array and keep it.
      const chunk = new Uint8Array(Math.min(chunkBytes, tensor.byteLength - done));
      await readExactly(
        this.handle,
        chunk,
        tensor.start + done,
        () => `${this.path}: the data of tensor "${tensor.name}" ends early`,
      );
      done += chunk.length;
      yield chunk;
    }
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

async function readIndex(path: string, handle: FileHandle): Promise<Map<string, SafetensorsTensor>> {
  const corrupt = (detail: string) => new Error(`${path} is not a valid safetensors file: ${detail}; re-download it`);
  const fileSize = (await handle.stat()).size;
  if (fileSize < 8) throw corrupt(`it has only ${fileSize} bytes`);

  const lengthBytes = new Uint8Array(8);
  await readExactly(handle, lengthBytes, 0, () => corrupt("the header length cannot be read").message);
  const headerLength = new DataView(lengthBytes.buffer).getBigUint64(0, true);
  if (headerLength > BigInt(Math.min(fileSize - 8, MAX_HEADER_BYTES))) {
    throw corrupt(`the header claims ${headerLength} bytes but the file has ${fileSize}`);
  }
  const headerBytes = new Uint8Array(Number(headerLength));
  await readExactly(handle, headerBytes, 8, () => corrupt("the header cannot be read").message);

  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(headerBytes));
  } catch (error) {
    throw corrupt(`its header is not valid JSON (${(error as Error).message})`);
  }
  if (!isRecord(header)) throw corrupt("its header is not a JSON object");

  const dataStart = 8 + Number(headerLength);
  const dataSize = fileSize - dataStart;
  const tensors = new Map<string, SafetensorsTensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const tensor = parseEntry(name, entry, dataStart, dataSize);
    if (typeof tensor === "string") throw corrupt(`tensor "${name}" ${tensor}`);
    tensors.set(name, tensor);
  }
  return tensors;
}

/** Returns the tensor, or what is wrong with its entry. */
function parseEntry(name: string, entry: unknown, dataStart: number, dataSize: number): SafetensorsTensor | string {
  if (!isRecord(entry)) return "has an entry that is not an object";
  const { dtype, shape, data_offsets: offsets } = entry;
  if (typeof dtype !== "string") return "has no dtype";
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) return "has an invalid shape";
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger)) {
    return "has invalid data_offsets";
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end || end > dataSize) {
    return `has data at ${begin}..${end}, outside the ${dataSize} bytes of tensor data in the file (is the file truncated?)`;
  }
  const elementBytes = DTYPE_BYTES.get(dtype);
  const elements = (shape as number[]).reduce((product, dim) => product * dim, 1);
  if (elementBytes !== undefined && elements * elementBytes !== end - begin) {
    return `has shape [${shape.join(", ")}] of ${dtype}, which needs ${elements * elementBytes} bytes, but its data_offsets span ${end - begin}`;
  }
  return { name, dtype, shape: shape as number[], start: dataStart + begin, byteLength: end - begin };
}

async function readExactly(
  handle: FileHandle,
  target: Uint8Array,
  position: number,
  describeShortRead: () => string,
): Promise<void> {
  for (let filled = 0; filled < target.length; ) {
    const { bytesRead } = await handle.read(target, filled, target.length - filled, position + filled);
    if (bytesRead === 0) throw new Error(describeShortRead());
    filled += bytesRead;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}
