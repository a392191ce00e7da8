// One writer per index directory. LanceDB's mergeInsert can leave duplicate rows when two
// writers upsert at once (an open upstream issue), so a writer takes a lock file first; a lock
// left by a process that no longer runs is taken over.
import { open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { isProcessAlive } from "../hub/cache.js";

export const lockFileName = ".ctxembed-writer.lock";

export class WriterLockError extends Error {
  override name = "WriterLockError";
}

/** Takes the directory's writer lock; resolves to the function that releases it. */
export async function takeWriterLock(directory: string): Promise<() => Promise<void>> {
  const path = join(directory, lockFileName);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(path, "wx");
      await file.writeFile(String(process.pid));
      await file.close();
      return () => rm(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = Number((await readFile(path, "utf8").catch(() => "")).trim());
      if (Number.isSafeInteger(holder) && holder > 0 && isProcessAlive(holder) && holder !== process.pid) {
        throw new WriterLockError(
          `${directory} is being written by another process (pid ${holder}); LanceDB allows one writer at a time: wait for it to finish`,
        );
      }
      if (holder === process.pid)
        throw new WriterLockError(`${directory} is already open for writing in this process: close that index first`);
      await rm(path, { force: true });
    }
  }
  throw new WriterLockError(`could not take the writer lock ${path}`);
}
