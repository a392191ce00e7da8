// Bit-exact conversions between float32 and the 16-bit float formats, matching what numpy and
// torch do in llama.cpp's converter: float32 -> float16 as numpy's astype(np.float16)
// (round to nearest, ties to even; overflow to infinity; NaN payload kept in the top bits),
// float16/bfloat16 -> float32 exactly.

const F16_INFINITY = 0x7c00;

/** Rounds float32 bits (as an unsigned 32-bit integer) to float16 bits. */
export function float32BitsToFloat16Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) {
    if (mantissa === 0) return sign | F16_INFINITY;
    // numpy keeps the payload's top bits, forcing a nonzero one so that NaN stays NaN.
    return sign | F16_INFINITY | (mantissa >>> 13 || 1);
  }
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 31) return sign | F16_INFINITY;
  if (halfExponent > 0) {
    // A carry out of the mantissa correctly bumps the exponent, up to infinity.
    return sign | shiftRightRoundingToEven((halfExponent << 23) | mantissa, 13);
  }
  // Below 2^-25 everything rounds to zero (exactly 2^-25 is a tie that goes to the even zero).
  if (halfExponent < -10) return sign;
  // Subnormal half: count units of 2^-24 in the value 1.mantissa * 2^(halfExponent - 15).
  return sign | shiftRightRoundingToEven(mantissa | 0x800000, 14 - halfExponent);
}

function shiftRightRoundingToEven(value: number, shift: number): number {
  const truncated = value >>> shift;
  const remainder = value & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return remainder > half || (remainder === half && (truncated & 1) === 1) ? truncated + 1 : truncated;
}

/** Widens float16 bits to float32 bits, exactly. */
export function float16BitsToFloat32Bits(half: number): number {
  const sign = (half & 0x8000) << 16;
  const exponent = (half >>> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  if (exponent === 0x1f) return (sign | 0x7f800000 | (mantissa << 13)) >>> 0;
  if (exponent !== 0) return (sign | ((exponent - 15 + 127) << 23) | (mantissa << 13)) >>> 0;
  if (mantissa === 0) return sign >>> 0;
  // Subnormal half: normalise the mantissa into float32's implicit-bit form.
  const leadingShift = Math.clz32(mantissa) - 21;
  const normalised = (mantissa << leadingShift) & 0x3ff;
  return (sign | ((127 - 15 + 1 - leadingShift) << 23) | (normalised << 13)) >>> 0;
}

/** float32 values (given as their bits) to float16 bits, element by element. */
export function float32ToFloat16(source: Uint32Array, target: Uint16Array): void {
  for (let i = 0; i < source.length; i++) target[i] = float32BitsToFloat16Bits(source[i] as number);
}

export function float16ToFloat32(source: Uint16Array, target: Uint32Array): void {
  for (let i = 0; i < source.length; i++) target[i] = float16BitsToFloat32Bits(source[i] as number);
}

/** bfloat16 is the top half of a float32, so widening is a shift. */
export function bfloat16ToFloat32(source: Uint16Array, target: Uint32Array): void {
  for (let i = 0; i < source.length; i++) target[i] = (source[i] as number) << 16;
}
