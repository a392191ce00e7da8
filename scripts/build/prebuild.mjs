#!/usr/bin/env node
// Release binaries: a portable CPU build of the addon for each platform, placed as
// prebuilds/<platform>-<arch>/ctxembed.napi[.glibc|.musl].node, the layout prebuildify writes
// and node-gyp-build reads (prebuildify itself cannot drive cmake-js). On x86-64 that is the
// x86-64-v3 baseline, and each wider CPU variant of native/cpu-baseline.mjs goes beside it in
// prebuilds/linux-x64/<variant>/, built in build-prebuild-<variant>/; the library loads the widest
// one the CPU runs. A linux-x64 host also cross-compiles linux-arm64 (cmake/aarch64-linux-gnu.cmake,
// Debian's g++-aarch64-linux-gnu) in build-prebuild-linux-arm64/; that binary cannot load here,
// and test/package/arm64.test.ts runs it under qemu-user.
//
//   node scripts/build/prebuild.mjs                          every platform this host builds
//   node scripts/build/prebuild.mjs --platform linux-arm64   only the platforms named
//
// The host's own baseline builds in build-prebuild/, apart from the development build in build/
// (which may use every instruction of this machine), unless build/ was itself configured as a
// portable CPU build (CTXEMBED_PORTABLE=1 npm install): then that tree is brought up to date and
// copied, which saves CI a second compile of llama.cpp.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  closeSync,
  readdirSync,
  rmSync,
  statSync,
} from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { addonIn, buildNative, cmakeOptions, defaultBuildDirectory } from "./build-native.mjs";
import { packageRoot, probeAddon } from "./addon-probe.mjs";
import { cpuVariantsOf, missingInstructions, variantFile } from "../../native/cpu-baseline.mjs";

const releaseSwitches = { portable: true, cuda: false };
const patchDirectory = join(packageRoot, "scripts", "build", "llama-patches");
const toolchainDirectory = join(packageRoot, "cmake");
export const hostPlatform = `${process.platform}-${process.arch}`;

// Platforms built on another one, by the host that builds them. ELF machine numbers check that
// the compiler made what was asked for.
const crossTargets = {
  "linux-arm64": {
    host: "linux-x64",
    arch: "arm64",
    libc: "glibc",
    elfMachine: 183,
    toolchainFile: join(toolchainDirectory, "aarch64-linux-gnu.cmake"),
    compiler: `${process.env.CTXEMBED_AARCH64_PREFIX ?? "aarch64-linux-gnu-"}g++`,
    advice:
      "Install the arm64 cross compiler (Debian/Ubuntu: apt-get install g++-aarch64-linux-gnu), or build the host's platform only: --platform " +
      hostPlatform,
  },
};

/** The platforms this host makes prebuilt binaries for: its own, then those it cross-compiles. */
export const prebuildPlatforms = [
  hostPlatform,
  ...Object.entries(crossTargets)
    .filter(([platform, target]) => target.host === hostPlatform && platform !== hostPlatform)
    .map(([platform]) => platform),
];

function targetOf(platform) {
  if (!prebuildPlatforms.includes(platform)) {
    throw new Error(
      `this ${hostPlatform} host makes no prebuilt binary for ${platform}: it makes ${prebuildPlatforms.join(", ")}`,
    );
  }
  const cross = platform === hostPlatform ? undefined : crossTargets[platform];
  const arch = cross?.arch ?? process.arch;
  const variants = cpuVariantsOf(arch);
  return { platform, cross, variants: variants.length > 0 ? variants : [undefined] };
}

function libcTag(platform) {
  if (!platform.startsWith("linux-")) return [];
  if (platform !== hostPlatform) return [crossTargets[platform].libc];
  return [process.report.getReport().header.glibcVersionRuntime ? "glibc" : "musl"];
}

/** Where a platform's baseline binary goes (the host's unless named). */
export function prebuildFile(platform = hostPlatform) {
  return join(packageRoot, "prebuilds", platform, ["ctxembed", "napi", ...libcTag(platform), "node"].join("."));
}

/** Whether a build tree was configured with exactly the given options. */
function configuredWith(buildDirectory, options) {
  const cache = join(buildDirectory, "CMakeCache.txt");
  if (!existsSync(cache)) return false;
  const entries = new Map(
    readFileSync(cache, "utf8")
      .split("\n")
      .map((line) => /^([A-Z0-9_]+):(\w+)=(.*)$/.exec(line))
      .filter(Boolean)
      .map(([, name, type, value]) => [name, type === "BOOL" ? value.toUpperCase() === "ON" : value]),
  );
  return Object.entries(options).every(([name, value]) => entries.get(name) === value);
}

