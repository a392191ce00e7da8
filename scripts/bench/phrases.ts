// Phrase retrieval over a corpus of passages: every word n-gram of every passage scored against a
// query, reading each passage once (in context; by span vectors, then by token matching), beside
// the context-free baseline that embeds each candidate alone (measured on a slice of the corpus,
// then compared per candidate).
import { loadModel } from "../../lib/embedding/embedding-model.js";
import { candidateSpans } from "../../lib/phrases/candidates.js";
import { searchPhrases } from "../../lib/phrases/search.js";
import { readCorpus } from "../../lib/senses/corpus.js";
import { best, table } from "./measure.js";

export interface PhraseBenchOptions {
  modelPath: string;
  corpusPath: string;
  corpusName: string;
  threads: number;
  repeats: number;
  passages: number;
  /** passages for the embed-each-candidate-alone baseline (it is slow by design) */
  alonePassages: number;
}

const query = "the strength of the economy";

/** The first `count` passages of a corpus: consecutive sentences joined until at least 48 words. */
export async function corpusPassages(corpusPath: string, count: number): Promise<string[]> {
  const passages: string[] = [];
  let sentences: string[] = [];
  for await (const sentence of readCorpus(corpusPath, { pieceWords: 64 })) {
    sentences.push(sentence);
    if (sentences.join(" ").split(" ").length < 48) continue;
    passages.push(sentences.join(" "));
    sentences = [];
    if (passages.length === count) break;
  }
  return passages;
}

export async function phraseRetrievalThroughput(options: PhraseBenchOptions): Promise<string> {
  const passages = await corpusPassages(options.corpusPath, options.passages);
  const model = await loadModel(options.modelPath, { threads: options.threads });
  const candidatesOf = (slice: string[]) =>
    slice.reduce((sum, passage) => sum + candidateSpans(passage, { mode: "ngrams" }).length, 0);
  const tokensOf = (slice: string[]) => slice.reduce((sum, passage) => sum + model.tokenize(passage).length, 0);
  await searchPhrases(model, query, passages.slice(0, 8), { mode: "ngrams" });
  const rows: Record<string, string | number>[] = [];
  let top = "";
  for (const [reading, slice, context, scoring] of [
    ["in context: one pass per passage", passages, true, "vector"],
    ["in context, token matching", passages, true, "tokens"],
    ["alone: one pass per candidate", passages.slice(0, options.alonePassages), false, "vector"],
  ] as const) {
    const run = await best(context ? options.repeats : 1, async () => {
      const started = performance.now();
      const matches = await searchPhrases(model, query, slice, { top: 3, context, mode: "ngrams", scoring });
      if (context && scoring === "vector")
        top = matches.map((match) => `"${match.text}" (${match.score.toFixed(3)})`).join(", ");
      return { seconds: (performance.now() - started) / 1000 };
    });
    const candidates = candidatesOf([...slice]);
    rows.push({
      reading,
      passages: slice.length,
      "passage tokens": tokensOf([...slice]),
      "candidate spans": candidates,
      seconds: run.seconds,
      "passages/s": slice.length / run.seconds,
      "candidate spans/s": Math.round(candidates / run.seconds),
    });
  }
  await model.dispose();
  const speedup = (rows[0]!["candidate spans/s"] as number) / (rows[2]!["candidate spans/s"] as number);
  return [
    `Phrase retrieval: query "${query}", ${options.passages} passages of at least 48 words (consecutive sentences) from ${options.corpusName}, every n-gram up to 4 words, ${model.info.name}, ${options.threads} threads, best of ${options.repeats} (alone: 1 run)`,
    "",
    table(rows),
    "",
    `candidate spans/s, in context over alone: ${speedup.toFixed(1)}x`,
    `best spans: ${top}`,
    "",
  ].join("\n");
}
