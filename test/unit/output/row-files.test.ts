// Row files left by an interrupted run: .npy and raw files are measured by their size, cut back
// to whole rows, continued, and finished with the true count in the header or sidecar. A file
// written whole in one run reports its size and sha256 taken as it was written, which must be
// those of the bytes on disk (a distributed part is committed with them, never read back).
import { createHash } from "node:crypto";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { NpyWriter } from "../../../lib/output/npy.js";
import { RawWriter, sidecarPath } from "../../../lib/output/raw.js";

const directory = mkdtempSync(join(tmpdir(), "ctxembed-rows-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const row = (value: number) => Float32Array.of(value, value + 0.5, -value);

/** Writes rows 0..count-1 without closing, as a process killed mid-run leaves them, plus half a row. */
async function crashedFile(
  open: () => Promise<{ append(row: Float32Array): Promise<void>; close(): Promise<{ rows: number }> }>,
  path: string,
  count: number,
) {
  const writer = await open();
  for (let i = 0; i < count; i++) await writer.append(row(i));
  // Closing flushes; the half row after it is what a kill between two writes leaves.
  await writer.close();
  appendFileSync(path, Buffer.from(row(99).buffer, 0, 6));
}

/** What a file holds, as sha256sum and ls would say: the reference for a hash taken while writing. */
function onDisk(path: string) {
  const bytes = readFileSync(path);
  return { path, bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") };
}

function floats(bytes: Buffer): number[] {
  return Array.from(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)));
}

describe("NpyWriter.resume", () => {
  it("counts whole rows by size, drops a partial row, appends and rewrites the header's count", async () => {
    const path = join(directory, "crashed.npy");
    await crashedFile(() => NpyWriter.open(path, { dtype: "<f4", width: 3 }), path, 5);
    // A crash also leaves the header at 0 rows, as written on open.
    const bytes = readFileSync(path);
    writeFileSync(
      path,
      Buffer.concat([
        Buffer.from(bytes.toString("latin1", 0, 128).replace("(5, 3)", "(0, 3)"), "latin1"),
        bytes.subarray(128),
      ]),
    );

    expect(await NpyWriter.stored(path)).toEqual({ dtype: "<f4", width: 3, rows: 5 });
    const writer = await NpyWriter.resume(path, 4);
    await writer.append(row(40));
    expect(await writer.close()).toEqual({ rows: 5 });
    const header = readFileSync(path).toString("latin1", 0, 128);
    expect(header).toMatch(/'shape': \(5, 3\)/);
    expect(floats(readFileSync(path).subarray(128))).toEqual([0, 1, 2, 3, 40].flatMap((i) => Array.from(row(i))));
  });

  it("finds no rows where there is no file, and refuses a file it did not write", async () => {
    expect(await NpyWriter.stored(join(directory, "absent.npy"))).toBeUndefined();
    const other = join(directory, "other.npy");
    writeFileSync(other, "not numpy");
    await expect(NpyWriter.stored(other)).rejects.toThrow(/other\.npy is not a \.npy \(version 1\.0\) file/);
  });
});

describe("NpyWriter opened with its row count", () => {
  it("writes its final header first and reports the size and sha256 of the file as written, never rewriting it", async () => {
    const path = join(directory, "counted.npy");
    const writer = await NpyWriter.open(path, { dtype: "<f4", width: 3 }, 2);
    await writer.append(row(1));
    await writer.append(row(2));
    const closed = await writer.close();
    expect(closed).toEqual({ rows: 2, written: [onDisk(path)] });
    expect(readFileSync(path).toString("latin1", 0, 128)).toMatch(/'shape': \(2, 3\)/);
    expect(await NpyWriter.stored(path)).toEqual({ dtype: "<f4", width: 3, rows: 2 });
    expect(floats(readFileSync(path).subarray(128))).toEqual([...row(1), ...row(2)]);
  });

  it("refuses to finish with another row count, leaving a 0-row header; closed as incomplete it reports no hash", async () => {
    const short = join(directory, "short.npy");
    const writer = await NpyWriter.open(short, { dtype: "<f4", width: 3 }, 3);
    await writer.append(row(1));
    await expect(writer.close()).rejects.toThrow(/short\.npy holds 1 rows, but its header was written for 3/);
    expect(readFileSync(short).toString("latin1", 0, 128)).toMatch(/'shape': \(0, 3\)/);

    const failed = join(directory, "failed.npy");
    const partial = await NpyWriter.open(failed, { dtype: "<f4", width: 3 }, 3);
    await partial.append(row(1));
    expect(await partial.close(false)).toEqual({ rows: 1 });
    expect(readFileSync(failed).toString("latin1", 0, 128)).toMatch(/'shape': \(0, 3\)/);
  });
});

describe("RawWriter", () => {
  const metadata = { model: "m", options: { pooling: "mean" } };

  it("writes little-endian rows and a sidecar with shape, dtype and metadata, finished on close", async () => {
    const path = join(directory, "vectors.f32");
    const writer = await RawWriter.open(path, { dtype: "<f4", width: 3, metadata });
    expect(JSON.parse(readFileSync(sidecarPath(path), "utf8"))).toEqual({
      shape: [0, 3],
      dtype: "<f4",
      complete: false,
      ...metadata,
    });
    await writer.append(row(1));
    await writer.append(row(2));
    // The file and its final sidecar, each hashed from the bytes as they were written.
    expect(await writer.close()).toEqual({ rows: 2, written: [onDisk(path), onDisk(sidecarPath(path))] });
    expect(JSON.parse(readFileSync(`${path}.json`, "utf8"))).toEqual({
      shape: [2, 3],
      dtype: "<f4",
      complete: true,
      ...metadata,
    });
    expect(floats(readFileSync(path))).toEqual([...row(1), ...row(2)]);
  });

  it("resumes after the whole rows, and only with the metadata it was started with", async () => {
    const path = join(directory, "crashed.f32");
    await crashedFile(() => RawWriter.open(path, { dtype: "<f4", width: 3, metadata }), path, 3);
    expect(await RawWriter.stored(path)).toEqual({ dtype: "<f4", width: 3, rows: 3, metadata });
    await expect(RawWriter.resume(path, 3, { ...metadata, model: "other" })).rejects.toThrow(
      /cannot resume .*crashed\.f32: it was written with \{"model":"m"/,
    );
    const writer = await RawWriter.resume(path, 3, metadata);
    await writer.append(row(7));
    expect(await writer.close()).toEqual({ rows: 4 });
    expect(floats(readFileSync(path))).toEqual([0, 1, 2, 7].flatMap((i) => Array.from(row(i))));
    expect(JSON.parse(readFileSync(sidecarPath(path), "utf8")).shape).toEqual([4, 3]);
  });
});
