import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Model tests each load real weights and use every core; running them side by side on a
    // two-core machine only makes each slower.
    fileParallelism: false,
    projects: [
      { test: { name: "unit", include: ["test/unit/**/*.test.ts"] } },
      { test: { name: "model", include: ["test/model/**/*.test.ts"], testTimeout: 300_000, hookTimeout: 900_000 } },
    ],
  },
});
