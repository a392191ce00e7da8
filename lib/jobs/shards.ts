// Cutting a line-based input into shards of N lines by byte range, in one streaming pass that
// also hashes the file and each shard's bytes: the submitter never holds more than one read
// block, whatever the size. The file's hash is the input's identity in the job id; a shard's hash
// is what its worker checks the bytes it reads against, so an input edited after the submit is
// refused rather than embedded.
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
