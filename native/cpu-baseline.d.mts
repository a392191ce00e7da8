export const portableX64Instructions: readonly { cpuFlag: string; ggmlOption: string }[];
export const portableX64Excluded: readonly string[];
export function missingPortableInstructions(): string[];
