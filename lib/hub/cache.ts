import { randomBytes } from "node:crypto";
import { readdir, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, dirname, join } from "node:path";
import { temporaryOwnerPid } from "../util/atomic-file.js";

/**
 * Root of ctxembed's on-disk cache: `$CTXEMBED_CACHE`, else `$XDG_CACHE_HOME/ctxembed`,
 * else `~/.cache/ctxembed`. Read on every call so tests and long-lived processes see
 * changes to the environment.
 */
export function cacheDirectory(): string {
  const explicit = process.env.CTXEMBED_CACHE;
  if (explicit) return explicit;
  const xdgCache = process.env.XDG_CACHE_HOME;
  if (xdgCache) return join(xdgCache, "ctxembed");
  return join(homedir(), ".cache", "ctxembed");
}

/** Directory that holds everything pulled for one catalogue model. */
export function modelDirectory(name: string): string {
  return join(cacheDirectory(), "models", name);
}

/**
 * A unique sibling of `finalPath` to build into before renaming onto `finalPath`. It
 * lives in the same directory (so the rename is atomic), is hidden and marked
 * `.partial-` so an interrupted pull never leaves something that looks finished, and
 * keeps the final name as its suffix so tools that look at the extension still work.
 */
export function partialPathFor(finalPath: string): string {
  const unique = `${process.pid}-${randomBytes(4).toString("hex")}`;
  return join(dirname(finalPath), `.partial-${unique}-${basename(finalPath)}`);
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Deletes the `.partial-` directories and atomic-file temporaries in `directory` left by
 * pulls whose process has died (killed before it could clean up). Partials of live
 * processes are theirs to finish.
 */
export async function removeAbandonedPartials(directory: string): Promise<void> {
  const names = await readdir(directory).catch(() => []);
  for (const name of names) {
    const owner = /^\.partial-(\d+)-/.exec(name)?.[1] ?? temporaryOwnerPid(name);
    if (owner !== undefined && !isProcessAlive(Number(owner))) {
      await rm(join(directory, name), { recursive: true, force: true });
    }
  }
}
