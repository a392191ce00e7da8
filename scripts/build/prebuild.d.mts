import type { CpuVariant } from "../../native/cpu-baseline.mjs";
/** This machine's platform, e.g. linux-x64. */
export const hostPlatform: string;
/** The platforms this host makes prebuilt binaries for: its own, then those it cross-compiles (linux-x64: linux-arm64). */
export const prebuildPlatforms: readonly string[];
/** Where a platform's baseline binary goes (the host's unless named). */
export function prebuildFile(platform?: string): string;
/** Where a CPU variant's binary goes, in its architecture's folder (undefined: the host's baseline). */
export function prebuildVariantFile(variant?: CpuVariant): string;
/** Builds the prebuilt binaries of the platforms named (the host's own unless named); returns the host's baseline file. */
export function prebuild(platforms?: readonly string[]): Promise<string>;
/** Whether every released variant of a platform (the host's unless named) has a prebuilt binary newer than what it is built from (sources, build options, toolchains, the llama.cpp pin and patches). */
export function hasCurrentPrebuild(platform?: string): boolean;
