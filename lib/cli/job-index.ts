// `index build --from DIR`: a finished distributed job's parts loaded into a sentence table
// without embedding anything again. The table records the job's model and options, as `index
// build --input` would for the same flags, so either can add to a table the other made and
// `search` embeds queries alike. Every part is checked before the table is opened.
import type { Manifest } from "../jobs/manifest.js";
import { verifyParts } from "../jobs/merge.js";
import { jobRecords, readIndexableManifest as readManifestOfParts } from "../jobs/part-rows.js";
import type { IndexSettings } from "../vector-index/settings.js";
import type { IndexRow } from "../vector-index/vector-index.js";
import { recordId } from "./inputs.js";

/** The job's manifest, once every part has passed its check: no row reaches a table before all do. */
export async function readIndexableManifest(directory: string): Promise<Manifest> {
  const manifest = await readManifestOfParts(directory);
  await verifyParts(directory, manifest);
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

/** Every part's rows in input order, each part's bytes checked against the manifest as they are read. */
export async function* jobRows(directory: string, manifest: Manifest): AsyncGenerator<IndexRow> {
  for await (const record of jobRecords(directory, manifest))
    yield { id: recordId(record), vector: Float32Array.from(record.embedding) };
}
