import { readFile } from "node:fs/promises";

export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads a JSON file; undefined when it does not exist, an Error naming the file when it is unreadable or invalid. */
export async function readOptionalJson(path: string): Promise<unknown> {
  const text = await readOptionalText(path);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`${path} is not valid JSON: ${(error as Error).message}`);
  }
}

export async function readOptionalJsonObject(path: string): Promise<JsonObject | undefined> {
  const value = await readOptionalJson(path);
  if (value !== undefined && !isJsonObject(value)) throw new Error(`${path} must contain a JSON object`);
  return value;
}

export async function readRequiredJsonObject(path: string, purpose: string): Promise<JsonObject> {
  const value = await readOptionalJsonObject(path);
  if (value === undefined) throw new Error(`missing ${path} (${purpose})`);
  return value;
}

export async function readOptionalText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new Error(`cannot read ${path}: ${(error as Error).message}`);
  }
}
