// Files that appear whole or not at all. Every writer of a finished file (outputs, run records,
// manifests, quantized models, merged parts, cache entries, extracted and joined model files) goes through here so that a crash, a
// signal or an error never leaves a half-written file under a name that looks finished, and two
// writers of one path never share a temporary name.
import { randomBytes } from "node:crypto";
import { unlinkSync } from "node:fs";
import { type FileHandle, link, open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { onExit } from "signal-exit";

/** Temporaries of this process not yet committed or aborted: removed if the process exits or is killed by a signal. */
const openTemporaries = new Set<string>();
let exitHookInstalled = false;

function trackTemporary(path: string): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    onExit(() => {
      for (const temporary of openTemporaries) {
        try {
          unlinkSync(temporary);
        } catch {
          // already gone: nothing to clean
        }
      }
    });
  }
  openTemporaries.add(path);
}

/** Prefix of every temporary name, so that a folder's leftovers can be recognised (and `listStaleTemporaries` finds them). */
export const temporaryPrefix = ".ctxembed-partial-";

/** A unique hidden name beside `path`: the pid and random bytes keep concurrent writers of one path apart. */
export function temporaryPathFor(path: string): string {
  return join(dirname(path), `${temporaryPrefix}${process.pid}-${randomBytes(6).toString("hex")}-${basename(path)}`);
}

/** The pid that wrote a temporary name made by `temporaryPathFor`, or undefined for any other name. */
export function temporaryOwnerPid(name: string): number | undefined {
  const match = new RegExp(`^${temporaryPrefix.replaceAll(".", "\\.")}(\\d+)-[0-9a-f]{12}-`).exec(name);
  return match ? Number(match[1]) : undefined;
}

export interface CommitOptions {
  /**
   * Refuse to replace an existing file: the commit links the temporary to `path`, which fails if
   * `path` exists, so of two racing writers exactly one commits. Default: replace (rename).
   */
  noClobber?: boolean;
}

export interface AtomicFile {
  /** where the file appears on commit */
  readonly path: string;
  readonly temporaryPath: string;
  /** open for writing at the temporary path */
  readonly handle: FileHandle;
  /**
   * Flushes the data to disk, closes the handle, moves the file into place and flushes the folder
   * so the new name survives a crash. With `noClobber`, resolves to false (and removes the
   * temporary) when `path` already existed, leaving that file as it was.
   */
  commit(options?: CommitOptions): Promise<boolean>;
  /** Closes and removes the temporary; `path` is untouched. Safe to call after a failed commit. */
  abort(): Promise<void>;
}

/** Moves a finished temporary to `path` (a link with `noClobber`) and flushes the folder; false when `noClobber` found `path` taken. */
async function moveIntoPlace(temporaryPath: string, path: string, options: CommitOptions): Promise<boolean> {
  if (options.noClobber) {
    try {
      await link(temporaryPath, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw error;
    }
  } else {
    await rename(temporaryPath, path);
  }
  await syncDirectory(dirname(path));
  return true;
}

async function forgetTemporary(temporaryPath: string): Promise<void> {
  openTemporaries.delete(temporaryPath);
  await unlink(temporaryPath).catch(() => undefined);
}

/** Opens a new file that becomes visible at `path` only on `commit()`. */
export async function openAtomicFile(path: string): Promise<AtomicFile> {
  const temporaryPath = temporaryPathFor(path);
  const handle = await open(temporaryPath, "wx");
  trackTemporary(temporaryPath);
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await handle.close();
  };
  return {
    path,
    temporaryPath,
    handle,
    async commit(options = {}) {
      try {
        await handle.sync();
        await close();
        return await moveIntoPlace(temporaryPath, path, options);
      } finally {
        await forgetTemporary(temporaryPath);
      }
    },
    async abort() {
      await close().catch(() => undefined);
      await forgetTemporary(temporaryPath);
    },
  };
}

/** A temporary name for a file that another writer creates (llama.cpp's quantizer writes to a path it is given). */
export interface ReservedTemporary {
  /** where the writer is to create the file; removed on exit and signals until committed or discarded */
  readonly temporaryPath: string;
  /** Flushes the file the writer made, moves it to `path` and flushes the folder (see AtomicFile.commit). */
  commit(options?: CommitOptions): Promise<boolean>;
  /** Removes the file, if it was made; `path` is untouched. */
  discard(): Promise<void>;
}

/**
 * Flushes a finished file that was built under a name of its own (a resumable download's
 * partial, kept across processes), moves it to `path` and flushes the folder.
 */
export async function commitFile(builtPath: string, path: string, options: CommitOptions = {}): Promise<boolean> {
  const handle = await open(builtPath, "r+");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  return moveIntoPlace(builtPath, path, options);
}

export function reserveTemporary(path: string): ReservedTemporary {
  const temporaryPath = temporaryPathFor(path);
  trackTemporary(temporaryPath);
  return {
    temporaryPath,
    async commit(options = {}) {
      try {
        return await commitFile(temporaryPath, path, options);
      } finally {
        await forgetTemporary(temporaryPath);
      }
    },
    discard: () => forgetTemporary(temporaryPath),
  };
}

/** Writes `data` to `path` atomically (see `openAtomicFile`); false when `noClobber` found the path taken. */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: CommitOptions = {},
): Promise<boolean> {
  const file = await openAtomicFile(path);
  try {
    await file.handle.writeFile(data);
  } catch (error) {
    await file.abort();
    throw error;
  }
  return file.commit(options);
}

/**
 * Writes what `source` yields (a readable stream, an async generator of chunks) to `path`
 * atomically: a source that fails part-way leaves nothing under `path` and no temporary.
 */
export async function writeStreamAtomic(
  path: string,
  source: AsyncIterable<Uint8Array> | Readable,
  options: CommitOptions = {},
): Promise<boolean> {
  const file = await openAtomicFile(path);
  try {
    // Chunk by chunk (writeFile writes each whole, at the current position): a write stream would
    // hold the handle that commit() must flush and close.
    for await (const chunk of source) await file.handle.writeFile(chunk as Uint8Array);
  } catch (error) {
    await file.abort();
    throw error;
  }
  return file.commit(options);
}

/** Makes a folder's entries (a rename, a link, a new file) durable: without it a crash can lose the new name. */
export async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
