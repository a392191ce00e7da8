// The one way a test here may not run its check. Where this machine lacks something CI provides
// (numpy, an OpenBLAS build, the build's static libraries), CI=true turns the skip into a failure
// that names what is missing, so that CI never passes a check it did not make. What no machine of
// CI's kind can change (a CPU feature it lacks, a check that does not apply to a case) is skipped
// everywhere. Either way the skip carries its reason, and test/skip-reporter.ts lists every skip
// with it at the end of the run.
import { describe, it, type TestContext } from "vitest";

type TestBody = (context: TestContext) => unknown;
interface Conditional {
  it(name: string, body: TestBody, timeout?: number): void;
  describe(name: string, body: () => void): void;
}

/** Whether `missing` fails the test under CI (true) or is skipped everywhere (false). */
function conditional(missing: string | undefined, failInCi: boolean): Conditional {
  if (missing === undefined) return { it, describe };
  const inCi = process.env.CI === "true";
  const stand = (name: string) =>
    it(name, (context) => {
      if (failInCi && inCi) throw new Error(`CI=true and this check cannot run here: ${missing}`);
      context.skip(missing);
    });
  return {
    it: (name) => stand(name),
    // One test stands for the suite, so that its hooks (a model load, a compile) do not run.
    describe: (name) => describe(name, () => stand("(every check of this suite)")),
  };
}

/** For what CI provides: `missing` says what this machine lacks (undefined: nothing). */
export const whereProvided = (missing: string | undefined): Conditional => conditional(missing, true);

/** For what no setup provides (a CPU feature this machine lacks, a check that does not apply): skipped in CI too. */
export const whereApplicable = (missing: string | undefined): Conditional => conditional(missing, false);
