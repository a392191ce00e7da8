export const portableX64Instructions: readonly { cpuFlag: string; ggmlOption: string }[];
export const portableX64Excluded: readonly string[];
export function x64CpuInfo(): { vendor: string; flags: Set<string> } | null;
export function missingPortableInstructions(): string[];
