export const prebuildDirectory: string;
export const prebuildFile: string;
export function prebuild(): Promise<string>;
export function hasPrebuild(): boolean;
