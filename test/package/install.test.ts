// The package as a user gets it: `npm pack`, installed into an empty project, then used. The
// first install runs where no compiler or cmake is on the PATH, so only the prebuilt binary can
// make it work; the others take the prebuilds out and expect the source build (or its advice).
// Sentence vectors are checked against sentence-transformers' (the sentence-parity fixture).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cosineSimilarity } from "../../lib/vectors/similarity.js";
import { missingInstructions, x64CpuVariants } from "../../native/cpu-baseline.mjs";
import { hasCurrentPrebuild, prebuild, prebuildVariantFile } from "../../scripts/build/prebuild.mjs";
import { minilmPath, repositoryRoot, sentenceFixture } from "../model/models.js";
import {
  commandPath,
  emptyProject,
  environment,
  installTarball as install,
  packRepository,
  pathOf,
  run,
  succeed,
} from "./npm-project.js";

const packageJson = JSON.parse(readFileSync(join(repositoryRoot, "package.json"), "utf8")) as {
  exports: Record<string, unknown>;
};
const work = mkdtempSync(join(tmpdir(), "ctxembed-package-"));
const fixture = sentenceFixture();
let tarball: string;
let modelPath: string;
/** The CPU variants of the x86-64 prebuild this CPU runs, baseline first (none elsewhere). */
const runnableVariants =
  process.arch === "x64" ? x64CpuVariants.filter((variant) => missingInstructions(variant).length === 0) : [];
const widestVariantHere = runnableVariants.at(-1);

/** A PATH holding node, npm and sh only: no compiler, no cmake, no git. */
function toolFreePath(): string {
  return pathOf(
    join(work, "tool-free-bin"),
    Object.fromEntries(["node", "npm", "sh"].map((tool) => [tool, commandPath(tool, work)])),
  );
}

// Run inside the project: which binary the package loads there, every fixture sentence in one
// batch, and the first sentence alone.
const embedScript = `
import { pathToFileURL } from "node:url";
import { join } from "node:path";
import { loadModel } from "ctxembed";
const [packageDirectory, modelPath, sentencesJson] = process.argv.slice(1);
const sentences = JSON.parse(sentencesJson);
const { nativeAddonFile } = await import(pathToFileURL(join(packageDirectory, "dist", "native", "addon.js")).href);
const model = await loadModel(modelPath, { threads: 2 });
const batch = await model.embed(sentences);
const alone = await model.embed(sentences[0]);
await model.dispose();
process.stdout.write(JSON.stringify({
  binary: nativeAddonFile(),
  embeddings: batch.map(({ embedding }) => Array.from(embedding)),
  alone: Array.from(alone.embedding),
}));
`;

interface InstalledRun {
  packageDirectory: string;
  binary: string;
  embeddings: number[][];
  alone: number[];
}

function embedIn(project: string, path?: string, variables: NodeJS.ProcessEnv = {}): InstalledRun {
  const packageDirectory = join(project, "node_modules", "ctxembed");
  const args = [
    "--input-type=module",
    "-e",
    embedScript,
    packageDirectory,
    modelPath,
    JSON.stringify(fixture.sentences),
  ];
  const result = run("node", args, { cwd: project, env: { ...environment(path), ...variables } });
  if (result.status !== 0) throw new Error(`embedding through the installed package failed:\n${result.stderr}`);
  return { packageDirectory, ...JSON.parse(result.stdout) };
}

/** Sentence-transformers' vectors to 0.9999 cosine each, and the first sentence alone as in the batch. */
function expectReferenceVectors(result: InstalledRun): void {
  const cosines = result.embeddings.map((embedding, i) => cosineSimilarity(embedding, fixture.embeddings[i]!));
  expect(cosines).toHaveLength(fixture.sentences.length);
  expect(Math.min(...cosines)).toBeGreaterThanOrEqual(0.9999);
  expect(cosineSimilarity(result.alone, result.embeddings[0]!)).toBeGreaterThanOrEqual(0.99999);
}

let strippedTarball: string | undefined;

