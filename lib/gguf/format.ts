// GGUF container constants, as defined by ggml/include/gguf.h and ggml/include/ggml.h.

/** The four bytes every GGUF file starts with ("GGUF"). */
export const GGUF_MAGIC = new Uint8Array([0x47, 0x47, 0x55, 0x46]);

/** The version this package writes; the reader also accepts version 2, whose layout is identical. */
export const GGUF_VERSION = 3;
export const GGUF_READABLE_VERSIONS: readonly number[] = [2, 3];

export const GGUF_DEFAULT_ALIGNMENT = 32;
export const GGUF_ALIGNMENT_KEY = "general.alignment";
/**
 * Set in files whose activations ctxembed's quantizer smoothed (lib/hub/smoothing.ts), to where
 * the factors came from. Such a file has tensors only ctxembed's llama.cpp reads: upstream
 * llama.cpp, ollama and node-llama-cpp refuse it ("wrong number of tensors").
 */
export const ACTIVATION_SMOOTHING_KEY = "ctxembed.activation_smoothing";

/** ggml's limits on tensors (GGML_MAX_DIMS, GGML_MAX_NAME including the terminating NUL). */
export const GGML_MAX_DIMS = 4;
export const GGML_MAX_NAME_BYTES = 63;

/** gguf.cpp refuses longer strings and arrays (GGUF_MAX_STRING_LENGTH, GGUF_MAX_ARRAY_ELEMENTS). */
export const GGUF_MAX_STRING_BYTES = 1024 * 1024 * 1024;
export const GGUF_MAX_ARRAY_ELEMENTS = 1024 * 1024 * 1024;

/** Metadata value type ids (enum gguf_type). */
export const GgufValueType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;
export type GgufValueType = (typeof GgufValueType)[keyof typeof GgufValueType];
export type GgufScalarType = Exclude<GgufValueType, typeof GgufValueType.ARRAY>;

const VALUE_TYPE_NAMES = new Map<number, string>(
  Object.entries(GgufValueType).map(([name, id]) => [id, name.toLowerCase()]),
);

export function isGgufValueType(id: number): id is GgufValueType {
  return VALUE_TYPE_NAMES.has(id);
}

export function ggufValueTypeName(id: number): string {
  return VALUE_TYPE_NAMES.get(id) ?? `unknown type ${id}`;
}

/** Encoded size of a fixed-size scalar; strings are length-prefixed and have none. */
export function ggufScalarByteSize(type: GgufScalarType): number | undefined {
  switch (type) {
    case GgufValueType.UINT8:
    case GgufValueType.INT8:
    case GgufValueType.BOOL:
      return 1;
    case GgufValueType.UINT16:
    case GgufValueType.INT16:
      return 2;
    case GgufValueType.UINT32:
    case GgufValueType.INT32:
    case GgufValueType.FLOAT32:
      return 4;
    case GgufValueType.UINT64:
    case GgufValueType.INT64:
    case GgufValueType.FLOAT64:
      return 8;
    case GgufValueType.STRING:
      return undefined;
  }
}

/** Tensor element type ids (enum ggml_type). */
export const GgmlType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  Q8_1: 9,
  Q2_K: 10,
  Q3_K: 11,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  Q8_K: 15,
  IQ2_XXS: 16,
  IQ2_XS: 17,
  IQ3_XXS: 18,
  IQ1_S: 19,
  IQ4_NL: 20,
  IQ3_S: 21,
  IQ2_S: 22,
  IQ4_XS: 23,
  I8: 24,
  I16: 25,
  I32: 26,
  I64: 27,
  F64: 28,
  IQ1_M: 29,
  BF16: 30,
  TQ1_0: 34,
  TQ2_0: 35,
  MXFP4: 39,
  NVFP4: 40,
  Q1_0: 41,
  Q2_0: 42,
} as const;
export type GgmlType = (typeof GgmlType)[keyof typeof GgmlType];

