// A Python with numpy at the version scripts/reference/requirements.txt pins, for checks of the
// files ctxembed writes against numpy's own reader: a virtual environment in the ctxembed cache,
// made on first use (python3 -m venv, then pip from PyPI) and reused after.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cacheDirectory } from "../lib/hub/cache.js";

const requirements = join(import.meta.dirname, "..", "scripts", "reference", "requirements.txt");

/** `python`, a Python that imports the pinned numpy; or `missing`, why there is none (python is then ""). */
export function numpyPython(): { python: string; missing?: string } {
  const version = /^numpy==(\S+)$/m.exec(readFileSync(requirements, "utf8"))?.[1];
  if (version === undefined) return { python: "", missing: `${requirements} pins no numpy` };
  const environment = join(cacheDirectory(), "python", `numpy-${version}`);
  const python = join(environment, "bin", "python");
  // written last, so that an environment whose pip install was cut short is made again
  const complete = join(environment, "complete");
  if (existsSync(complete)) return { python };
  rmSync(environment, { recursive: true, force: true });
  const steps: [string, string[]][] = [
    ["python3", ["-m", "venv", environment]],
    [python, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", `numpy==${version}`]],
    [python, ["-c", `import numpy; assert numpy.__version__ == "${version}", numpy.__version__`]],
  ];
  for (const [command, args] of steps) {
    const run = spawnSync(command, args, { encoding: "utf8" });
    if (run.status !== 0) {
      const output = `${run.error?.message ?? ""}${run.stderr ?? ""}`.trim().split("\n").slice(-3).join(" / ");
      return {
        python: "",
        missing: `no Python with numpy ${version}: \`${command} ${args.join(" ")}\` failed (${output}); python3 with venv and PyPI are needed (scripts/setup/system-packages.txt)`,
      };
    }
  }
  writeFileSync(complete, `numpy ${version}\n`);
  return { python };
}
