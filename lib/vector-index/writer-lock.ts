// One writer per index directory. LanceDB's mergeInsert can leave duplicate rows when two
// writers upsert at once (an open upstream issue), so a writer takes a lock file first.
//
// The lock file names its owner (host, pid, a random token) and appears whole: the owner's
// record is written to a file of its own first and then hard-linked to the lock's name, which
// fails when the name exists, so no reader ever sees an empty or half-written lock. A lock whose
// owner is a dead process of this host is taken over; one from another host never is, since a
// pid means nothing across machines (the distributed docs put indexes on shared folders).
// Taking over is exclusive per dead owner: the taker first links a claim named after the dead
// owner's token, then checks the lock still holds that token before removing it, so two
// processes that both saw the same dead lock cannot both remove it, nor remove a live lock taken
// meanwhile. The owner alone releases: a lock that is no longer its own is left as it is.
import { randomBytes } from "node:crypto";
import { link, readFile, unlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { isProcessAlive } from "../hub/cache.js";

export const lockFileName = ".ctxembed-writer.lock";

export class WriterLockError extends Error {
  override name = "WriterLockError";
}

interface LockOwner {
  host: string;
  pid: number;
  token: string;
  /** when it was taken, ISO 8601 */
  since: string;
}

export interface WriterLock {
  /** Throws a WriterLockError when the lock is no longer this writer's (removed by hand, taken over). */
  verify(): Promise<void>;
  /** Removes the lock if it is still this writer's. */
  release(): Promise<void>;
}

/** The owner a lock file names; undefined when there is no such file, "unreadable" when it names none. */
async function ownerOf(path: string): Promise<LockOwner | undefined | "unreadable"> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    const owner = JSON.parse(text) as Partial<LockOwner>;
    return typeof owner.host === "string" && Number.isSafeInteger(owner.pid) && typeof owner.token === "string"
      ? (owner as LockOwner)
      : "unreadable";
  } catch {
    return "unreadable";
  }
}

/** Links `from` to `to`; false when `to` exists. */
async function linked(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

const describeOwner = (owner: LockOwner) => `pid ${owner.pid} on ${owner.host}, since ${owner.since}`;

/**
 * Why `owner` keeps its lock at `path`, or undefined when it is a dead process of this host
 * (a lock that may be taken over).
 */
function liveOwnerReason(owner: LockOwner, path: string): string | undefined {
  if (owner.host !== hostname())
    return (
      `the writer lock ${path} is held by ${describeOwner(owner)}: a process on another host cannot be checked from here, ` +
      "so its lock is never taken over; if that writer is gone, delete the lock file"
    );
  if (owner.pid === process.pid) return "is already open for writing in this process: close that index first";
  if (isProcessAlive(owner.pid))
    return `is being written by another process (${describeOwner(owner)}); LanceDB allows one writer at a time: wait for it to finish`;
  return undefined;
}

/**
 * Removes the lock at `path` if it still belongs to the dead `stale` owner. Resolves when this
 * process removed it or found it changed; the caller then tries the lock again.
 */
async function removeDeadLock(path: string, stale: LockOwner, mine: string): Promise<void> {
  const claim = `${path}.takeover-${stale.token}`;
  if (!(await linked(mine, claim))) {
    const claimer = await ownerOf(claim);
    // Another process is taking it over: let it finish, then look again.
    if (claimer === "unreadable" || claimer === undefined || liveOwnerReason(claimer, claim) !== undefined) {
      await sleep(10 + Math.random() * 20);
      return;
    }
    // It died while doing so: its claim is itself a dead lock.
    await removeDeadLock(claim, claimer, mine);
    return;
  }
  try {
    const now = await ownerOf(path);
    if (now !== undefined && now !== "unreadable" && now.token === stale.token) await unlink(path);
  } finally {
    await unlink(claim);
  }
}

/** Takes the directory's writer lock, or throws a WriterLockError naming who holds it. */
export async function takeWriterLock(directory: string): Promise<WriterLock> {
  const path = join(directory, lockFileName);
  const owner: LockOwner = {
    host: hostname(),
    pid: process.pid,
    token: randomBytes(16).toString("hex"),
    since: new Date().toISOString(),
  };
  const mine = `${path}.${owner.token}`;
  await writeFile(mine, JSON.stringify(owner), { flag: "wx" });
  try {
    for (let attempt = 0; attempt < 50; attempt++) {
      if (await linked(mine, path)) return lockHeldBy(owner, path, directory);
      const holder = await ownerOf(path);
      if (holder === undefined) continue;
      if (holder === "unreadable")
        throw new WriterLockError(
          `the writer lock ${path} names no owner this version can read; if no process is writing ${directory}, delete it`,
        );
      const reason = liveOwnerReason(holder, path);
      if (reason !== undefined)
        throw new WriterLockError(reason.startsWith("the writer lock") ? reason : `${directory} ${reason}`);
      await removeDeadLock(path, holder, mine);
    }
    throw new WriterLockError(`could not take the writer lock ${path}: other writers kept taking it`);
  } finally {
    await unlink(mine);
  }
}

function lockHeldBy(owner: LockOwner, path: string, directory: string): WriterLock {
  const held = async () => {
    const now = await ownerOf(path);
    return now !== undefined && now !== "unreadable" && now.token === owner.token;
  };
  return {
    async verify() {
      if (!(await held()))
        throw new WriterLockError(
          `this process no longer holds the writer lock of ${directory} (${path} was removed or taken over): stopped before writing`,
        );
    },
    async release() {
      if (await held()) await unlink(path);
    },
  };
}