/** The tarball with prebuilds/ taken out, as a platform without a prebuilt binary sees it. */
function tarballWithoutPrebuilds(): string {
  if (strippedTarball) return strippedTarball;
  const unpacked = join(work, "unpacked");
  mkdirSync(unpacked);
  succeed("tar", ["-xzf", tarball, "-C", unpacked], work);
  expect(existsSync(join(unpacked, "package", "prebuilds"))).toBe(true);
  rmSync(join(unpacked, "package", "prebuilds"), { recursive: true });
  const file = join(work, "ctxembed-without-prebuilds.tgz");
  succeed("tar", ["-czf", file, "-C", unpacked, "package"], work);
  strippedTarball = file;
  return file;
}

beforeAll(async () => {
  // CI starts from a clean clone: the release binary is built here when it is not there yet.
  if (!hasCurrentPrebuild()) await prebuild();
  modelPath = await minilmPath("f32");
  const packed = packRepository(work);
  expect(packed.files.some((file) => file.startsWith("prebuilds/linux-x64/"))).toBe(true);
  tarball = packed.tarball;
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("the packed package", () => {
  it("installs and embeds through the prebuilt binary with no compiler or cmake on the PATH", () => {
    const path = toolFreePath();
    for (const tool of ["cmake", "c++", "g++", "cc", "gcc", "git"]) {
      expect(
        run(tool, ["--version"], { cwd: work, env: environment(path) }).error,
        `${tool} must not be reachable`,
      ).toBeDefined();
    }
    const project = emptyProject(work, "with-prebuilds");
    const { status, output } = install(project, tarball, path);
    expect(status, output).toBe(0);
    expect(output).toMatch(/ctxembed: using the prebuilt binary prebuilds[/\\]/);
    expect(output).not.toMatch(/building from source/);

    const result = embedIn(project, path);
    expect(existsSync(join(result.packageDirectory, "build"))).toBe(false);
    expect(relative(result.packageDirectory, result.binary)).toBe(
      relative(repositoryRoot, prebuildVariantFile(widestVariantHere)),
    );
    if (widestVariantHere) expect(output).toContain(`(CPU variant ${widestVariantHere.name})`);
    expectReferenceVectors(result);

    // Every variant this CPU runs, named, keeps the parity and batch-invariance bounds.
    for (const variant of runnableVariants) {
      const named = embedIn(project, path, { CTXEMBED_CPU_VARIANT: variant.name });
      expect(relative(named.packageDirectory, named.binary)).toBe(
        relative(repositoryRoot, prebuildVariantFile(variant)),
      );
      expectReferenceVectors(named);
    }

    // Every entry point loads without the install scripts: with scripts/ moved away, an import
    // of any file there would fail. The dependency runs from the install scripts to the library.
    const scripts = join(result.packageDirectory, "scripts");
    renameSync(scripts, `${scripts}-moved-away`);
    try {
      const entries = Object.keys(packageJson.exports).filter((entry) => entry !== "./package.json");
      const specifiers = entries.map((entry) => (entry === "." ? "ctxembed" : `ctxembed/${entry.slice(2)}`));
      expect(specifiers).toContain("ctxembed/eval");
      const script = `for (const specifier of ${JSON.stringify(specifiers)}) await import(specifier);`;
      const imported = run("node", ["--input-type=module", "-e", script], { cwd: project, env: environment(path) });
      expect(imported.status, imported.stderr).toBe(0);
    } finally {
      renameSync(`${scripts}-moved-away`, scripts);
    }
  });

  it("without prebuilds or build tools, the install fails and says what to install", () => {
    const project = emptyProject(work, "without-tools");
    const { status, output } = install(project, tarballWithoutPrebuilds(), toolFreePath());
    expect(status).not.toBe(0);
    expect(output).toMatch(/ctxembed: building from source: no prebuilt binary for \S+ loads here/);
    expect(output).toMatch(/cmake was not found[\s\S]*Install CMake/);
  });

  it("without prebuilds, the install builds from source and the result embeds", () => {
    const project = emptyProject(work, "from-source");
    const { status, output } = install(project, tarballWithoutPrebuilds());
    expect(status, output.slice(-4000)).toBe(0);
    expect(output).toMatch(/ctxembed: building from source: no prebuilt binary/);

    const result = embedIn(project);
    expect(relative(result.packageDirectory, result.binary).split(sep).slice(0, 2)).toEqual(["build", "Release"]);
    expectReferenceVectors(result);
  });
});
