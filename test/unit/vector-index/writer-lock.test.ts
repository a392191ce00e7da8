// The index's writer lock, raced by real processes: each round, every contender tries the lock
// at the same moment; a holder creates a sentinel file with O_EXCL, so a second holder at once
// is seen, not guessed. Then the locks nobody holds any more (a killed process's) and the ones
// that must not be taken over (another host's, whatever its pid means here).
import { fork, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lockFileName, takeWriterLock, WriterLockError } from "../../../lib/vector-index/writer-lock.js";

const racer = join(import.meta.dirname, "lock-racer.ts");

interface Outcome {
  round: number;
  held: boolean;
  overlap?: boolean;
  error?: string;
}

function startRacer(): Promise<ChildProcess> {
  const child = fork(racer, [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  return new Promise((resolve, reject) => {
    child.once("message", () => resolve(child));
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`a racer exited early (${code})`)));
  });
}

/** Runs `rounds` rounds of every racer trying the lock at once; `before` runs ahead of each round. */
async function race(
  racers: ChildProcess[],
  directory: string,
  rounds: number,
  before: () => Promise<void> = async () => undefined,
): Promise<Outcome[][]> {
  const results: Outcome[][] = [];
  for (let round = 0; round < rounds; round++) {
    await before();
    const at = Date.now() + 150;
    const answers = racers.map(
      (child) => new Promise<Outcome>((resolve) => child.once("message", (outcome: Outcome) => resolve(outcome))),
    );
    for (const child of racers) child.send({ round, directory, sentinel: join(directory, "holder"), at, holdMs: 40 });
    results.push(await Promise.all(answers));
  }
  return results;
}

/** The lock file a process leaves when it is killed while holding the lock. */
async function lockOfKilledProcess(directory: string): Promise<string> {
  const child = await startRacer();
  const held = new Promise<void>((resolve) => child.once("message", () => resolve()));
  // A long hold: the racer takes the lock and is killed while it holds it.
  child.send({ round: 0, directory, sentinel: join(directory, "killed-holder"), at: Date.now(), holdMs: 60_000 });
  await Promise.race([held, new Promise((resolve) => setTimeout(resolve, 3000))]);
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
  await rm(join(directory, "killed-holder"), { force: true });
  return readFile(join(directory, lockFileName), "utf8");
}

let root: string;
let racers: ChildProcess[] = [];
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "ctxembed-lock-"));
  racers = await Promise.all(Array.from({ length: 6 }, startRacer));
}, 60_000);
afterAll(async () => {
  for (const child of racers) child.kill();
  await rm(root, { recursive: true, force: true });
});

describe("writer lock", () => {
  it("has never two holders at once: 40 rounds of 6 processes trying it together", async () => {
    const directory = await mkdtemp(join(root, "race-"));
    const rounds = await race(racers, directory, 40);
    const errors = rounds.flat().flatMap((outcome) => (outcome.error ? [outcome.error] : []));
    expect(errors).toEqual([]);
    const overlapping = rounds.filter((round) => round.some((outcome) => outcome.overlap));
    console.log(
      `writer lock race: ${overlapping.length} of ${rounds.length} rounds with two holders at once; holders per round ${rounds.map((round) => round.filter((outcome) => outcome.held).length).join(",")}`,
    );
    expect(overlapping.length).toBe(0);
    // Each round someone got it: refusing everybody would also pass the test above.
    expect(rounds.every((round) => round.some((outcome) => outcome.held))).toBe(true);
  }, 120_000);

  it("lets one of 6 processes at a time take over a killed process's lock, 20 rounds", async () => {
    const directory = await mkdtemp(join(root, "stale-"));
    const stale = await lockOfKilledProcess(directory);
    const rounds = await race(racers, directory, 20, () => writeFile(join(directory, lockFileName), stale));
    expect(rounds.flat().flatMap((outcome) => (outcome.error ? [outcome.error] : []))).toEqual([]);
    expect(rounds.filter((round) => round.some((outcome) => outcome.overlap)).length).toBe(0);
    expect(rounds.every((round) => round.some((outcome) => outcome.held))).toBe(true);
    // And in this process, alone.
    await writeFile(join(directory, lockFileName), stale);
    await (await takeWriterLock(directory)).release();
  }, 120_000);

  it("does not take over another host's lock, whatever its pid is here", async () => {
    const directory = await mkdtemp(join(root, "host-"));
    const stale = JSON.parse(await lockOfKilledProcess(directory)) as Record<string, unknown>;
    // The same lock as if written on another machine sharing the folder: its pid (dead here) means nothing.
    await writeFile(join(directory, lockFileName), JSON.stringify({ ...stale, host: "elsewhere.example" }));
    const taking = takeWriterLock(directory);
    await expect(taking).rejects.toThrow(WriterLockError);
    await expect(taking).rejects.toThrow(/elsewhere\.example/);
    await expect(taking).rejects.toThrow(new RegExp(lockFileName.replaceAll(".", "\\.")));
  }, 60_000);

  it("is released only by its owner", async () => {
    const directory = await mkdtemp(join(root, "owner-"));
    const foreign = await lockOfKilledProcess(directory);
    await rm(join(directory, lockFileName));
    const lock = await takeWriterLock(directory);
    // Someone removed this process's lock and another writer took it: releasing must leave theirs.
    await writeFile(join(directory, lockFileName), foreign.replace(/"host":"[^"]*"/, '"host":"elsewhere.example"'));
    await expect(lock.verify()).rejects.toThrow(/no longer holds the writer lock/);
    await lock.release();
    expect(await readFile(join(directory, lockFileName), "utf8")).toMatch(/elsewhere\.example/);
  }, 60_000);
});
