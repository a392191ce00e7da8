// The sense dictionary on disk, one file:
//   magic "CTXSENSE" | u32 format version | u32 index length | JSON index (UTF-8, padded to 4 bytes)
//   | float32 little-endian centroids, row after row | SHA-256 of everything before it.
// The index names each word's senses by row; every length, row and the checksum are checked on
// load, so a truncated or altered file is refused instead of read as wrong vectors.
import { createHash } from "node:crypto";
import { endianness } from "node:os";
import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "../util/atomic-file.js";
import { describe } from "../util/validate.js";
import { SenseDictionary, type DictionarySettings, type WordSenses } from "./dictionary.js";

const magic = Buffer.from("CTXSENSE", "ascii");
export const dictionaryFormatVersion = 1;
const checksumBytes = 32;

interface IndexFile {
  settings: DictionarySettings;
  rows: number;
  words: { word: string; occurrences: number; senses: { row: number; samples: number; contexts: string[] }[] }[];
}

// Float32Array views read and write the host's byte order; the format is little-endian.
function requireLittleEndian(): void {
  if (endianness() !== "LE") throw new Error("sense dictionaries are little-endian and this host is not");
}

export function encodeDictionary(dictionary: SenseDictionary): Buffer {
  requireLittleEndian();
  const { dimensions } = dictionary.settings;
  const centroids: Float32Array[] = [];
  const words = [...dictionary.words].map(({ word, occurrences, senses }) => ({
    word,
    occurrences,
    senses: senses.map(({ centroid, samples, contexts }) => ({ row: centroids.push(centroid) - 1, samples, contexts })),
  }));
  const index: IndexFile = { settings: dictionary.settings, rows: centroids.length, words };
  const json = Buffer.from(JSON.stringify(index), "utf8");
  const padded = Buffer.concat([json, Buffer.alloc((4 - (json.length % 4)) % 4, 0x20)]);
  const header = Buffer.alloc(magic.length + 8);
  magic.copy(header);
  header.writeUInt32LE(dictionaryFormatVersion, magic.length);
  header.writeUInt32LE(padded.length, magic.length + 4);
  const vectors = new Float32Array(centroids.length * dimensions);
  centroids.forEach((centroid, row) => {
    if (centroid.length !== dimensions)
      throw new RangeError(`a centroid has ${centroid.length} dimensions, the dictionary ${dimensions}`);
    vectors.set(centroid, row * dimensions);
  });
  const body = Buffer.concat([header, padded, Buffer.from(vectors.buffer)]);
  return Buffer.concat([body, createHash("sha256").update(body).digest()]);
}

function corrupt(reason: string): Error {
  return new Error(`not a valid sense dictionary: ${reason}`);
}

function checkIndex(index: unknown): IndexFile {
  const candidate = index as Partial<IndexFile>;
  const settings = candidate?.settings;
  if (
    !settings ||
    typeof settings.model !== "string" ||
    !Number.isInteger(settings.dimensions) ||
    settings.dimensions < 0
  ) {
    throw corrupt(`the index has no valid settings (${describe(settings)})`);
  }
  if (!Number.isInteger(candidate.rows) || candidate.rows! < 0 || !Array.isArray(candidate.words))
    throw corrupt("the index lacks rows or words");
  for (const entry of candidate.words) {
    const ok =
      typeof entry?.word === "string" &&
      Number.isInteger(entry.occurrences) &&
      Array.isArray(entry.senses) &&
      entry.senses.length > 0 &&
      entry.senses.every(
        (s) =>
          Number.isInteger(s?.row) &&
          s.row >= 0 &&
          s.row < candidate.rows! &&
          Number.isInteger(s.samples) &&
          Array.isArray(s.contexts),
      );
    if (!ok) throw corrupt(`bad index entry ${describe(entry)}`);
  }
  return candidate as IndexFile;
}

export function decodeDictionary(bytes: Buffer): SenseDictionary {
  requireLittleEndian();
  const headerLength = magic.length + 8;
  if (bytes.length < headerLength + checksumBytes || !bytes.subarray(0, magic.length).equals(magic))
    throw corrupt("missing the CTXSENSE header");
  const version = bytes.readUInt32LE(magic.length);
  if (version !== dictionaryFormatVersion)
    throw corrupt(`format version ${version}, this ctxembed reads version ${dictionaryFormatVersion}`);
  const body = bytes.subarray(0, bytes.length - checksumBytes);
  if (
    !createHash("sha256")
      .update(body)
      .digest()
      .equals(bytes.subarray(bytes.length - checksumBytes))
  )
    throw corrupt("checksum mismatch (truncated or altered)");
  const indexLength = bytes.readUInt32LE(magic.length + 4);
  if (headerLength + indexLength > body.length || indexLength % 4 !== 0)
    throw corrupt(`index length ${indexLength} does not fit the file`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.subarray(headerLength, headerLength + indexLength).toString("utf8"));
  } catch (error) {
    throw corrupt(`the index is not JSON (${(error as Error).message})`);
  }
  const index = checkIndex(parsed);
  const { dimensions } = index.settings;
  const blobStart = headerLength + indexLength;
  if (body.length - blobStart !== index.rows * dimensions * 4)
    throw corrupt(`${body.length - blobStart} vector bytes for ${index.rows} rows of ${dimensions}`);
  // Copied out (slice) so that the view is aligned whatever the Buffer's offset in its pool.
  const start = body.byteOffset + blobStart;
  const vectors = new Float32Array(body.buffer.slice(start, start + index.rows * dimensions * 4));
  const words: WordSenses[] = index.words.map(({ word, occurrences, senses }) => ({
    word,
    occurrences,
    senses: senses.map(({ row, samples, contexts }) => ({
      centroid: vectors.subarray(row * dimensions, (row + 1) * dimensions),
      samples,
      contexts,
    })),
  }));
  return new SenseDictionary(index.settings, words);
}

export async function saveDictionary(dictionary: SenseDictionary, path: string): Promise<void> {
  await writeFileAtomic(path, encodeDictionary(dictionary));
}

export async function loadDictionary(path: string): Promise<SenseDictionary> {
  return decodeDictionary(await readFile(path));
}
