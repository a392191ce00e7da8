// The dev-split study behind docs/accuracy.md's choices for the PiC tasks on the WordNet set: the same
// items scored under four readings of a phrase:
//   alone     the phrase embedded by itself, PiC's baseline;
//   in place  its tokens inside the passage, what `eval phrases` reports as "in context";
//   re-read   the passage followed by the phrase once more, the second copy pooled: it has seen
//             the whole passage yet has sharp edges. One pass per candidate, so a diagnostic
//             rather than a retrieval method;
//   echo      the passage twice, spans read in the second copy: for a decoder, the one way a
//             token sees what follows it in a single pass;
// and two scorers (the cosine of the span's mean vector, and token matching as in BERTScore)
// over two candidate sets (chunks of 1-4 words, and only those of 2-4 words, since every answer
// is a multiword expression). Token vectors are unit length before pooling here, so the in-place
// span vectors differ slightly from `eval phrases`.
//   npx tsx scripts/eval/phrase-readings.ts [--models all-minilm-l6-v2,gemma-3-270m] [--limit N] [--layer L]
// Dev only: the test split is kept for scripts/eval/phrases.ts.
import { Command } from "commander";
import type { LayerSpec } from "../../lib/embedding/layers.js";
import { loadModel, type EmbeddingModel } from "../../lib/embedding/embedding-model.js";
import { dot, l2Normalize } from "../../lib/vectors/similarity.js";
import { candidateSpans, type CandidateSpan } from "../../lib/phrases/candidates.js";
import { readSpansInPassages, type PhraseReading } from "../../lib/phrases/phrase-vectors.js";
import { phraseMatch } from "../../lib/phrases/similarity.js";
import { buildPhraseSet, phraseSetVersion } from "../../lib/eval/wordnet-phrase-set.js";
import type { PhraseRetrievalItem, PhraseSimilarityPair } from "../../lib/eval/pic-data.js";
import { retrievalMetrics } from "../../lib/eval/pic-metrics.js";
import { accuracyAt, fitThreshold } from "../../lib/eval/wic.js";
import { WordNet } from "../../lib/wordnet/database.js";
import { table } from "../bench/measure.js";

const options = new Command("phrase-readings")
  .option("--models <names>", "comma-separated models", "all-minilm-l6-v2,gemma-3-270m")
  .option("--limit <n>", "score at most the first N PR items of dev (PS always uses all of train and dev)", (v) =>
    Number.parseInt(v, 10),
  )
  .option("--layer <n>", "hidden state to read (default: the model's output)", (v) => Number.parseInt(v, 10))
  .parse()
  .opts<{ models: string; limit?: number; layer?: number }>();

interface Read {
  text: string;
  start: number;
  end: number;
}

const readings: Record<string, (text: string, start: number, end: number) => Read> = {
  alone: (text, start, end) => ({ text: text.slice(start, end), start: 0, end: end - start }),
  "in place": (text, start, end) => ({ text, start, end }),
  "re-read": (text, start, end) => {
    const reread = `${text} ${text.slice(start, end)}`;
    return { text: reread, start: reread.length - (end - start), end: reread.length };
  },
  echo: (text, start, end) => ({ text: `${text} ${text}`, start: text.length + 1 + start, end: text.length + 1 + end }),
};

/** Unit token vectors of each read span; the spans of one text come from one pass over it. */
async function spanTokens(
  model: EmbeddingModel,
  reads: readonly Read[],
  layers: LayerSpec | undefined,
): Promise<PhraseReading[]> {
  const byText = new Map<string, { start: number; end: number }[]>();
  for (const { text, start, end } of reads) byText.set(text, [...(byText.get(text) ?? []), { start, end }]);
  const passages = [...byText].map(([text, spans]) => ({ text, spans }));
  const readings = await readSpansInPassages(model, passages, layers === undefined ? {} : { layers }, "tokens");
  const next = new Map(passages.map((passage, i) => [passage.text, { readings: readings[i]!, used: 0 }]));
  return reads.map((read) => {
    const own = next.get(read.text)!;
    return own.readings[own.used++]!;
  });
}

function meanVector(tokens: PhraseReading): Float32Array {
  const sum = new Float32Array(tokens[0]!.length);
  for (const token of tokens) token.forEach((x, d) => (sum[d]! += x));
  return l2Normalize(sum);
}

const scorers: Record<string, (query: PhraseReading, span: PhraseReading) => number> = {
  "span mean": (query, span) => dot(meanVector(query), meanVector(span)),
  "token matching F1": phraseMatch,
};

const candidateSets: Record<string, <Span extends CandidateSpan>(spans: Span[]) => Span[]> = {
  "1-4 words": (spans) => spans,
  "2-4 words": (spans) => spans.filter((span) => /\s/.test(span.text)),
};

