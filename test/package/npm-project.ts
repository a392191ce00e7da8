// What the package tests share: commands run with npm's own variables left out, a PATH of named
// tools only, the package packed, and empty projects that install its tarball.
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repositoryRoot } from "../model/models.js";

export function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): SpawnSyncReturns<string> {
  return spawnSync(command, args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024, ...options });
}

export function succeed(command: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): string {
  const result = run(command, args, { cwd, env });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** The environment with npm's own variables (set when tests run under `npm test`) left out, and PATH replaced when given. */
export function environment(path = process.env.PATH): NodeJS.ProcessEnv {
  return {
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith("npm_"))),
    PATH: path,
  };
}

/** Where a command on the PATH lies. */
export function commandPath(tool: string, cwd: string): string {
  const found = run("sh", ["-c", `command -v ${tool}`], { cwd }).stdout.trim();
  if (!found) throw new Error(`${tool} is not on PATH`);
  return found;
}

/** A folder for PATH that holds these tools only (name -> file it links to). */
export function pathOf(directory: string, tools: Record<string, string>): string {
  mkdirSync(directory, { recursive: true });
  for (const [name, target] of Object.entries(tools)) {
    if (!existsSync(join(directory, name))) symlinkSync(target, join(directory, name));
  }
  return directory;
}

/** `npm pack` of the repository into a folder: the tarball and the paths it holds; its size is printed. */
export function packRepository(destination: string, env?: NodeJS.ProcessEnv): { tarball: string; files: string[] } {
  const [packed] = JSON.parse(
    succeed("npm", ["pack", "--json", "--pack-destination", destination], repositoryRoot, env),
  ) as {
    filename: string;
    size: number;
    unpackedSize: number;
    files: { path: string }[];
  }[];
  const platforms = [
    ...new Set(packed!.files.map(({ path }) => /^prebuilds\/([^/]+)\//.exec(path)?.[1]).filter(Boolean)),
  ];
  // CI's log keeps what the tarball weighs with the prebuilt binaries it carries.
  console.log(
    `packed ${packed!.files.length} files, prebuilds for ${platforms.join(", ") || "no platform"}: ${packed!.size.toLocaleString("en")} bytes, ${packed!.unpackedSize.toLocaleString("en")} unpacked`,
  );
  return {
    tarball: join(destination, packed!.filename),
    files: packed!.files.map((file) => file.path),
  };
}

export function emptyProject(work: string, name: string): string {
  const project = join(work, name);
  mkdirSync(project);
  // npm >= 11.19 runs a dependency's install script only when the project allows it.
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({ name, private: true, type: "module", allowScripts: { ctxembed: true } }),
  );
  return project;
}

/** npm install of a tarball, with the install step's output shown. */
export function installTarball(
  project: string,
  file: string,
  path?: string,
  variables: NodeJS.ProcessEnv = {},
): { status: number | null; output: string } {
  const args = ["install", file, "--foreground-scripts", "--no-audit", "--no-fund", "--prefer-offline"];
  const result = run("npm", args, { cwd: project, env: { ...environment(path), ...variables } });
  return { status: result.status, output: `${result.stdout}\n${result.stderr}` };
}
