export const addonPath: string;
export function buildNative(options?: { force?: boolean; target?: string }): Promise<string>;
