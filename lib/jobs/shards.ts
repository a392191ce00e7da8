// Cutting a line-based input into shards of N lines by byte range, in one streaming pass that
// also hashes the file and each shard's bytes: the submitter never holds more than one read
// block, whatever the size. The file's hash is the input's identity in the job id; a shard's hash
// is what its worker checks the bytes it reads against, so an input edited after the submit is
// refused rather than embedded. The shards' ranges and hashes travel as one binary table, written
// once into the output folder and pinned by its sha256 in the job's spec, rather than in each
// shard's Redis entry.
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";

/** A shard: bytes [start, end) of the input, which begin at 0-based line `firstLine`. */
export interface Shard {
  index: number;
  start: number;
  end: number;
  firstLine: number;
  /** lines in the range (the last shard may have fewer than the shard size) */
  lines: number;
  /** sha256 of the range's bytes */
  sha256: string;
}

export interface ScannedInput {
  bytes: number;
  lines: number;
  sha256: string;
  shards: Shard[];
}

export interface ScanOptions {
  /** a line longer than this (newline included) is refused: workers would have to hold it whole */
  maxLineBytes?: number;
}

export async function scanShards(path: string, shardSize: number, options: ScanOptions = {}): Promise<ScannedInput> {
  const { maxLineBytes = Number.POSITIVE_INFINITY } = options;
  const hash = createHash("sha256");
  let shardHash: Hash = createHash("sha256");
  const shards: Shard[] = [];
  let offset = 0;
  let lines = 0;
  let shardStart = 0;
  const close = (end: number, shardLines: number): void => {
    shards.push({
      index: shards.length,
      start: shardStart,
      end,
      firstLine: lines - shardLines,
      lines: shardLines,
      sha256: shardHash.digest("hex"),
    });
    shardHash = createHash("sha256");
    shardStart = end;
  };
  const checkLine = (end: number, lineStart: number): void => {
    if (end - lineStart > maxLineBytes)
      throw new Error(
        `${path}: line ${lines + 1} is ${end - lineStart} bytes, over the limit of ${maxLineBytes} (--max-line-bytes)`,
      );
  };
  let inShard = 0;
  let afterLastNewline = 0;
  for await (const block of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(block);
    let hashedTo = 0;
    for (let at = block.indexOf(10); at >= 0; at = block.indexOf(10, at + 1)) {
      checkLine(offset + at + 1, afterLastNewline);
      lines++;
      afterLastNewline = offset + at + 1;
      if (++inShard === shardSize) {
        shardHash.update(block.subarray(hashedTo, at + 1));
        hashedTo = at + 1;
        close(afterLastNewline, inShard);
        inShard = 0;
      }
    }
    shardHash.update(block.subarray(hashedTo));
    offset += block.length;
    checkLine(offset, afterLastNewline);
  }
  // A last line without a newline is a line too, as readline reads it.
  if (offset > afterLastNewline) {
    lines++;
    inShard++;
  }
  if (inShard > 0) close(offset, inShard);
  return { bytes: offset, lines, sha256: hash.digest("hex"), shards };
}

/**
 * The sha256 of bytes [start, end) of a file, read as a stream, and the longest line in it: a
 * worker checks both before it parses a line, so neither an edited input nor an over-long line
 * reaches the model.
 */
export async function readRangeIdentity(
  path: string,
  start: number,
  end: number,
): Promise<{ sha256: string; bytes: number; longestLine: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  let lineStart = 0;
  let longestLine = 0;
  for await (const block of createReadStream(path, { start, end: end - 1 }) as AsyncIterable<Buffer>) {
    hash.update(block);
    for (let at = block.indexOf(10); at >= 0; at = block.indexOf(10, at + 1)) {
      longestLine = Math.max(longestLine, bytes + at + 1 - lineStart);
      lineStart = bytes + at + 1;
    }
    bytes += block.length;
  }
  longestLine = Math.max(longestLine, bytes - lineStart);
  return { sha256: hash.digest("hex"), bytes, longestLine };
}

/** The shard table's name in the output folder, beside job.json. */
export const shardTableFile = "shards.bin";

/** Per shard: the end of its byte range (48-bit big-endian, 256 TB) and the sha256 of its bytes. */
const endBytes = 6;
const recordBytes = endBytes + 32;

/** The shard table: the ends and hashes of every shard in order (each begins where the one before ends). */
export function encodeShardTable(shards: Pick<Shard, "end" | "sha256">[]): Buffer {
  const table = Buffer.alloc(shards.length * recordBytes);
  shards.forEach((shard, index) => {
    table.writeUIntBE(shard.end, index * recordBytes, endBytes);
    table.write(shard.sha256, index * recordBytes + endBytes, 32, "hex");
  });
  return table;
}

export interface ShardTableJob {
  input: { bytes: number; lines: number };
  shardSize: number;
  shardCount: number;
}

/**
 * Shard `index` from a table already checked against the job's sha256: its range, its lines
 * (every shard but the last holds shardSize) and its hash. A table that does not fit the job
 * (length, an empty or backward range, a range past the input) is refused, not trusted.
 */
export function shardFromTable(table: Buffer, job: ShardTableJob, index: number): Shard {
  if (table.length !== job.shardCount * recordBytes)
    throw new Error(
      `the shard table holds ${table.length} bytes, not the ${job.shardCount * recordBytes} of ${job.shardCount} shards`,
    );
  const start = index === 0 ? 0 : table.readUIntBE((index - 1) * recordBytes, endBytes);
  const end = table.readUIntBE(index * recordBytes, endBytes);
  const firstLine = index * job.shardSize;
  const lines = Math.min(job.shardSize, job.input.lines - firstLine);
  if (end <= start || end > job.input.bytes || lines <= 0)
    throw new Error(
      `shard ${index} of the shard table (bytes ${start}-${end}, lines from ${firstLine + 1}) does not lie inside the input's ${job.input.bytes} bytes and ${job.input.lines} lines`,
    );
  const sha256 = table.toString("hex", index * recordBytes + endBytes, (index + 1) * recordBytes);
  return { index, start, end, firstLine, lines, sha256 };
}
