import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Every skipped test with its reason, after the run (test/skips.ts).
    reporters: ["default", "./test/skip-reporter.ts"],
    // Model tests each load real weights and use every core; running them side by side on a
    // two-core machine only makes each slower.
    fileParallelism: false,
    projects: [
      { test: { name: "unit", include: ["test/unit/**/*.test.ts"] } },
      { test: { name: "model", include: ["test/model/**/*.test.ts"], testTimeout: 300_000, hookTimeout: 900_000 } },
      // npm pack + install into empty projects; a source build of llama.cpp inside one of them.
      {
        test: {
          name: "package",
          include: ["test/package/**/*.test.ts"],
          testTimeout: 1_800_000,
          hookTimeout: 1_800_000,
        },
      },
    ],
  },
});
