export const defaultBuildDirectory: string;
export function envFlag(name: string): boolean;
export function addonIn(buildDirectory: string): string;
export function cmakeOptions(switches: { portable: boolean; cuda: boolean }): Record<string, boolean>;
export function buildNative(options?: {
  force?: boolean;
  target?: string;
  out?: string;
  portable?: boolean;
  cuda?: boolean;
}): Promise<string>;
