// A distributed-jobs worker for measuring per-shard overhead only (npm run bench -- --distributed):
// the library's worker (runWorker: the queue, the spec and shard table checks, the byte-range
// hash, the lock, the commit with its provenance record) around a part writer that reads the
// shard's records as the real worker does and embeds nothing. Its parts hold no vectors; it lives
// here, among the benchmarks, so that no user can run it as an embedder.
//   node --import tsx scripts/bench/overhead-worker.ts <redis url> <allowed folder>...
import { writeFile } from "node:fs/promises";
import { basename } from "node:path";
import { openInput } from "../../lib/cli/inputs.js";
import type { PartWriter } from "../../lib/jobs/commit.js";
import { runWorker } from "../../lib/jobs/work.js";
import { sha256Hex } from "../../lib/jobs/wire.js";

const [queue, ...allowDir] = process.argv.slice(2) as [string, ...string[]];

/** Reads the shard's records and writes their indexes alone: the commit around it is what is measured. */
const overheadOnlyPartWriter: PartWriter = async ({ spec, shard, path, signal }) => {
  const reader = await openInput({
    input: spec.input.path,
    inputFormat: spec.input.format,
    field: spec.input.field,
    idField: spec.input.idField,
    skipEmpty: spec.input.skipEmpty,
    header: false,
    range: shard,
  });
  let text = "";
  let rows = 0;
  for await (const record of reader.records(signal)) {
    text += `{"index":${record.index},"overheadOnly":true}\n`;
    rows++;
  }
  await writeFile(path, text);
  return { rows, hashed: { [basename(path)]: { bytes: Buffer.byteLength(text), sha256: sha256Hex(text) } } };
};

await runWorker(
  { queue, concurrency: 1, lockDuration: 30_000, stalledInterval: 30_000, allowDir, threads: 1 },
  { writePart: overheadOnlyPartWriter, log: (message) => process.stderr.write(`${message}\n`) },
);