export interface GgmlTypeTraits {
  name: string;
  /** elements per block; a row's length must be a multiple of it */
  blockSize: number;
  /** bytes per block */
  blockBytes: number;
}

// Values of ggml_blck_size()/ggml_type_size() from ggml.c's type_traits table. Ids missing here
// (4, 5, 31-33, 36-38) are types whose support ggml has removed.
const TYPE_TRAITS: ReadonlyMap<number, GgmlTypeTraits> = new Map(
  (
    [
      ["F32", 1, 4],
      ["F16", 1, 2],
      ["Q4_0", 32, 18],
      ["Q4_1", 32, 20],
      ["Q5_0", 32, 22],
      ["Q5_1", 32, 24],
      ["Q8_0", 32, 34],
      ["Q8_1", 32, 36],
      ["Q2_K", 256, 84],
      ["Q3_K", 256, 110],
      ["Q4_K", 256, 144],
      ["Q5_K", 256, 176],
      ["Q6_K", 256, 210],
      ["Q8_K", 256, 292],
      ["IQ2_XXS", 256, 66],
      ["IQ2_XS", 256, 74],
      ["IQ3_XXS", 256, 98],
      ["IQ1_S", 256, 50],
      ["IQ4_NL", 32, 18],
      ["IQ3_S", 256, 110],
      ["IQ2_S", 256, 82],
      ["IQ4_XS", 256, 136],
      ["I8", 1, 1],
      ["I16", 1, 2],
      ["I32", 1, 4],
      ["I64", 1, 8],
      ["F64", 1, 8],
      ["IQ1_M", 256, 56],
      ["BF16", 1, 2],
      ["TQ1_0", 256, 54],
      ["TQ2_0", 256, 66],
      ["MXFP4", 32, 17],
      ["NVFP4", 64, 36],
      ["Q1_0", 128, 18],
      ["Q2_0", 64, 18],
    ] as const
  ).map(([name, blockSize, blockBytes]) => [GgmlType[name], { name, blockSize, blockBytes }]),
);

export function ggmlTypeTraits(type: number): GgmlTypeTraits | undefined {
  return TYPE_TRAITS.get(type);
}

/**
 * Byte size of a tensor's data (ggml_nbytes for a contiguous tensor), shape in GGUF order.
 * Computed exactly; callers decide whether the result is plausible.
 */
export function ggmlTensorByteLength(shape: readonly number[] | readonly bigint[], type: number): bigint {
  const traits = ggmlTypeTraits(type);
  if (traits === undefined) throw new RangeError(`unknown ggml type ${type}`);
  const elements = shape.reduce<bigint>((product, dim) => product * BigInt(dim), 1n);
  return (elements / BigInt(traits.blockSize)) * BigInt(traits.blockBytes);
}

/** general.file_type values (enum llama_ftype) this package produces: by its converter (F32, F16) or by llama.cpp's quantizer. */
export const LlamaFileType = {
  ALL_F32: 0,
  MOSTLY_F16: 1,
  MOSTLY_Q4_0: 2,
  MOSTLY_Q4_1: 3,
  MOSTLY_Q8_0: 7,
  MOSTLY_Q5_0: 8,
  MOSTLY_Q5_1: 9,
  MOSTLY_Q2_K: 10,
  MOSTLY_Q3_K_S: 11,
  MOSTLY_Q3_K_M: 12,
  MOSTLY_Q3_K_L: 13,
  MOSTLY_Q4_K_S: 14,
  MOSTLY_Q4_K_M: 15,
  MOSTLY_Q5_K_S: 16,
  MOSTLY_Q5_K_M: 17,
  MOSTLY_Q6_K: 18,
  MOSTLY_IQ4_NL: 25,
  MOSTLY_BF16: 32,
} as const;

export function alignUp(offset: number, alignment: number): number {
  return Math.ceil(offset / alignment) * alignment;
}
