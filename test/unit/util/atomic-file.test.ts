import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import {
  openAtomicFile,
  reserveTemporary,
  temporaryOwnerPid,
  temporaryPathFor,
  temporaryPrefix,
  writeFileAtomic,
  writeStreamAtomic,
} from "../../../lib/util/atomic-file.js";

const scratch = (): Promise<string> => mkdtemp(join(tmpdir(), "ctxembed-atomic-"));

describe("atomic files", () => {
  it("shows nothing under the final name until commit, then exactly the data and no temporary", async () => {
    const directory = await scratch();
    const path = join(directory, "out.txt");
    const file = await openAtomicFile(path);
    await file.handle.writeFile("first half ");
    expect(await readdir(directory)).toEqual([file.temporaryPath.slice(directory.length + 1)]);
    await file.handle.writeFile("second half");
    expect(await file.commit()).toBe(true);
    expect(await readFile(path, "utf8")).toBe("first half second half");
    expect(await readdir(directory)).toEqual(["out.txt"]);
  });

  it("a stream written whole appears whole; one that fails part-way leaves the old file and no temporary", async () => {
    const directory = await scratch();
    const path = join(directory, "out.bin");
    const chunks = Array.from({ length: 64 }, (_, i) => Buffer.alloc(64 * 1024, i));
    expect(await writeStreamAtomic(path, Readable.from(chunks))).toBe(true);
    expect((await readFile(path)).equals(Buffer.concat(chunks))).toBe(true);
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield* chunks.slice(0, 32);
      throw new Error("the source broke");
    }
    await expect(writeStreamAtomic(path, failing())).rejects.toThrow("the source broke");
    expect((await readFile(path)).equals(Buffer.concat(chunks))).toBe(true);
    expect(await readdir(directory)).toEqual(["out.bin"]);
  });

  it("a reserved temporary, made by another writer, is moved into place on commit and removed on discard", async () => {
    const directory = await scratch();
    const path = join(directory, "model.gguf");
    const kept = reserveTemporary(path);
    await writeFile(kept.temporaryPath, "weights");
    expect(await readdir(directory)).toEqual([kept.temporaryPath.slice(directory.length + 1)]);
    expect(await kept.commit()).toBe(true);
    expect(await readFile(path, "utf8")).toBe("weights");
    const dropped = reserveTemporary(path);
    await writeFile(dropped.temporaryPath, "half");
    await dropped.discard();
    await reserveTemporary(join(directory, "never-made")).discard();
    expect(await readdir(directory)).toEqual(["model.gguf"]);
    expect(await readFile(path, "utf8")).toBe("weights");
  });

  it("abort leaves the existing file and removes the temporary", async () => {
    const directory = await scratch();
    const path = join(directory, "out.txt");
    await writeFile(path, "old");
    const file = await openAtomicFile(path);
    await file.handle.writeFile("new");
    await file.abort();
    expect(await readFile(path, "utf8")).toBe("old");
    expect(await readdir(directory)).toEqual(["out.txt"]);
  });

  it("noClobber: of two writers of one path the first commit stays and the second reports false", async () => {
    const directory = await scratch();
    const path = join(directory, "part");
    const [first, second] = await Promise.all([openAtomicFile(path), openAtomicFile(path)]);
    expect(first.temporaryPath).not.toBe(second.temporaryPath);
    await first.handle.writeFile("first");
    await second.handle.writeFile("second");
    expect(await first.commit({ noClobber: true })).toBe(true);
    expect(await second.commit({ noClobber: true })).toBe(false);
    expect(await readFile(path, "utf8")).toBe("first");
    expect(await readdir(directory)).toEqual(["part"]);
    expect(await writeFileAtomic(path, "third", { noClobber: true })).toBe(false);
    expect(await writeFileAtomic(path, "fourth")).toBe(true);
    expect(await readFile(path, "utf8")).toBe("fourth");
  });

  it("names its temporaries after the writing process", () => {
    const name = temporaryPathFor("/some/folder/vectors.npy").slice("/some/folder/".length);
    expect(name.startsWith(temporaryPrefix)).toBe(true);
    expect(name.endsWith("-vectors.npy")).toBe(true);
    expect(temporaryOwnerPid(name)).toBe(process.pid);
    expect(temporaryOwnerPid("vectors.npy")).toBeUndefined();
  });

  it("removes an uncommitted temporary when the process is killed by SIGTERM", async () => {
    const directory = await scratch();
    const moduleUrl = new URL("../../../lib/util/atomic-file.ts", import.meta.url).href;
    // The child opens a temporary, reports that it did, then waits to be killed.
    const script = `
      const { openAtomicFile } = await import(${JSON.stringify(moduleUrl)});
      await openAtomicFile(${JSON.stringify(join(directory, "out.bin"))});
      process.kill(process.pid, "SIGTERM");
      setTimeout(() => {}, 10_000);
    `;
    const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      encoding: "utf8",
    });
    expect(child.signal).toBe("SIGTERM");
    expect(await readdir(directory)).toEqual([]);
  });
});
