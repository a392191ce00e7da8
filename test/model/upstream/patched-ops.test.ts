// ggml operations a patch computes differently from upstream on purpose, each build's against a
// double-precision reference (patched-ops.cpp, compiled against both builds' static ggml): what
// the patch's head claims for it, and that upstream does not already have it.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { compileAgainst } from "../llama-tools.js";
import { repositoryRoot } from "../models.js";

const source = join(repositoryRoot, "test", "model", "upstream", "patched-ops.cpp");
let programs: { patched: string; upstream: string };
beforeAll(async () => {
  programs = { patched: await compileAgainst("patched", source), upstream: await compileAgainst("upstream", source) };
}, 1_800_000);

function largestError(program: string, operation: string): number {
  const output = execFileSync(program, [operation], { encoding: "utf8" });
  process.stderr.write(`[patched-ops] ${program.endsWith("patched") ? "patched " : "upstream"}: ${output}`);
  const error = /largest absolute error (\S+)/.exec(output)?.[1];
  expect(error, output).toBeDefined();
  return Number(error);
}

describe("0002-gelu-f32-vectors", () => {
  it("GELU on f32 vectors: the patched build within 1e-5 of the double-precision tanh form, upstream's f16 table not", () => {
    expect(largestError(programs.patched, "gelu")).toBeLessThanOrEqual(1e-5);
    // upstream rounds input and output to f16: errors of a few 1e-3 near |x| = 8
    expect(largestError(programs.upstream, "gelu")).toBeGreaterThan(1e-4);
  });
});
