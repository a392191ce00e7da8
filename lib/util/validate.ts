// Argument checks that run before anything reaches the native addon, so that a mistake gets a
// precise TypeError/RangeError instead of a llama.cpp assert that would end the process.

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string")
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return typeof value === "object" ? "an object" : `${typeof value} ${String(value)}`;
}

/** A non-empty, well-formed string (no lone UTF-16 surrogates, which have no UTF-8 form). */
export function requireText(value: unknown, what: string): string {
  if (typeof value !== "string") throw new TypeError(`${what} must be a string, got ${describe(value)}`);
  if (value.length === 0) throw new RangeError(`${what} is an empty string: there is nothing to embed`);
  const surrogate = loneSurrogate.exec(value);
  if (surrogate) {
    throw new TypeError(
      `${what} is not well-formed Unicode: a lone surrogate (\\u${surrogate[0].charCodeAt(0).toString(16)}) at index ${surrogate.index} has no UTF-8 encoding`,
    );
  }
  return value;
}

export function requireInteger(value: unknown, what: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== "number" || !Number.isInteger(value))
    throw new TypeError(`${what} must be an integer, got ${describe(value)}`);
  if (value < min || value > max) throw new RangeError(`${what} must be between ${min} and ${max}, got ${value}`);
  return value;
}

export function requireBoolean(value: unknown, what: string): boolean {
  if (typeof value !== "boolean") throw new TypeError(`${what} must be a boolean, got ${describe(value)}`);
  return value;
}

export function requireOneOf<T extends string>(value: unknown, what: string, allowed: readonly T[]): T {
  if (typeof value !== "string" || !allowed.includes(value as T)) {
    throw new TypeError(
      `${what} must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}, got ${describe(value)}`,
    );
  }
  return value as T;
}

/** Rejects option names nobody reads, so that a typo (`normalise`) does not pass silently. */
export function requireKnownKeys(options: object, what: string, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key))
      throw new TypeError(`${what} has no option ${JSON.stringify(key)}; known options: ${known.join(", ")}`);
  }
}

export function requireOptions(value: unknown, what: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new TypeError(`${what} must be an object, got ${describe(value)}`);
  return value as Record<string, unknown>;
}
