// The output folder's claim without Redis: of many submits racing for one folder exactly one
// claims it (the claim file is created exclusively, not read and then written), the claimant may
// claim again, and every other job is refused naming the one that holds it.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { claimOutput, jobClaimFile } from "../../../lib/jobs/submit.js";

const directory = mkdtempSync(join(tmpdir(), "ctxembed-claim-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe("claimOutput", () => {
  it("of 20 jobs claiming one folder at once, exactly one gets it, in each of 100 rounds; it may claim again, the others may not", async () => {
    const ids = Array.from({ length: 20 }, (_, k) => `embed-${String(k).padStart(24, "0")}`);
    // A read-then-write claim let two or more jobs through in 6 of 100 such rounds.
    for (let round = 0; round < 99; round++) {
      const results = await Promise.allSettled(ids.map((id) => claimOutput(join(directory, `round-${round}`), id)));
      expect(
        results.filter((result) => result.status === "fulfilled"),
        `round ${round}`,
      ).toHaveLength(1);
    }
    const output = join(directory, "parts");
    const results = await Promise.allSettled(ids.map((id) => claimOutput(output, id)));
    const winners = ids.filter((_, k) => results[k]!.status === "fulfilled");
    expect(winners).toHaveLength(1);
    const claimed = (JSON.parse(readFileSync(join(output, jobClaimFile), "utf8")) as { job: string }).job;
    expect(claimed).toBe(winners[0]);
    for (const result of results)
      if (result.status === "rejected")
        expect(String(result.reason)).toMatch(new RegExp(`holds the parts of job ${claimed}, not of this one`));
    await expect(claimOutput(output, claimed)).resolves.toBeUndefined();
  });
});
