// Readers and writers for the files of PiC (Pham et al., EACL 2023): phrase similarity pairs,
// and SQuAD-style items for phrase retrieval and phrase sense disambiguation, either flat as the
// Hugging Face copies store them or nested as SQuAD v2. Every record is checked on the way in
// and on the way out, so that a wrong offset is reported with its place, not scored as a miss.
import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "../util/atomic-file.js";
import { isJsonObject, type JsonObject } from "../util/json-files.js";
import { parseJsonLines } from "../util/json-lines.js";
import { describe, requireInteger, requireText } from "../util/validate.js";
import type { PhraseAnswer, PhraseRetrievalItem, PhraseSimilarityPair } from "./pic-data.js";

/** A parsed record and where it is, for messages: "line 3 of ps.jsonl". */
interface Located {
  value: unknown;
  where: string;
}

/** Phrase similarity pairs from JSON Lines, a JSON array, or {"data": [...]}; label is 0/1 or "0"/"1". */
export async function readPhraseSimilarity(path: string): Promise<PhraseSimilarityPair[]> {
  return similarityPairs(await readRecords(path));
}

/** Phrase retrieval or PSD items from flat records (JSON Lines, array, {"data": [...]}) or nested SQuAD v2. */
export async function readPhraseRetrieval(path: string): Promise<PhraseRetrievalItem[]> {
  return retrievalItems(await readRecords(path));
}

/** JSON Lines in PiC's field order, label 0/1 and idx = position in `pairs`. */
export async function writePhraseSimilarity(path: string, pairs: readonly PhraseSimilarityPair[]): Promise<void> {
  const records = pairs.map(({ phrase1, phrase2, sentence1, sentence2, label }, idx) => ({
    phrase1,
    phrase2,
    sentence1,
    sentence2,
    label: label ? 1 : 0,
    idx,
  }));
  similarityPairs(toWrite(records, path));
  await writeJsonLines(path, records);
}

/** JSON Lines of flat records, answers columnar as in the Hugging Face copies of PiC. */
export async function writePhraseRetrieval(path: string, items: readonly PhraseRetrievalItem[]): Promise<void> {
  const records = items.map(({ id, context, query, answers }) => ({
    id,
    context,
    query,
    answers: {
      text: answers.map((answer) => answer.text),
      answer_start: answers.map((answer) => codePointOffset(context, answer.start)),
    },
  }));
  retrievalItems(toWrite(records, path));
  await writeJsonLines(path, records);
}

function toWrite(records: unknown[], path: string): Located[] {
  return records.map((value, i) => ({ value, where: `item ${i + 1} to write to ${path}` }));
}

async function writeJsonLines(path: string, records: unknown[]): Promise<void> {
  await writeFileAtomic(path, records.map((record) => `${JSON.stringify(record)}\n`).join(""));
}

async function readRecords(path: string): Promise<Located[]> {
  const text = await readFile(path, "utf8");
  if (text.trim().length === 0) return []; // JSON Lines with no records, as writing none leaves it
  let whole: unknown;
  let wholeError: Error | undefined;
  try {
    whole = JSON.parse(text);
  } catch (error) {
    wholeError = error as Error;
  }
  if (Array.isArray(whole)) return locate(whole, path);
  if (isJsonObject(whole) && Array.isArray(whole.data)) return locate(whole.data, path);
  // JSON Lines (one JSON value only when it has one line): a broken line is reported as that line.
  const firstLine = text.split("\n").find((line) => line.trim().length > 0) ?? "";
  if (/^\s*\{.*\}\s*$/.test(firstLine)) return jsonLines(text, path);
  if (wholeError) throw new SyntaxError(`${path} is neither JSON nor JSON Lines: ${wholeError.message}`);
  throw new TypeError(
    `${path} must hold JSON Lines, a JSON array, or an object with a "data" array; it holds ${describe(whole)}`,
  );
}

function locate(records: unknown[], path: string): Located[] {
  return records.map((value, i) => ({ value, where: `record ${i + 1} of ${path}` }));
}

function jsonLines(text: string, path: string): Located[] {
  return parseJsonLines(text, path).map(({ value, where }) => ({ value, where }));
}

const labels = new Map<unknown, boolean>([
  [0, false],
  [1, true],
  ["0", false],
  ["1", true],
]);

function similarityPairs(records: Located[]): PhraseSimilarityPair[] {
  return records.map(({ value, where }) => {
    const record = requireObject(value, where);
    const [phrase1, phrase2, sentence1, sentence2] = (["phrase1", "phrase2", "sentence1", "sentence2"] as const).map(
      (name) => textField(record, name, where),
    ) as [string, string, string, string];
    requireVerbatim(phrase1, sentence1, "phrase1", "sentence1", where);
    requireVerbatim(phrase2, sentence2, "phrase2", "sentence2", where);
    const label = labels.get(record.label);
    if (label === undefined)
      throw new RangeError(`${where}: label must be 0 or 1 (a number or a string), got ${describe(record.label)}`);
    return { phrase1, phrase2, sentence1, sentence2, label };
  });
}

