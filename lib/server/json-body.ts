// JSON request bodies decoded strictly. Fastify's own parser decodes UTF-8 leniently, turning
// invalid bytes into U+FFFD; the server would then embed a text nobody sent and return a vector
// that looks right. Here invalid UTF-8 is a 400, and parsing keeps fastify's protection against
// prototype poisoning. Other content types are answered 415.
import type { FastifyInstance } from "fastify";
import { ApiError } from "./errors.js";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function firstInvalidByte(bytes: Buffer): number {
  // Binary search for the shortest prefix that fails to decode; it ends at the bad sequence.
  let good = 0;
  let bad = bytes.length;
  while (bad - good > 1) {
    const middle = (good + bad) >>> 1;
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, middle), { stream: true });
      good = middle;
    } catch {
      bad = middle;
    }
  }
  return good;
}

export function decodeUtf8(bytes: Buffer): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new ApiError(
      "malformed",
      `the request body is not valid UTF-8 (invalid byte sequence near byte ${firstInvalidByte(bytes)})`,
    );
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

export function useStrictJsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser("error", "error");
  // JSON only: fastify's text/plain parser would hand a route a string, a 422 instead of the 415 it is.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body, done) => {
    let text: string;
    try {
      text = decodeUtf8(body as Buffer);
    } catch (error) {
      done(error as Error, undefined);
      return;
    }
    parseJson(request, text, (error, value) => {
      // Valid JSON that secure-json-parse refused: a key no route reads, named as such (422), not "not JSON".
      if (error && isJson(text)) {
        done(
          new ApiError(
            "validation",
            "the request body holds a __proto__ (or constructor.prototype) key, which this server refuses: it could poison objects",
          ),
          undefined,
        );
      } else if (error)
        done(new ApiError("malformed", `the request body is not valid JSON: ${error.message}`), undefined);
      else done(null, value);
    });
  });
}
