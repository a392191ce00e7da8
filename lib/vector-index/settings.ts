// What an index was built with, kept in its table's schema metadata: the model (by checksum,
// so that a renamed or re-converted file is caught) and every option that changes the stored
// vectors. A query must be embedded the same way, or its scores mean nothing.
import type { EmbedOptions } from "../embedding/embed-options.js";
import type { EmbeddingModel } from "../embedding/embedding-model.js";
import { sha256File } from "../hub/wheel.js";
import type { CandidateOptions } from "../phrases/candidates.js";
import type { PhraseVectorOptions } from "../phrases/phrase-vectors.js";

export const indexKinds = ["sentences", "phrases"] as const;
export type IndexKind = (typeof indexKinds)[number];

export interface IndexModel {
  /** what was given to load it: a catalogue name or a GGUF path */
  reference: string;
  /** general.name of the GGUF */
  name: string;
  /** sha256 of the GGUF file */
  sha256: string;
}

export interface IndexSettings {
  kind: IndexKind;
  model: IndexModel;
  /** width of the stored vectors */
  dimensions: number;
  /** sentences: the embed options the vectors were made with (a prompt with fixed demonstrations only, so that it is JSON) */
  embed?: Pick<EmbedOptions, "pooling" | "normalize" | "truncate" | "layers" | "window" | "dimensions" | "prompt">;
  /** phrases: how candidates were chosen and read */
  phrases?: Required<CandidateOptions> & PhraseVectorOptions;
}

/** The most hits one search returns. */
export const maxK = 1000;
/** Rows from which a table gets an ANN index; below it, exact search is fast enough (docs/index.md). */
export const defaultAnnThreshold = 100_000;

/** The schema metadata key that holds the settings as JSON. */
export const settingsKey = "ctxembed.index";

const checksums = new Map<string, Promise<string>>();

/** The sha256 of a model's file, computed once per file and process. */
export function modelChecksum(model: EmbeddingModel): Promise<string> {
  let checksum = checksums.get(model.info.path);
  if (!checksum) {
    checksum = sha256File(model.info.path);
    checksums.set(model.info.path, checksum);
  }
  return checksum;
}

export async function indexModelOf(model: EmbeddingModel, reference: string): Promise<IndexModel> {
  return { reference, name: model.info.name, sha256: await modelChecksum(model) };
}

/** Refuses a model other than the one the index was built with. */
export async function requireIndexModel(settings: IndexSettings, model: EmbeddingModel, where: string): Promise<void> {
  const sha256 = await modelChecksum(model);
  if (sha256 !== settings.model.sha256) {
    throw new IndexModelMismatchError(
      `${where} was built with the model ${settings.model.name} (${settings.model.reference}, sha256 ${settings.model.sha256.slice(0, 12)}…), ` +
        `not ${model.info.name} (${model.info.path}, sha256 ${sha256.slice(0, 12)}…): its vectors are not comparable; query it with its own model (leave --model out)`,
    );
  }
}

export class IndexModelMismatchError extends Error {
  override name = "IndexModelMismatchError";
}

/** The settings without the model's reference, as JSON: two builds are compatible when these agree. */
function vectorDefining(settings: IndexSettings): string {
  const { model, ...rest } = settings;
  return JSON.stringify({ ...rest, sha256: model.sha256 });
}

/** Refuses to add vectors made another way to an existing table. */
export function requireSameSettings(stored: IndexSettings, given: IndexSettings, where: string): void {
  if (vectorDefining(stored) !== vectorDefining(given)) {
    throw new IndexModelMismatchError(
      `${where} was built with other settings than these, so the vectors would not be comparable:\n  stored: ${vectorDefining(stored)}\n  given:  ${vectorDefining(given)}\n` +
        "build into another --index or --table, or give the same options",
    );
  }
}
