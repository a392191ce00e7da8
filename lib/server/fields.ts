// Request fields shared by the API families, checked with the library's validators so that a
// wrong field gets the same precise message over HTTP as in code, as a 422.
import { promptRoles } from "../prompts/prompting.js";
import {
  describe,
  requireBoolean,
  requireInteger,
  requireKnownKeys,
  requireOneOf,
  requireOptions,
  requireText,
} from "../util/validate.js";
import type { PromptRequest } from "./embedding-service.js";
import { ApiError, validated } from "./errors.js";

/** The JSON body as an object with only the fields the route reads. */
export function requestBody(body: unknown, known: readonly string[]): Record<string, unknown> {
  return validated(() => {
    const fields = requireOptions(body, "the request body");
    requireKnownKeys(fields, "the request body", known);
    return fields;
  });
}

/** A string or a non-empty array of strings, as a list of at most `maxClientBatch` texts. */
export function inputTexts(value: unknown, field: string, maxClientBatch: number): string[] {
  if (value === undefined) throw new ApiError("validation", `${field} is required`);
  const texts = Array.isArray(value) ? value : [value];
  if (Array.isArray(value) && value.length === 0)
    throw new ApiError("validation", `${field} is an empty array: there is nothing to embed`);
  if (texts.length > maxClientBatch) {
    throw new ApiError(
      "validation",
      `${field} holds ${texts.length} inputs, more than the server's client batch limit of ${maxClientBatch}`,
    );
  }
  return validated(() =>
    texts.map((text, i) => {
      const what = Array.isArray(value) ? `${field}[${i}]` : field;
      if (typeof text !== "string") throw new TypeError(`${what} must be a string, got ${describe(text)}`);
      return requireText(text, what);
    }),
  );
}

export function optionalBoolean(value: unknown, field: string, fallback: boolean): boolean {
  return value === undefined ? fallback : validated(() => requireBoolean(value, field));
}

/** Matryoshka dimensions: 1 to the model's width. */
export function optionalDimensions(value: unknown, modelDimensions: number): number | undefined {
  return value === undefined || value === null
    ? undefined
    : validated(() => requireInteger(value, "dimensions", 1, modelDimensions));
}

export function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new ApiError("validation", `${field} must be a string, got ${describe(value)}`);
  return value;
}

/** The prompt fields every embedding route takes: `prompt_name` (a preset) and `role` (query or document). */
export const promptFieldNames = ["prompt_name", "role"] as const;

export function promptFields(body: Record<string, unknown>): PromptRequest {
  const promptName = optionalString(body.prompt_name, "prompt_name");
  const role =
    body.role === undefined || body.role === null
      ? undefined
      : validated(() => requireOneOf(body.role, "role", promptRoles));
  return { promptName, role };
}