function requireVerbatim(
  phrase: string,
  sentence: string,
  phraseName: string,
  sentenceName: string,
  where: string,
): void {
  if (!sentence.includes(phrase))
    throw new RangeError(
      `${where}: ${phraseName} ${JSON.stringify(phrase)} does not occur verbatim in ${sentenceName}`,
    );
}

function retrievalItems(records: Located[]): PhraseRetrievalItem[] {
  const items = records.flatMap(({ value, where }) => {
    const record = requireObject(value, where);
    return "paragraphs" in record ? squadArticle(record, where) : [flatItem(record, where)];
  });
  const firstPlace = new Map<string, string>();
  for (const { item, where } of items) {
    const earlier = firstPlace.get(item.id);
    if (earlier) throw new RangeError(`${where}: id ${JSON.stringify(item.id)} is already used by ${earlier}`);
    firstPlace.set(item.id, where);
  }
  return items.map(({ item }) => item);
}

interface LocatedItem {
  item: PhraseRetrievalItem;
  where: string;
}

/** {id, title?, context, query, answers: {text: [...], answer_start: [...]}} */
function flatItem(record: JsonObject, where: string): LocatedItem {
  const context = textField(record, "context", where);
  const answers = requireObject(record.answers, `${where}: answers`);
  const texts = requireArray(answers.text, `${where}: answers.text`);
  const starts = requireArray(answers.answer_start, `${where}: answers.answer_start`);
  if (texts.length !== starts.length)
    throw new RangeError(`${where}: answers has ${texts.length} texts but ${starts.length} answer_start values`);
  const rows = texts.map((text, i) => ({ text, answer_start: starts[i] }));
  return {
    item: retrievalItem(textField(record, "id", where), context, textField(record, "query", where), rows, where),
    where,
  };
}

/** {title, paragraphs: [{context, qas: [{id, question, answers: [{text, answer_start}]}]}]} */
function squadArticle(article: JsonObject, where: string): LocatedItem[] {
  return requireArray(article.paragraphs, `${where}: paragraphs`).flatMap((value, p) => {
    const paragraphWhere = `paragraph ${p + 1} of ${where}`;
    const paragraph = requireObject(value, paragraphWhere);
    const context = textField(paragraph, "context", paragraphWhere);
    return requireArray(paragraph.qas, `${paragraphWhere}: qas`).map((qaValue, q) => {
      const qaWhere = `question ${q + 1} of ${paragraphWhere}`;
      const qa = requireObject(qaValue, qaWhere);
      const rows = requireArray(qa.answers, `${qaWhere}: answers`).map((answer, a) =>
        requireObject(answer, `${qaWhere}: answer ${a + 1}`),
      );
      return {
        item: retrievalItem(textField(qa, "id", qaWhere), context, textField(qa, "question", qaWhere), rows, qaWhere),
        where: qaWhere,
      };
    });
  });
}

function retrievalItem(
  id: string,
  context: string,
  query: string,
  rows: { text?: unknown; answer_start?: unknown }[],
  where: string,
): PhraseRetrievalItem {
  if (rows.length === 0)
    throw new RangeError(`${where} (id ${JSON.stringify(id)}) has no answers; every retrieval item needs at least one`);
  const answers = rows.map((row, i): PhraseAnswer => {
    const what = `${where}: answer ${i + 1}`;
    const text = requireText(row.text, `${what} text`);
    const answerStart = requireInteger(row.answer_start, `${what} answer_start`, 0);
    const start = utf16Offset(context, answerStart);
    const found = context.slice(start, start + text.length);
    if (found !== text)
      throw new RangeError(
        `${what} is ${JSON.stringify(text)} but the context has ${JSON.stringify(found)} at answer_start ${answerStart}`,
      );
    return { text, start };
  });
  return { id, context, query, answers };
}

// PiC's files are written by Python, whose answer_start counts code points; a JavaScript string
// index counts UTF-16 units. The two differ after any character outside the Basic Multilingual Plane.
function utf16Offset(text: string, codePoints: number): number {
  return [...text].slice(0, codePoints).join("").length;
}

function codePointOffset(text: string, utf16: number): number {
  return [...text.slice(0, utf16)].length;
}

function requireObject(value: unknown, where: string): JsonObject {
  if (!isJsonObject(value)) throw new TypeError(`${where} must be a JSON object, got ${describe(value)}`);
  return value;
}

function requireArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value))
    throw new TypeError(`${what} must be an array, got ${value === undefined ? "nothing" : describe(value)}`);
  return value;
}

function textField(record: JsonObject, name: string, where: string): string {
  if (record[name] === undefined) throw new TypeError(`${where} has no field "${name}"`);
  return requireText(record[name], `${where}: ${name}`);
}
