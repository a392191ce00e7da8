// The records of a finished job's JSON lines parts, for `index build --from DIR` to load into a
// table without embedding anything again. Each part is checked against the sha256 its manifest
// recorded.
import { createReadStream } from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import type { Manifest } from "./manifest.js";
import { checked, readCompleteManifest } from "./merge.js";

export interface PartRecord {
  index: number;
  id?: unknown;
  embedding: number[];
}

/** The job's manifest, refused unless every shard is committed as float32 JSON lines (what a table stores). */
export async function readIndexableManifest(directory: string): Promise<Manifest> {
  const manifest = await readCompleteManifest(directory, "indexing");
  const { format, precision } = manifest.output;
  if (format !== "jsonl" || precision !== "float32")
    throw new Error(
      `${directory} holds ${format} parts at ${precision}: index build --from reads float32 JSON lines parts (embed --queue without --format and --precision)`,
    );
  if (typeof manifest.options.prompt?.examples === "object" && !Array.isArray(manifest.options.prompt.examples))
    throw new Error(
      `${directory} was embedded with retrieved demonstrations, which a table cannot record for its queries: give fixed --examples`,
    );
  return manifest;
}

/** Every part's records in input order, each part's bytes checked against the manifest as they are read. */
export async function* jobRecords(directory: string, manifest: Manifest): AsyncGenerator<PartRecord> {
  for (const part of manifest.parts) {
    if (part.name === "") continue;
    const path = join(directory, part.name);
    // pipeline destroys both streams on either's error (a read error, a sha256 mismatch), which ends the loop with it.
    const bytes = pipeline(createReadStream(path), checked(part, path), () => {});
    const decoder = new StringDecoder("utf8");
    let pending = "";
    for await (const chunk of bytes as AsyncIterable<Buffer>) {
      const lines = (pending + decoder.write(chunk)).split("\n");
      pending = lines.pop()!;
      for (const line of lines) if (line !== "") yield JSON.parse(line) as PartRecord;
    }
    const rest = pending + decoder.end();
    if (rest.trim() !== "") yield JSON.parse(rest) as PartRecord;
  }
}
