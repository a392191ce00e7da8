// JSON lines as every reader in the project reads them (corpora, demonstrations, run digests,
// resumed outputs, PiC files): one JSON value a line, lines split at \n with a \r before it
// dropped, blank lines skipped, a UTF-8 byte order mark before the first line dropped (editors on
// Windows write one), and a line that is not JSON refused by its number.

/** A UTF-8 byte order mark, decoded. */
const byteOrderMark = "\uFEFF";

/** `text` without the byte order mark it may start with. */
export function withoutByteOrderMark(text: string): string {
  return text.startsWith(byteOrderMark) ? text.slice(1) : text;
}

/** One line's JSON value; a SyntaxError that starts with `where` when it is not JSON. */
export function parseJsonLine(line: string, where: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch (error) {
    throw new SyntaxError(`${where} is not valid JSON: ${(error as Error).message}`);
  }
}

export interface JsonLine {
  value: unknown;
  /** 1-based line number */
  line: number;
  /** "line 3 of demo.jsonl" */
  where: string;
}

/**
 * Every value of a JSON lines text. `source` names it in messages. With `cutLastLine`, a last
 * line without its newline that is not JSON is left out instead of refused: an appender killed
 * mid-line leaves one.
 */
export function parseJsonLines(text: string, source: string, options: { cutLastLine?: boolean } = {}): JsonLine[] {
  const lines = withoutByteOrderMark(text).split("\n");
  const values: JsonLine[] = [];
  for (const [index, raw] of lines.entries()) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim().length === 0) continue;
    const where = `line ${index + 1} of ${source}`;
    if (options.cutLastLine && index === lines.length - 1) {
      try {
        values.push({ value: JSON.parse(line) as unknown, line: index + 1, where });
      } catch {
        // the unfinished line of a killed appender
      }
      continue;
    }
    values.push({ value: parseJsonLine(line, where), line: index + 1, where });
  }
  return values;
}
