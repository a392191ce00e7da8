export const packageRoot: string;
export function probeAddon(file?: string): { file: string; systemInfo: string } | { error: string };
