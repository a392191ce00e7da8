// ggml operations a patch rewrites, each build's against a reference (patched-ops.cpp, compiled
// against both builds' static ggml): a patch that changes arithmetic on purpose against double
// precision, what its head claims and that upstream does not already have it; a patch for speed
// alone against upstream's bytes and a scalar statement of upstream's arithmetic.
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

function run(program: string, operation: string): string {
  const output = execFileSync(program, [operation], { encoding: "utf8" });
  process.stderr.write(`[patched-ops] ${program.endsWith("patched") ? "patched " : "upstream"}: ${output}`);
  return output;
}

function largestError(program: string, operation: string): number {
  const output = run(program, operation);
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

describe("0013-q8_0-activations-avx512", () => {
  function quantized(program: string): { differing: number; bytes: string } {
    const output = run(program, "q8_0");
    const match = /(\d+) of (\d+) blocks differ from the stated arithmetic; bytes fnv1a ([0-9a-f]{16})/.exec(output);
    expect(match, output).not.toBeNull();
    return { differing: Number(match![1]), bytes: match![3]! };
  }

  it("Q8_0 activations on AVX-512: the same bytes as upstream's AVX2 path, and each finite block as its arithmetic states", () => {
    const patched = quantized(programs.patched);
    const upstream = quantized(programs.upstream);
    expect(patched.differing).toBe(0);
    expect(upstream.differing).toBe(0);
    expect(patched.bytes).toBe(upstream.bytes);
  });
});
