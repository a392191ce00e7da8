export const llamaDir: string;
export function readPin(): { spec: string; bundlePath: string; sha256: string; pin: string };
export function patchNames(directory?: string): string[];
export function cloneLlamaSource(
  directory: string,
  options?: { patchFiles?: string[]; log?: (line: string) => void },
): Promise<string>;
export function fetchLlama(options?: { log?: (line: string) => void }): Promise<string>;
