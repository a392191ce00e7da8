// Large JSON answers (/embed_all, /tokenize) built a piece at a time: the size is counted as the
// text grows, so that an answer past the limit becomes a 413 before it is all in memory, and the
// event loop gets a turn every so often, so that /health and other clients are served meanwhile.
import { setImmediate as nextTurn } from "node:timers/promises";
import { ApiError } from "./errors.js";

/** Characters appended between two turns given back to the event loop. */
const charactersPerTurn = 256 << 10;

/**
 * The most bytes one float32 takes in a JSON array as float32ToJson writes it: nine significant
 * digits, sign, point, exponent (-1.23456789e-38) and the comma.
 */
export const maxJsonBytesPerFloat = 16;

export function responseTooLarge(what: string, limit: number): ApiError {
  return new ApiError(
    "too_large",
    `${what} would be larger than this server's response limit of ${limit} bytes; send fewer or shorter inputs`,
  );
}

export class BoundedJson {
  private readonly parts: string[] = [];
  private bytes = 0;
  private sinceTurn = 0;

  constructor(
    private readonly limit: number,
    private readonly what: string,
  ) {}

  async append(text: string): Promise<void> {
    this.bytes += Buffer.byteLength(text);
    if (this.bytes > this.limit) throw responseTooLarge(this.what, this.limit);
    this.parts.push(text);
    this.sinceTurn += text.length;
    if (this.sinceTurn >= charactersPerTurn) {
      this.sinceTurn = 0;
      await nextTurn();
    }
  }

  text(): string {
    return this.parts.join("");
  }
}
