// test/skips.ts and test/skip-reporter.ts, run as CI runs them: vitest over a scratch suite with
// one check this machine "lacks" of each kind, once as a developer runs it and once with CI=true.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const scratch = mkdtempSync(join(tmpdir(), "ctxembed-skips-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
symlinkSync(join(root, "node_modules"), join(scratch, "node_modules"));
writeFileSync(
  join(scratch, "suite.test.ts"),
  `import { beforeAll, expect, it } from "vitest";
import { whereApplicable, whereProvided } from ${JSON.stringify(join(root, "test", "skips.ts"))};
whereApplicable("this CPU lacks avx512f").describe("a kernel", () => {
  beforeAll(() => { throw new Error("a skipped suite's hooks must not run"); });
  it("matches", () => expect(1).toBe(2));
});
whereProvided("no Python with numpy").it("numpy reads the file", () => expect(1).toBe(2));
whereProvided(undefined).it("runs where nothing is missing", () => expect(1).toBe(1));
`,
);

function vitest(ci: boolean) {
  const run = spawnSync(
    process.execPath,
    [
      join(root, "node_modules", "vitest", "vitest.mjs"),
      "run",
      "--root",
      scratch,
      "--reporter",
      "default",
      "--reporter",
      join(root, "test", "skip-reporter.ts"),
    ],
    { encoding: "utf8", env: { ...process.env, CI: ci ? "true" : "", NO_COLOR: "1", FORCE_COLOR: "0" } },
  );
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe("a check this machine cannot make", { timeout: 60_000 }, () => {
  it("is skipped with its reason where CI is not set, and listed after the run", () => {
    const { status, output } = vitest(false);
    expect(status, output).toBe(0);
    expect(output).toContain("Skipped tests (2):");
    expect(output).toContain("suite.test.ts > a kernel > (every check of this suite): this CPU lacks avx512f");
    expect(output).toContain("suite.test.ts > numpy reads the file: no Python with numpy");
  });

  it("fails under CI=true naming what is missing, unless no setup could provide it", () => {
    const { status, output } = vitest(true);
    expect(status, output).toBe(1);
    expect(output).toContain("CI=true and this check cannot run here: no Python with numpy");
    expect(output).toContain("Skipped tests (1):");
    expect(output).toContain("(every check of this suite): this CPU lacks avx512f");
  });
});
