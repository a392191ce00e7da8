import { availableParallelism } from "node:os";
import { stat } from "node:fs/promises";
import { GgmlType, LlamaFileType } from "../gguf/format.js";
import { readGgufHeader } from "../gguf/reader.js";
import { nativeAddon } from "../native/addon.js";
import { reserveTemporary } from "../util/atomic-file.js";
import { checkOutputPath } from "../util/output-path.js";
import { smoothingObstacle, writeSmoothedModel } from "./smoothing.js";

/**
 * Weight types llama.cpp's quantizer makes without an importance matrix, named as llama-quantize
 * names them (lower case). The i-quants below 4 bits need an importance matrix and are left out.
 */
export const QUANTIZE_TYPES = [
  "f32",
  "f16",
  "bf16",
  "q8_0",
  "q6_k",
  "q5_k_m",
  "q5_k_s",
  "q5_1",
  "q5_0",
  "q4_k_m",
  "q4_k_s",
  "q4_1",
  "q4_0",
  "iq4_nl",
  "q3_k_l",
  "q3_k_m",
  "q3_k_s",
  "q2_k",
] as const;
export type QuantizeType = (typeof QUANTIZE_TYPES)[number];

export function llamaFileTypeOf(type: QuantizeType): number {
  return type === "f32"
    ? LlamaFileType.ALL_F32
    : LlamaFileType[`MOSTLY_${type.toUpperCase()}` as keyof typeof LlamaFileType];
}

export interface QuantizeOptions {
  type: QuantizeType;
  /** threads for the quantizer; default: every core */
  threads?: number;
  /** quantize tensors that are quantized already (each pass loses accuracy); default false */
  allowRequantize?: boolean;
  /**
   * Smooth the activations of BERT-family files before quantizing them (lib/hub/smoothing.ts);
   * default: for every quantized type where the file allows it. The file then needs ctxembed's
   * llama.cpp, which knows the added tensors.
   */
  smoothActivations?: boolean;
}

export interface QuantizeReport {
  outputPath: string;
  type: QuantizeType;
  inputBytes: number;
  outputBytes: number;
  /** whether the activations were smoothed; for a quantized type, why not unless it was turned off */
  smoothed: boolean;
  notSmoothedBecause?: string;
}

const UNQUANTIZED_TYPES: ReadonlySet<number> = new Set([GgmlType.F32, GgmlType.F16, GgmlType.BF16]);
const UNQUANTIZED_OUTPUTS: ReadonlySet<QuantizeType> = new Set(["f32", "f16", "bf16"]);

/**
 * Writes `outputPath`: the GGUF at `inputPath` with its weights converted to `type` by
 * llama.cpp's llama_model_quantize (the code behind llama-quantize). The output path is checked
 * first; the file is written under a temporary name and moved into place at the end, so a failed
 * or interrupted run leaves no output, hidden or not.
 */
export async function quantizeModel(
  inputPath: string,
  outputPath: string,
  options: QuantizeOptions,
): Promise<QuantizeReport> {
  const { type } = options;
  if (!(QUANTIZE_TYPES as readonly string[]).includes(type)) {
    throw new TypeError(`unknown quantization type '${type}': expected one of ${QUANTIZE_TYPES.join(", ")}`);
  }
  const threads = options.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1)
    throw new RangeError(`threads must be a positive integer, got ${threads}`);
  // Before any work: a folder, a missing folder or the input itself would fail (or be lost) only at the end.
  await checkOutputPath(outputPath, { files: [{ path: inputPath, role: "the input" }] });
  const header = await readGgufHeader(inputPath);
  const quantized = header.tensors.filter((tensor) => !UNQUANTIZED_TYPES.has(tensor.type as GgmlType));
  if (quantized.length > 0 && !options.allowRequantize) {
    throw new Error(
      `${inputPath} is quantized already (${quantized.length} tensors, e.g. ${quantized[0]!.name}); quantize from an f32, f16 or bf16 file, or allow requantizing (--allow-requantize), which loses accuracy twice`,
    );
  }
  // llama.cpp multiplies f32, f16 and bf16 weights by activations it does not quantize
  const quantizesActivations = !UNQUANTIZED_OUTPUTS.has(type);
  const obstacle = quantizesActivations ? smoothingObstacle(header) : `${type} weights meet unquantized activations`;
  if (options.smoothActivations === true && obstacle !== undefined) {
    throw new Error(`${inputPath} cannot be smoothed: ${obstacle}`);
  }
  const smoothed = options.smoothActivations !== false && obstacle === undefined;
  // Both temporaries are removed on an error, and on exit or a signal (lib/util/atomic-file.ts).
  const written = reserveTemporary(outputPath);
  const smoothedCopy = reserveTemporary(`${outputPath}.smoothed`);
  try {
    if (smoothed) await writeSmoothedModel(inputPath, smoothedCopy.temporaryPath, { threads });
    await nativeAddon().quantizeModel(smoothed ? smoothedCopy.temporaryPath : inputPath, written.temporaryPath, {
      fileType: llamaFileTypeOf(type),
      threads,
      allowRequantize: options.allowRequantize ?? false,
    });
    await written.commit();
  } catch (error) {
    await written.discard();
    throw error;
  } finally {
    await smoothedCopy.discard();
  }
  return {
    outputPath,
    type,
    inputBytes: header.fileSize,
    outputBytes: (await stat(outputPath)).size,
    smoothed,
    ...(smoothed || !quantizesActivations || options.smoothActivations === false
      ? {}
      : { notSmoothedBecause: obstacle }),
  };
}
