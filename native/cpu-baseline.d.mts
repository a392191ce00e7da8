export interface CpuVariant {
  /** the architecture the variant is built for, as process.arch spells it */
  readonly arch: "x64" | "arm64";
  readonly name: string;
  /** instruction-set flags the variant's build assumes, as Linux's /proc/cpuinfo names them */
  readonly cpuFlags: readonly string[];
  /** ggml CMake options the variant's build turns on (x86-64) */
  readonly ggmlOptions: readonly string[];
  /** the -march value of the variant's build (arm64) */
  readonly march?: string;
}
export interface CpuInfo {
  vendor: string;
  flags: Set<string>;
}
export const x64CpuVariants: readonly CpuVariant[];
export const arm64CpuVariants: readonly CpuVariant[];
export function cpuVariantsOf(arch?: string): readonly CpuVariant[];
export const x64InstructionOptions: readonly string[];
export function x64VariantOptions(variant: CpuVariant): Record<string, boolean>;
/** The CMake -D options of a variant's portable build. */
export function variantOptions(variant: CpuVariant): Record<string, boolean | string>;
export function x64CpuInfo(): CpuInfo | null;
export function arm64CpuInfo(): CpuInfo | null;
export function cpuInfo(arch?: string): CpuInfo | null;
export function missingInstructions(variant?: CpuVariant, cpu?: CpuInfo | null): string[];
export function missingPortableInstructions(): string[];
/** Where a variant's prebuilt binary lies beside the baseline's. */
export function variantFile(baselineFile: string, variant?: CpuVariant): string;
export function prebuildVariant(
  baselineFile: string,
  environment?: Readonly<Record<string, string | undefined>>,
  cpu?: CpuInfo | null,
  variants?: readonly CpuVariant[],
): { file: string; variant: string | undefined };
