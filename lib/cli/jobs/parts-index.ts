// `index build --from DIR`: a finished distributed job's parts loaded into a sentence table
// without embedding anything again. Each part is checked against the sha256 its manifest
// recorded; the table records the job's model and options, as `index build --input` would for
// the same flags, so either can add to a table the other made and `search` embeds queries alike.
import { createReadStream } from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import type { IndexSettings } from "../../vector-index/settings.js";
import type { IndexRow } from "../../vector-index/vector-index.js";
import { recordId } from "../inputs.js";
import type { Manifest } from "./manifest.js";
import { checked, readCompleteManifest } from "./merge.js";

interface PartRecord {
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

/** What `index build --input` records for the same model and flags. */
export function jobIndexSettings(manifest: Manifest, dimensions: number): IndexSettings {
  const { pooling, normalize, truncate, layers, window, dimensions: kept, prompt } = manifest.options;
  return {
    kind: "sentences",
    model: { reference: manifest.model.given, name: manifest.model.name, sha256: manifest.model.sha256 },
    dimensions,
    embed: {
      ...(pooling !== undefined ? { pooling } : prompt ? {} : { pooling: "model" }),
      ...(prompt ? { prompt: prompt as NonNullable<IndexSettings["embed"]>["prompt"] } : {}),
      normalize,
      truncate,
      ...(layers === undefined ? {} : { layers }),
      ...(window === undefined ? {} : { window }),
      ...(kept === undefined ? {} : { dimensions: kept }),
    },
  };
}

function rowOf(line: string): IndexRow {
  const record = JSON.parse(line) as PartRecord;
  return { id: recordId(record), vector: Float32Array.from(record.embedding) };
}

/** Every part's records in input order, each part's bytes checked against the manifest as they are read. */
export async function* jobRows(directory: string, manifest: Manifest): AsyncGenerator<IndexRow> {
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
      for (const line of lines) if (line !== "") yield rowOf(line);
    }
    const rest = pending + decoder.end();
    if (rest.trim() !== "") yield rowOf(rest);
  }
}
