// Cutting a line-based input into shards of N lines by byte range, in one streaming pass that
// also hashes the file: the submitter never holds more than one read block, whatever the size,
// and the hash is the input's identity in the job id.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

/** A shard: bytes [start, end) of the input, which begin at 0-based line `firstLine`. */
export interface Shard {
  index: number;
  start: number;
  end: number;
  firstLine: number;
  /** lines in the range (the last shard may have fewer than the shard size) */
  lines: number;
}

export interface ScannedInput {
  bytes: number;
  lines: number;
  sha256: string;
  shards: Shard[];
}

export async function scanShards(path: string, shardSize: number): Promise<ScannedInput> {
  const hash = createHash("sha256");
  const shards: Shard[] = [];
  let offset = 0;
  let lines = 0;
  let shardStart = 0;
  const close = (end: number, shardLines: number): void => {
    shards.push({ index: shards.length, start: shardStart, end, firstLine: lines - shardLines, lines: shardLines });
    shardStart = end;
  };
  let inShard = 0;
  let afterLastNewline = 0;
  for await (const block of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(block);
    for (let at = block.indexOf(10); at >= 0; at = block.indexOf(10, at + 1)) {
      lines++;
      afterLastNewline = offset + at + 1;
      if (++inShard === shardSize) {
        close(afterLastNewline, inShard);
        inShard = 0;
      }
    }
    offset += block.length;
  }
  // A last line without a newline is a line too, as readline reads it.
  if (offset > afterLastNewline) {
    lines++;
    inShard++;
  }
  if (inShard > 0) close(offset, inShard);
  return { bytes: offset, lines, sha256: hash.digest("hex"), shards };
}
