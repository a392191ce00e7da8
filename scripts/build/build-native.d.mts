import type { CpuVariant } from "../../native/cpu-baseline.mjs";
export const defaultBuildDirectory: string;
export function envFlag(name: string): boolean;
export function addonIn(buildDirectory: string): string;
export function cmakeOptions(switches: {
  portable: boolean;
  cuda: boolean;
  cpuVariant?: CpuVariant;
}): Record<string, boolean | string>;
export function buildNative(options?: {
  force?: boolean;
  target?: string;
  out?: string;
  portable?: boolean;
  cuda?: boolean;
  cpuVariant?: CpuVariant;
  /** a cross build: the CMake toolchain file, the compiler it names and what to install without it */
  cross?: { toolchainFile: string; compiler: string; advice: string };
}): Promise<string>;
