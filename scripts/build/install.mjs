#!/usr/bin/env node
// The package's install step: use the binary that loads here (a build in build/Release, or the
// prebuilt one for this platform), and only otherwise build from source, saying why.
//
//   CTXEMBED_BUILD_FROM_SOURCE=1   ignore prebuilt binaries and build from source
//   CTXEMBED_CUDA=1                implies a source build: the prebuilt binaries are CPU-only
// The build's other switches are described in scripts/build/build-native.mjs.
import { relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { buildNative, envFlag } from "./build-native.mjs";
import { missingPortableInstructions, prebuildVariant } from "../../native/cpu-baseline.mjs";
import { packageRoot, probeAddon } from "./addon-probe.mjs";

function log(line) {
  console.error(`ctxembed: ${line}`);
}

/** Why this machine needs a source build, or undefined when a binary that loads is already here. */
function reasonToBuild() {
  if (envFlag("CTXEMBED_BUILD_FROM_SOURCE")) return "CTXEMBED_BUILD_FROM_SOURCE is set";
  if (envFlag("CTXEMBED_CUDA")) return "CTXEMBED_CUDA is set and the prebuilt binaries are CPU-only";
  const probe = probeAddon();
  const missing = missingPortableInstructions();
  if ("error" in probe) {
    // A binary built for instructions this CPU lacks may die as it loads (SIGILL): say which.
    const lacking =
      missing.length > 0 ? `; this CPU lacks ${missing.join(", ")}, which the prebuilt binaries assume` : "";
    return `no prebuilt binary for ${process.platform}-${process.arch} loads here (${probe.error})${lacking}`;
  }
  const file = relative(packageRoot, probe.file);
  if (file.startsWith(`prebuilds${sep}`)) {
    if (missing.length > 0) return `this CPU lacks ${missing.join(", ")}, which the prebuilt binary ${file} assumes`;
    // The library loads the widest CPU variant this CPU runs: that one has to load too.
    const { file: variantFile, variant } = prebuildVariant(probe.file);
    const variantProbe = variantFile === probe.file ? probe : probeAddon(variantFile);
    const chosen = relative(packageRoot, variantFile);
    if ("error" in variantProbe) return `the prebuilt binary ${chosen} does not load here (${variantProbe.error})`;
    log(`using the prebuilt binary ${chosen}${variant ? ` (CPU variant ${variant})` : ""}`);
  } else {
    log(`using the existing build ${file}`);
  }
  return undefined;
}

export async function install() {
  const reason = reasonToBuild();
  if (reason === undefined) return;
  log(`building from source: ${reason}`);
  await buildNative({ force: true });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  install().catch((error) => {
    log(error.message);
    process.exit(1);
  });
}
