// Optional Bearer API key. Keys are compared as SHA-256 digests with timingSafeEqual: equal
// lengths whatever was sent, and no early exit that would tell an attacker how much matched.
import { createHash, timingSafeEqual } from "node:crypto";
import { ApiError } from "./errors.js";

const digest = (text: string): Buffer => createHash("sha256").update(text).digest();

/** A check of the Authorization header; throws a 401 ApiError when it does not carry the key. */
export function bearerCheck(apiKey: string): (authorization: string | undefined) => void {
  const expected = digest(apiKey);
  return (authorization) => {
    const match = /^Bearer (.+)$/i.exec(authorization ?? "");
    const given = digest(match?.[1] ?? "");
    if (!timingSafeEqual(given, expected) || !match)
      throw new ApiError("unauthorized", "a valid API key is required: send Authorization: Bearer <key>");
  };
}
