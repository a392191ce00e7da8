// A check of a LanceDB table's data files before LanceDB reads them. LanceDB's reader panics on a
// data file whose footer or offset tables are damaged, and Rust's default panic hook prints
// "thread '...' panicked at ..." on the process's stderr before the error reaches JavaScript: no
// option of LanceDB's turns that notice off, so the damage is found here first. The check reads
// each data file's last bytes (Lance file format 2.x: a 40-byte footer after the column metadata
// offsets and the global buffer offsets), nothing of the data itself.
import { open, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

/** Lance v2 files end in these 40 bytes: three offsets, two counts, the version and "LANC". */
const footerBytes = 40;
const magic = "LANC";
/** An offset table's entry: a position and a size, both u64. */
const entryBytes = 16;

/**
 * What is wrong with one Lance file's tail, or undefined when its footer and offset tables are
 * consistent with each other and with the file's size.
 */
export function lanceFileDamage(tail: Buffer, fileSize: number): string | undefined {
  if (fileSize < footerBytes || tail.length < footerBytes) return `it has ${fileSize} bytes, fewer than a footer`;
  const footer = tail.subarray(tail.length - footerBytes);
  if (footer.toString("latin1", 36, 40) !== magic) return `it does not end in "${magic}"`;
  const major = footer.readUInt16LE(32);
  // Files of the legacy format (0.x) have another footer; only their magic is checked.
  if (major < 2) return undefined;
  if (major > 2) return `its format version ${major}.${footer.readUInt16LE(34)} is not one LanceDB 2.x writes`;
  const columnMetaStart = footer.readBigUInt64LE(0);
  const columnOffsetsStart = footer.readBigUInt64LE(8);
  const bufferOffsetsStart = footer.readBigUInt64LE(16);
  const bufferCount = BigInt(footer.readUInt32LE(24));
  const columnCount = BigInt(footer.readUInt32LE(28));
  const size = BigInt(fileSize);
  const entry = BigInt(entryBytes);
  if (
    !(columnMetaStart <= columnOffsetsStart && columnOffsetsStart + columnCount * entry === bufferOffsetsStart) ||
    bufferOffsetsStart + bufferCount * entry + BigInt(footerBytes) !== size
  )
    return "its footer's offsets do not add up to its size";
  const tables = Number(size - columnOffsetsStart);
  if (tail.length < tables) return undefined;
  const offsets = tail.subarray(tail.length - tables);
  const inRange = (at: number, from: bigint, to: bigint) => {
    const position = offsets.readBigUInt64LE(at);
    return position >= from && position + offsets.readBigUInt64LE(at + 8) <= to;
  };
  for (let i = 0; i < Number(columnCount); i++)
    if (!inRange(i * entryBytes, columnMetaStart, columnOffsetsStart))
      return `column ${i}'s metadata lies outside the metadata section`;
  for (let i = 0; i < Number(bufferCount); i++)
    if (!inRange(Number(columnCount + BigInt(i)) * entryBytes, 0n, columnMetaStart))
      return `global buffer ${i} lies outside the data section`;
  return undefined;
}

/** The manifest of `version`: named by the version (legacy) or by u64::MAX minus it, zero-padded. */
async function readManifest(tablePath: string, version: number): Promise<Buffer | undefined> {
  const inverted = (2n ** 64n - 1n - BigInt(version)).toString().padStart(20, "0");
  for (const name of [`${inverted}.manifest`, `${version}.manifest`]) {
    const bytes = await readFile(join(tablePath, "_versions", name)).catch(() => undefined);
    if (bytes) return bytes;
  }
  return undefined;
}

/** Bytes read from a file's end: enough for the footer and the offset tables of any ctxembed table. */
const tailBytes = 64 * 1024;

/**
 * The first damaged data file of a table's `version` (the table's directory, `<name>.lance`), as a
 * sentence, or undefined. Only files the version's manifest names are read: a writer killed
 * mid-write leaves a partial file that no version uses, and that is no damage.
 */
export async function damagedDataFile(tablePath: string, version: number): Promise<string | undefined> {
  const manifest = await readManifest(tablePath, version);
  // LanceDB found the version's manifest where this does not look: nothing to check against.
  if (!manifest) return undefined;
  // The manifest is protobuf, in which each data file's path is a string: every name ending in
  // ".lance" that occurs in it, found in one pass whatever the number of fragments. The byte
  // before a string is its length, itself a letter or digit for names 48 to 122 bytes long, so
  // each match counts with and without its first character.
  const named = new Set(
    (manifest.toString("latin1").match(/[\w-]+\.lance/g) ?? []).flatMap((match) => [match, match.slice(1)]),
  );
  const dataPath = join(tablePath, "data");
  const names = await readdir(dataPath).catch(() => [] as string[]);
  for (const name of names) {
    if (!named.has(name)) continue;
    const handle = await open(join(dataPath, name));
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, tailBytes);
      const tail = Buffer.alloc(length);
      await handle.read(tail, 0, length, size - length);
      const damage = lanceFileDamage(tail, size);
      if (damage) return `its data file ${name} is damaged: ${damage}`;
    } finally {
      await handle.close();
    }
  }
  return undefined;
}
