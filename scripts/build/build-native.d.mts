import type { X64CpuVariant } from "../../native/cpu-baseline.mjs";
export const defaultBuildDirectory: string;
export function envFlag(name: string): boolean;
export function addonIn(buildDirectory: string): string;
export function cmakeOptions(switches: {
  portable: boolean;
  cuda: boolean;
  cpuVariant?: X64CpuVariant;
}): Record<string, boolean>;
export function buildNative(options?: {
  force?: boolean;
  target?: string;
  out?: string;
  portable?: boolean;
  cuda?: boolean;
  cpuVariant?: X64CpuVariant;
}): Promise<string>;
