#!/usr/bin/env node
// Installs what scripts/setup/system-packages.txt lists and this machine lacks: with apt-get where it
// runs as root, else it fails naming the packages to install. The README's first command runs it
// before `npm install`, `npm test` runs it first (pretest), and so does .ci/run. Plain JavaScript:
// it runs before anything is installed or built.
//   node scripts/setup/system-packages.mjs [--check] [LIST]
// --check only names what is missing (exit 1), as where it cannot install; LIST replaces the list.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

const root = join(dirname(new URL(import.meta.url).pathname), "..", "..");
const args = process.argv.slice(2);
const checkOnly = args.includes("--check");
const listPath = args.find((arg) => arg !== "--check") ?? join(root, "scripts", "setup", "system-packages.txt");
// Installed after the addon was built, this one changes the build: the addon is rebuilt to link it.
const linkedByTheBuild = "libopenblas-pthread-dev";

const packages = readFileSync(listPath, "utf8")
  .split("\n")
  .filter((line) => line.trim() !== "" && !line.startsWith("#"))
  .map((line) => {
    // a name may carry a Debian architecture (libc6:arm64), which dpkg is told of before installing
    const match = /^([a-z0-9][a-z0-9+.-]*(?::[a-z0-9]+)?):\s*(.+)$/.exec(line);
    if (!match) {
      process.stderr.write(`${listPath}: "${line}" is not "package: command that finds what it provides"\n`);
      process.exit(2);
    }
    return { name: match[1], check: match[2] };
  });

const present = ({ check }) => spawnSync("sh", ["-c", check], { stdio: "ignore" }).status === 0;
const missing = packages.filter((entry) => !present(entry));
if (missing.length === 0) process.exit(0);

const names = missing.map(({ name }) => name);
const canInstall =
  !checkOnly &&
  process.getuid?.() === 0 &&
  spawnSync("sh", ["-c", "command -v apt-get"], { stdio: "ignore" }).status === 0;
if (!canInstall) {
  process.stderr.write(
    `The tests need system packages this machine lacks: ${names.join(", ")}.\n` +
      `Install them (Debian, Ubuntu): sudo apt-get install ${names.join(" ")}\n` +
      `Elsewhere, install what each provides; the checks that find them: ${listPath}\n`,
  );
  process.exit(1);
}

const apt = (args) => {
  process.stderr.write(`apt-get ${args.join(" ")}\n`);
  const run = spawnSync("apt-get", args, {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  if (run.status !== 0) {
    process.stderr.write(`apt-get ${args[0]} failed (exit ${run.status}); install by hand: ${names.join(" ")}\n`);
    process.exit(1);
  }
};
const foreignArchitectures = [...new Set(names.map((name) => name.split(":")[1]).filter(Boolean))];
for (const architecture of foreignArchitectures) {
  process.stderr.write(`dpkg --add-architecture ${architecture}\n`);
  if (spawnSync("dpkg", ["--add-architecture", architecture], { stdio: "inherit" }).status !== 0) {
    process.stderr.write(`dpkg --add-architecture ${architecture} failed; install by hand: ${names.join(" ")}\n`);
    process.exit(1);
  }
}
apt(["update", "-qq"]);
apt(["install", "-y", "-qq", "--no-install-recommends", ...names]);
const stillMissing = missing.filter((entry) => !present(entry));
if (stillMissing.length > 0) {
  process.stderr.write(
    `installed, yet still not found: ${stillMissing.map(({ name, check }) => `${name} (${check})`).join(", ")}\n`,
  );
  process.exit(1);
}

if (names.includes(linkedByTheBuild) && existsSync(join(root, "build", "CMakeCache.txt"))) {
  process.stderr.write(`${linkedByTheBuild} is new since the addon was built: rebuilding it to link OpenBLAS\n`);
  const build = spawnSync(process.execPath, [join(root, "scripts", "build", "build-native.mjs"), "--force"], {
    stdio: "inherit",
  });
  process.exit(build.status ?? 1);
}
