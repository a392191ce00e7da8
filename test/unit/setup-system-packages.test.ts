// scripts/setup/system-packages.mjs, which npm test and .ci/run run first: it finds what a list says
// is missing and names the packages (--check: as where it cannot install), refuses a malformed
// line, and reads the project's own list.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const script = join(import.meta.dirname, "..", "..", "scripts", "setup", "system-packages.mjs");
const scratch = mkdtempSync(join(tmpdir(), "ctxembed-system-packages-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function check(list?: string) {
  const path = join(scratch, "list.txt");
  if (list !== undefined) writeFileSync(path, list);
  const run = spawnSync(process.execPath, [script, "--check", ...(list === undefined ? [] : [path])], {
    encoding: "utf8",
  });
  return { status: run.status, stderr: run.stderr };
}

describe("system-packages.mjs", () => {
  it("names the missing packages and how to install them, and passes when nothing is missing", () => {
    const missing = check("# a comment\nthere-already: true\nqemu-user: false\ngcc-aarch64-linux-gnu: exit 1\n");
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(
      /lacks: qemu-user, gcc-aarch64-linux-gnu\.\n.*apt-get install qemu-user gcc-aarch64-linux-gnu/,
    );
    expect(check("there-already: true\n")).toEqual({ status: 0, stderr: "" });
  });

  it("refuses a line that is not 'package: check'", () => {
    const malformed = check("redis-server\n");
    expect(malformed.status).toBe(2);
    expect(malformed.stderr).toMatch(/"redis-server" is not "package: command that finds what it provides"/);
  });

  it("reads the project's own list (whether this machine has it all is the pretest's business)", () => {
    expect(check().status).not.toBe(2);
  });
});