/** PR Top-1 of every (reading, scorer, candidate set), items scored a chunk at a time. */
async function retrievalTop1(
  model: EmbeddingModel,
  items: readonly PhraseRetrievalItem[],
  layers: LayerSpec | undefined,
): Promise<Map<string, number>> {
  const ranked = new Map<
    string,
    { answers: PhraseRetrievalItem["answers"]; ranked: (CandidateSpan & { score: number })[] }[]
  >();
  for (let at = 0; at < items.length; at += 32) {
    const chunk = items.slice(at, at + 32);
    const candidates = chunk.map((item) => candidateSpans(item.context));
    const queries = await spanTokens(
      model,
      chunk.map((item) => readings.alone!(item.query, 0, item.query.length)),
      layers,
    );
    for (const [reading, read] of Object.entries(readings)) {
      const flat = await spanTokens(
        model,
        chunk.flatMap((item, i) => candidates[i]!.map((span) => read(item.context, span.start, span.end))),
        layers,
      );
      let next = 0;
      const spanReadings = candidates.map((spans) => spans.map(() => flat[next++]!));
      for (const [scorer, score] of Object.entries(scorers)) {
        for (const [set, keep] of Object.entries(candidateSets)) {
          const key = [reading, scorer, set].join("|");
          const results = ranked.get(key) ?? [];
          chunk.forEach((item, i) => {
            const scored = candidates[i]!.map((span, k) => ({
              ...span,
              score: score(queries[i]!, spanReadings[i]![k]!),
            }));
            results.push({
              answers: item.answers,
              ranked: keep(scored)
                .sort((a, b) => b.score - a.score)
                .slice(0, 5),
            });
          });
          ranked.set(key, results);
        }
      }
    }
    process.stderr.write(`\r${model.info.name} PR: ${Math.min(at + 32, items.length)}/${items.length}`);
  }
  process.stderr.write("\n");
  return new Map(
    [...ranked].map(([key, results]) => [key, retrievalMetrics(results, { match: "text-or-range" }).top1]),
  );
}

/** PS accuracy on dev per reading and scorer, the threshold fitted on train. */
async function similarityAccuracy(
  model: EmbeddingModel,
  train: readonly PhraseSimilarityPair[],
  dev: readonly PhraseSimilarityPair[],
  layers: LayerSpec | undefined,
): Promise<Map<string, number>> {
  const sidesOf = async (pairs: readonly PhraseSimilarityPair[], read: (typeof readings)[string]) => {
    const reads = pairs.flatMap((pair) =>
      [
        [pair.sentence1, pair.phrase1],
        [pair.sentence2, pair.phrase2],
      ].map(([sentence, phrase]) => {
        const start = sentence!.indexOf(phrase!);
        return read(sentence!, start, start + phrase!.length);
      }),
    );
    return spanTokens(model, reads, layers);
  };
  const accuracies = new Map<string, number>();
  for (const [reading, read] of Object.entries(readings)) {
    const [trainSides, devSides] = [await sidesOf(train, read), await sidesOf(dev, read)];
    for (const [scorer, score] of Object.entries(scorers)) {
      const scores = (sides: PhraseReading[]) =>
        sides.filter((_, i) => i % 2 === 0).map((first, i) => score(first, sides[2 * i + 1]!));
      const { threshold } = fitThreshold(
        scores(trainSides),
        train.map((pair) => pair.label),
      );
      accuracies.set(
        [reading, scorer].join("|"),
        accuracyAt(
          scores(devSides),
          dev.map((pair) => pair.label),
          threshold,
        ),
      );
    }
  }
  return accuracies;
}

const set = buildPhraseSet(await WordNet.open());
const prItems = options.limit === undefined ? set.pr.dev : set.pr.dev.slice(0, options.limit);
const layers = options.layer;
for (const name of options.models.split(",")) {
  const model = await loadModel(name, { onProgress: (message) => console.error(message) });
  const ps = await similarityAccuracy(model, set.ps.train, set.ps.dev, layers);
  const pr = await retrievalTop1(model, prItems, layers);
  const rows = Object.keys(readings).map((reading) => ({
    reading,
    ...Object.fromEntries(
      Object.keys(scorers).map((scorer) => [`PS accuracy, ${scorer}`, ps.get([reading, scorer].join("|"))!.toFixed(1)]),
    ),
    ...Object.fromEntries(
      Object.keys(scorers).flatMap((scorer) =>
        Object.keys(candidateSets).map((candidates) => [
          `PR Top-1, ${scorer}, ${candidates}`,
          pr.get([reading, scorer, candidates].join("|"))!.toFixed(1),
        ]),
      ),
    ),
  }));
  console.log(
    `\n${model.info.name}, ${phraseSetVersion} dev split${options.layer === undefined ? "" : `, layer ${options.layer}`}: PS ${set.ps.dev.length} pairs (threshold fitted on ${set.ps.train.length} train pairs), PR ${prItems.length} items\n`,
  );
  console.log(table(rows));
  await model.dispose();
}
