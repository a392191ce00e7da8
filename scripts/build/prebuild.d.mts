import type { X64CpuVariant } from "../../native/cpu-baseline.mjs";
export const prebuildDirectory: string;
export const prebuildFile: string;
/** Where a CPU variant's binary goes (the baseline: prebuildFile). */
export function prebuildVariantFile(variant?: X64CpuVariant): string;
export function prebuild(): Promise<string>;
/** Whether every released variant has a prebuilt binary newer than what it is built from (sources, build options, the llama.cpp pin and patches). */
export function hasCurrentPrebuild(): boolean;
