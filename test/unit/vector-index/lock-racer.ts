// One contender of the writer-lock race (writer-lock.test.ts): told a round and a start time over
// IPC, it tries the lock at that moment, and while it holds it creates a sentinel file that only
// one holder at a time can create (O_EXCL). Finding the sentinel there means two holders at once.
import { openSync, closeSync, unlinkSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { takeWriterLock, WriterLockError, type WriterLock } from "../../../lib/vector-index/writer-lock.js";

interface Round {
  round: number;
  directory: string;
  sentinel: string;
  at: number;
  holdMs: number;
}

process.on("message", async (round: Round) => {
  await sleep(Math.max(0, round.at - Date.now()));
  let lock: WriterLock;
  try {
    lock = await takeWriterLock(round.directory);
  } catch (error) {
    process.send!({
      round: round.round,
      held: false,
      error: error instanceof WriterLockError ? undefined : String(error),
    });
    return;
  }
  let overlap = false;
  let created = false;
  try {
    closeSync(openSync(round.sentinel, "wx"));
    created = true;
  } catch {
    overlap = true;
  }
  await sleep(round.holdMs);
  if (created) unlinkSync(round.sentinel);
  await lock.release();
  process.send!({ round: round.round, held: true, overlap });
});
process.send!({ ready: true });
