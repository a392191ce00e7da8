// The llama.cpp patches apply in the order of their numbers, which the fetch checks before it
// applies any (scripts/build/fetch-llama.mjs).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { patchNames } from "../../../scripts/build/fetch-llama.mjs";

let directory: string | undefined;
function removeDirectory(): void {
  if (directory) rmSync(directory, { recursive: true, force: true });
  directory = undefined;
}
function patchesNamed(...names: string[]): string {
  removeDirectory();
  directory = mkdtempSync(join(tmpdir(), "ctxembed-patch-names-"));
  for (const name of names) writeFileSync(join(directory, name), "");
  return directory;
}
afterEach(removeDirectory);

describe("patchNames", () => {
  it("lists the repository's patches numbered from 0001 without gaps", () => {
    const names = patchNames();
    expect(names.length).toBeGreaterThanOrEqual(11);
    names.forEach((name, i) =>
      expect(name).toMatch(new RegExp(`^${String(i + 1).padStart(4, "0")}-[\\w.-]+\\.patch$`)),
    );
  });

  it("applies them in number order, other files ignored", () => {
    expect(patchNames(patchesNamed("0002-b.patch", "0001-a.patch", "README"))).toEqual([
      "0001-a.patch",
      "0002-b.patch",
    ]);
  });

  it("refuses a gap, naming the patch and the number expected", () => {
    expect(() => patchNames(patchesNamed("0001-a.patch", "0003-c.patch"))).toThrow(/0003-c\.patch: .*expected 0002-/);
  });

  it("refuses a patch without a number, or two with one", () => {
    expect(() => patchNames(patchesNamed("0001-a.patch", "fix.patch"))).toThrow(/fix\.patch: .*expected 0002-/);
    expect(() => patchNames(patchesNamed("0001-a.patch", "0001-b.patch"))).toThrow(/0001-b\.patch: .*expected 0002-/);
  });
});