function isBaseline(variant) {
  return variant === undefined || cpuVariantsOf(variant.arch)[0] === variant;
}

/** Where a CPU variant's binary goes: its architecture's platform, the host's when undefined. */
export function prebuildVariantFile(variant) {
  const platform = variant === undefined ? hostPlatform : `${process.platform}-${variant.arch}`;
  return variantFile(prebuildFile(platform), variant);
}

function buildDirectoryOf({ platform, cross }, variant) {
  const folder = ["build-prebuild", ...(cross ? [platform] : []), ...(isBaseline(variant) ? [] : [variant.name])].join(
    "-",
  );
  if (cross || !isBaseline(variant)) return join(packageRoot, folder);
  const releaseOptions = cmakeOptions({ ...releaseSwitches, cpuVariant: variant });
  return configuredWith(defaultBuildDirectory, releaseOptions) ? defaultBuildDirectory : join(packageRoot, folder);
}

/** The e_machine field of an ELF file's header. */
function elfMachineOf(file) {
  const header = Buffer.alloc(20);
  const descriptor = openSync(file, "r");
  try {
    readSync(descriptor, header, 0, header.length, 0);
  } finally {
    closeSync(descriptor);
  }
  return header.toString("latin1", 0, 4) === "\x7fELF" ? header.readUInt16LE(18) : undefined;
}

/** Checks a binary the way it will be used: loaded here, or, built for another platform, by its ELF header. */
function checkBinary({ platform, cross }, variant, file) {
  const made = relative(packageRoot, file);
  if (cross) {
    const machine = elfMachineOf(file);
    if (machine !== cross.elfMachine) {
      throw new Error(`${made} is not a ${platform} binary (ELF machine ${machine}, expected ${cross.elfMachine})`);
    }
    return `built for ${platform}, so not loaded here: test/package/arm64.test.ts runs it under qemu-user`;
  }
  const missing = variant === undefined ? [] : missingInstructions(variant);
  if (missing.length > 0) return `not loaded here: this CPU lacks ${missing.join(", ")}`;
  const probe = probeAddon(file);
  if ("error" in probe) throw new Error(`the prebuilt binary ${file} does not load: ${probe.error}`);
  return probe.systemInfo;
}

/** Builds the prebuilt binaries of the platforms named (the host's own unless named); returns the host's baseline file. */
export async function prebuild(platforms = [hostPlatform]) {
  const targets = platforms.map(targetOf);
  for (const target of targets) {
    rmSync(join(packageRoot, "prebuilds", target.platform), { recursive: true, force: true });
    for (const variant of target.variants) {
      const out = buildDirectoryOf(target, variant);
      await buildNative({ force: true, out, ...releaseSwitches, cpuVariant: variant, cross: target.cross });
      const file = prebuildVariantFile(variant);
      mkdirSync(dirname(file), { recursive: true });
      copyFileSync(addonIn(out), file);
      console.error(
        `ctxembed: ${relative(packageRoot, file)} from ${relative(packageRoot, out)}/ (${checkBinary(target, variant, file)})`,
      );
    }
  }
  return prebuildFile();
}

/**
 * The newest modification time (ms) of what a binary is built from: the addon's sources, CMake and
 * the build script's options, the cross toolchains, the llama.cpp pin (package.json) and its patches.
 */
function newestSource() {
  const filesIn = (directory, pattern) =>
    readdirSync(directory)
      .filter((name) => pattern.test(name))
      .map((name) => join(directory, name));
  const sources = [
    join(packageRoot, "CMakeLists.txt"),
    join(packageRoot, "package.json"),
    join(packageRoot, "scripts", "build", "build-native.mjs"),
    join(packageRoot, "scripts", "build", "fetch-llama.mjs"),
    ...filesIn(join(packageRoot, "native"), /\.(cpp|h|mjs)$/),
    ...filesIn(toolchainDirectory, /\.cmake$/),
    ...filesIn(patchDirectory, /./),
  ];
  return Math.max(...sources.map((file) => statSync(file).mtimeMs));
}

/** Whether every released variant of a platform (the host's unless named) has a prebuilt binary, built after its sources last changed (as make decides). */
export function hasCurrentPrebuild(platform = hostPlatform) {
  const files = targetOf(platform).variants.map((variant) =>
    variant === undefined ? prebuildFile(platform) : prebuildVariantFile(variant),
  );
  if (!files.every(existsSync)) return false;
  const sources = newestSource();
  return files.every((file) => statSync(file).mtimeMs >= sources);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const { values } = parseArgs({ options: { platform: { type: "string", multiple: true } } });
    await prebuild(values.platform ?? prebuildPlatforms);
  } catch (error) {
    console.error(`ctxembed: ${error.message}`);
    process.exit(1);
  }
}
