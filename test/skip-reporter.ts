// Lists every skipped test with its reason after the run, so that the CI log says what was not
// checked and why (test/skips.ts gives each skip its reason; one without says so).
import type { Reporter, TestModule } from "vitest/node";

export default class SkipReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const skipped = testModules.flatMap((module) =>
      [...module.children.allTests("skipped")].map((test) => {
        const result = test.result();
        const note = result.state === "skipped" ? result.note : undefined;
        return `  ${module.relativeModuleId} > ${test.fullName}: ${note ?? "no reason given"}`;
      }),
    );
    process.stdout.write(
      skipped.length === 0
        ? "\nSkipped tests: none\n"
        : `\nSkipped tests (${skipped.length}):\n${skipped.join("\n")}\n`,
    );
  }
}
