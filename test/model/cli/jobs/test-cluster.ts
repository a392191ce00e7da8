// One cluster (Redis, the tiny model, the built CLI) and one scratch folder per test file,
// registered as vitest hooks: every process a test started is killed and the queue emptied after
// it, so one test's jobs and workers never meet another's.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll } from "vitest";
import type { Manifest } from "../../../../lib/jobs/manifest.js";
import { buildCli, startCluster, type JobCluster } from "./cluster.js";

export interface TestCluster {
  cluster: JobCluster;
  /** a scratch folder under the OS temp folder, which the workers are allowed to use */
  directory: string;
}

export function testCluster(name: string): TestCluster {
  const state = {} as TestCluster;
  beforeAll(async () => {
    buildCli();
    state.cluster = await startCluster();
    state.directory = mkdtempSync(join(tmpdir(), `ctxembed-${name}-`));
  });
  afterEach(() => state.cluster.reset());
  afterAll(async () => {
    await state.cluster?.close();
    if (state.directory) rmSync(state.directory, { recursive: true, force: true });
  });
  return state;
}

export function manifestOf(output: string): Manifest {
  return JSON.parse(readFileSync(join(output, "manifest.json"), "utf8")) as Manifest;
}
