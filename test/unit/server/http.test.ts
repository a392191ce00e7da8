// The server's model-free pieces: strict UTF-8 bodies, the API key check, and the two error shapes.
import { describe, expect, it } from "vitest";
import { bearerCheck } from "../../../lib/server/auth.js";
import { ApiError, errorBody, errorFamily } from "../../../lib/server/errors.js";
import { decodeUtf8 } from "../../../lib/server/json-body.js";

describe("decodeUtf8", () => {
  it("decodes well-formed UTF-8 exactly as Buffer does", () => {
    const text = '{"inputs": "café 😀 東京 naïve"}';
    expect(decodeUtf8(Buffer.from(text))).toBe(text);
  });

  // Each is invalid by the UTF-8 definition (RFC 3629), which a lenient decoder would turn into U+FFFD.
  const invalid: [string, number[]][] = [
    ["a lone continuation byte", [0x80]],
    ["an overlong encoding of '/'", [0xc0, 0xaf]],
    ["a UTF-16 surrogate encoded as UTF-8", [0xed, 0xa0, 0x80]],
    ["a sequence cut short before an ASCII byte", [0xe2, 0x82, 0x41]],
    ["a sequence cut short at the end", [0xe2, 0x82]],
    ["a byte that never occurs (0xff)", [0xff]],
  ];
  it.each(invalid)("refuses %s with a 400 that points at it", (_name, bytes) => {
    const prefix = Buffer.from('{"inputs": "ok ');
    const body = Buffer.concat([prefix, Buffer.from(bytes), Buffer.from('"}')]);
    expect(Buffer.from(body.toString("utf8"), "utf8").equals(body)).toBe(false);
    let caught: unknown;
    try {
      decodeUtf8(body);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ApiError);
    expect((caught as ApiError).status).toBe(400);
    const at = Number(/near byte (\d+)/.exec((caught as ApiError).message)![1]);
    expect(at).toBeGreaterThanOrEqual(prefix.length);
    expect(at).toBeLessThanOrEqual(prefix.length + bytes.length);
  });
});

describe("bearerCheck", () => {
  const check = bearerCheck("s3cret-key");
  it("accepts exactly the key, as a Bearer token", () => {
    expect(() => check("Bearer s3cret-key")).not.toThrow();
    expect(() => check("bearer s3cret-key")).not.toThrow();
  });
  it.each([undefined, "", "s3cret-key", "Bearer ", "Bearer s3cret", "Bearer s3cret-key2", "Basic s3cret-key"])(
    "refuses %j with a 401",
    (header) => {
      expect(() => check(header)).toThrow(expect.objectContaining({ status: 401 }));
    },
  );
});

describe("error shapes", () => {
  it("answers OpenAI routes in OpenAI's shape and the others in text-embeddings-inference's", () => {
    const error = new ApiError("validation", "input is an empty array");
    expect(errorFamily("/v1/embeddings")).toBe("openai");
    expect(errorFamily("/embed?x=1")).toBe("tei");
    expect(errorBody(error, "tei")).toEqual({ error: "input is an empty array", error_type: "validation" });
    expect(errorBody(error, "openai")).toEqual({
      error: { message: "input is an empty array", type: "invalid_request_error", param: null, code: "validation" },
    });
    expect(errorBody(new ApiError("overloaded", "full"), "tei")).toEqual({ error: "full", error_type: "overloaded" });
    expect(new ApiError("overloaded", "full").status).toBe(429);
  });
});
