// Princeton WordNet 3.0 as Debian's wordnet-base installs it (/usr/share/wordnet): index.<pos>
// maps a lemma to its synsets in sense order, data.<pos> holds each synset at its byte offset,
// and the gloss after "|" is a definition followed by quoted examples.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { morphologicalBases, wordNetPartsOfSpeech, type WordNetPos } from "./morphology.js";

export const defaultWordNetDirectory = "/usr/share/wordnet";

export { wordNetPartsOfSpeech, type WordNetPos } from "./morphology.js";

export interface Synset {
  /** "offset-letter", e.g. "08420278-n": WordNet 3.0's stable synset key */
  id: string;
  pos: WordNetPos;
  /** member lemmas, underscores turned into spaces */
  lemmas: string[];
  definition: string;
  examples: string[];
}

const letters: Record<WordNetPos, string> = { noun: "n", verb: "v", adj: "a", adv: "r" };

/** Splits a gloss into its definition and its quoted examples. */
export function parseGloss(gloss: string): { definition: string; examples: string[] } {
  const examples = [...gloss.matchAll(/"([^"]+)"/g)]
    .map((match) => match[1]!.trim())
    .filter((example) => example.length > 0);
  const quote = gloss.indexOf('"');
  const definition = (quote < 0 ? gloss : gloss.slice(0, quote)).replace(/[;\s]+$/, "").trim();
  return { definition, examples };
}

/** One line of data.<pos>: offset, lexicographer file, type, word count (hex), words with lex ids, pointers..., "|" gloss. */
export function parseDataLine(line: string, pos: WordNetPos): Synset {
  const bar = line.indexOf(" | ");
  const fields = (bar < 0 ? line : line.slice(0, bar)).split(" ");
  const wordCount = Number.parseInt(fields[3]!, 16);
  if (!/^\d{8}$/.test(fields[0] ?? "") || !Number.isInteger(wordCount))
    throw new Error(`not a WordNet data line: ${line.slice(0, 80)}`);
  const lemmas = Array.from({ length: wordCount }, (_, i) =>
    fields[4 + 2 * i]!.replace(/\([a-z]+\)$/, "").replaceAll("_", " "),
  );
  return { id: `${fields[0]}-${letters[pos]}`, pos, lemmas, ...parseGloss(bar < 0 ? "" : line.slice(bar + 3).trim()) };
}

export class WordNet {
  private constructor(
    private readonly index: Map<WordNetPos, Map<string, number[]>>,
    private readonly data: Map<WordNetPos, Buffer>,
    private readonly exceptions: Map<WordNetPos, Map<string, string[]>>,
  ) {}

  static async open(directory = defaultWordNetDirectory): Promise<WordNet> {
    if (!existsSync(join(directory, "data.noun"))) {
      throw new Error(`WordNet 3.0 is not installed in ${directory} (Debian/Ubuntu: apt-get install wordnet-base)`);
    }
    const index = new Map<WordNetPos, Map<string, number[]>>();
    const data = new Map<WordNetPos, Buffer>();
    const exceptions = new Map<WordNetPos, Map<string, string[]>>();
    for (const pos of wordNetPartsOfSpeech) {
      const lemmas = new Map<string, number[]>();
      for (const line of (await readFile(join(directory, `index.${pos}`), "latin1")).split("\n")) {
        if (line.length === 0 || line.startsWith(" ")) continue; // the licence header is indented
        const fields = line.trim().split(" ");
        const synsetCount = Number(fields[2]);
        lemmas.set(fields[0]!, fields.slice(fields.length - synsetCount).map(Number));
      }
      index.set(pos, lemmas);
      data.set(pos, await readFile(join(directory, `data.${pos}`)));
      const irregular = new Map<string, string[]>();
      for (const line of (await readFile(join(directory, `${pos}.exc`), "latin1")).split("\n")) {
        const [form, ...bases] = line.trim().split(" ");
        if (form && bases.length > 0) irregular.set(form, bases);
      }
      exceptions.set(pos, irregular);
    }
    return new WordNet(index, data, exceptions);
  }

  /** The synsets of `lemma` in WordNet's sense order (most frequent first); empty when WordNet lacks it. */
  synsets(lemma: string, pos: WordNetPos): Synset[] {
    const offsets = this.index.get(pos)!.get(lemma.toLowerCase().replaceAll(" ", "_")) ?? [];
    const data = this.data.get(pos)!;
    return offsets.map((offset) => parseDataLine(data.toString("utf8", offset, lineEnd(data, offset)), pos));
  }

  /** Every synset of a part of speech, in the data file's (offset) order. */
  *allSynsets(pos: WordNetPos): Generator<Synset> {
    const data = this.data.get(pos)!;
    for (let offset = 0; offset < data.length; ) {
      const end = lineEnd(data, offset);
      // the licence header's lines are indented; synset lines start with their 8-digit offset
      if (end > offset && data[offset] !== 0x20) yield parseDataLine(data.toString("utf8", offset, end), pos);
      offset = end + 1;
    }
  }

  /** Lemmas a surface form can be an inflection of (itself included), by WordNet's morphy rules and exception lists. */
  bases(form: string, pos: WordNetPos): string[] {
    const lower = form.toLowerCase();
    const candidates = [lower, ...(this.exceptions.get(pos)!.get(lower) ?? []), ...morphologicalBases(lower, pos)];
    return [...new Set(candidates)].filter((candidate) => this.index.get(pos)!.has(candidate));
  }
}

function lineEnd(data: Buffer, offset: number): number {
  const end = data.indexOf(0x0a, offset);
  return end < 0 ? data.length : end;
}
