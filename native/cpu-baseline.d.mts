export interface X64CpuVariant {
  readonly name: string;
  /** /proc/cpuinfo flags the variant's build assumes */
  readonly cpuFlags: readonly string[];
  /** ggml CMake options the variant's build turns on */
  readonly ggmlOptions: readonly string[];
}
export interface X64CpuInfo {
  vendor: string;
  flags: Set<string>;
}
export const x64CpuVariants: readonly X64CpuVariant[];
export const x64InstructionOptions: readonly string[];
export function x64VariantOptions(variant: X64CpuVariant): Record<string, boolean>;
export function x64CpuInfo(): X64CpuInfo | null;
export function missingInstructions(variant?: X64CpuVariant, cpu?: X64CpuInfo | null): string[];
export function missingPortableInstructions(): string[];
/** Where a variant's prebuilt binary lies beside the baseline's. */
export function variantFile(baselineFile: string, variant?: X64CpuVariant): string;
export function prebuildVariant(
  baselineFile: string,
  environment?: Readonly<Record<string, string | undefined>>,
  cpu?: X64CpuInfo | null,
): { file: string; variant: string | undefined };
