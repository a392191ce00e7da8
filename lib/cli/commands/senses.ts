import { readFile } from "node:fs/promises";
import { Command, InvalidArgumentError, Option } from "commander";
import type { LayerSpec } from "../../embedding/layers.js";
import { readCorpus, wordsOf } from "../../senses/corpus.js";
import { buildSenseDictionary, type ClusteringMethod, type SenseDictionary } from "../../senses/dictionary.js";
import { loadDictionary, saveDictionary } from "../../senses/dictionary-file.js";
import { checkOutputPath } from "../../util/output-path.js";
import { spanPoolingModes, type SpanPooling } from "../../tokens/spans.js";
import { note } from "../terminal.js";
import { modelOption, openModel, threadsOption, type ModelCommandOptions } from "./model-options.js";
import { layersOption, positiveInteger } from "./source-options.js";

const clusteringMethods = ["kmeans", "silhouette", "agglomerative"] as const;

interface BuildCommandOptions extends ModelCommandOptions {
  corpus: string;
  words?: string;
  minCount?: number;
  out: string;
  layers?: LayerSpec;
  spanPooling: SpanPooling;
  clustering: (typeof clusteringMethods)[number];
  k: number;
  maxK: number;
  minSilhouette: number;
  threshold: number;
  samples: number;
  minSplit: number;
  maxWords?: number;
  seed: number;
}

function finiteNumber(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new InvalidArgumentError(`"${value}" is not a number`);
  return parsed;
}

export function clusteringOf(
  options: Pick<BuildCommandOptions, "clustering" | "k" | "maxK" | "minSilhouette" | "threshold">,
): ClusteringMethod {
  switch (options.clustering) {
    case "kmeans":
      return { method: "kmeans", k: options.k };
    case "silhouette":
      return { method: "silhouette", maxK: options.maxK, minSilhouette: options.minSilhouette };
    case "agglomerative":
      return { method: "agglomerative", threshold: options.threshold };
  }
}

function buildCommand(): Command {
  return new Command("build")
    .description("cluster the in-context vectors of words in a corpus into senses and save the sense dictionary")
    .addOption(modelOption())
    .requiredOption("--corpus <file>", "plain text, one or more sentences per line")
    .option("--words <file>", "the words to collect, one per line")
    .option("--min-count <n>", "instead of --words: every word seen at least N times", positiveInteger)
    .requiredOption("--out <file>", "the dictionary file to write")
    .addOption(layersOption())
    .addOption(
      new Option("--span-pooling <mode>", "how a word pools its tokens").choices(spanPoolingModes).default("mean"),
    )
    .addOption(
      new Option("--clustering <method>", "kmeans: fixed k; silhouette: k per word; agglomerative: distance threshold")
        .choices(clusteringMethods)
        .default("kmeans"),
    )
    .option("--k <n>", "senses per word for kmeans (at most)", positiveInteger, 20)
    .option("--max-k <n>", "largest k tried by silhouette", positiveInteger, 8)
    .option("--min-silhouette <s>", "silhouette a split must beat to give more than one sense", finiteNumber, 0.1)
    .option("--threshold <d>", "agglomerative: stop merging at this cosine distance", finiteNumber, 0.5)
    .option("--samples <n>", "vectors kept per word (reservoir sampling)", positiveInteger, 1000)
    .option("--min-split <n>", "words seen fewer times keep one sense", positiveInteger, 10)
    .option("--max-words <n>", "read at most N words of the corpus", positiveInteger)
    .option("--seed <n>", "seed of sampling and k-means++", positiveInteger, 1)
    .addOption(threadsOption())
    .addHelpText(
      "after",
      "\nExamples:\n  $ ctxembed senses build --corpus corpus.txt --min-count 20 --out senses.ctxsense\n  $ ctxembed senses build --corpus corpus.txt --words words.txt --clustering silhouette --out senses.ctxsense",
    )
    .action(async (options: BuildCommandOptions) => {
      if ((options.words === undefined) === (options.minCount === undefined))
        throw new InvalidArgumentError("give exactly one of --words and --min-count");
      const words =
        options.words === undefined
          ? undefined
          : (await readFile(options.words, "utf8")).split(/\s+/).filter((w) => w.length > 0);
      // Clustering a corpus takes long: an output that cannot be written, or that is the corpus, is refused first.
      await checkOutputPath(options.out, { files: [{ path: options.corpus, role: "the corpus" }] });
      const model = await openModel(options);
      try {
        const dictionary = await buildSenseDictionary(
          model,
          () => readCorpus(options.corpus, options.maxWords === undefined ? {} : { maxWords: options.maxWords }),
          {
            ...(words ? { words } : { minCount: options.minCount! }),
            ...(options.layers === undefined ? {} : { layers: options.layers }),
            spanPooling: options.spanPooling,
            clustering: clusteringOf(options),
            samplesPerWord: options.samples,
            minOccurrencesToSplit: options.minSplit,
            seed: options.seed,
            onProgress: note,
          },
        );
        await saveDictionary(dictionary, options.out);
        const senses = [...dictionary.words].reduce((total, entry) => total + entry.senses.length, 0);
        note(`${dictionary.size} words, ${senses} senses written to ${options.out}`);
      } finally {
        await model.dispose();
      }
    });
}

interface AssignCommandOptions extends ModelCommandOptions {
  dict: string;
  text: string;
  word: string;
  occurrence: number;
  threads?: number;
}

/** The dictionary's vectors are only comparable with vectors from the same model and layers. */
function requireSameModel(dictionary: SenseDictionary, modelName: string): void {
  if (dictionary.settings.model !== modelName)
    throw new Error(
      `the dictionary was built with ${dictionary.settings.model}, not ${modelName}: pass the same --model`,
    );
}

function assignCommand(): Command {
  return new Command("assign")
    .description(
      "the sense of a word in a text: the dictionary sense whose centroid is nearest its in-context vector (JSON)",
    )
    .requiredOption("--dict <file>", "a dictionary from `senses build`")
    .addOption(modelOption())
    .requiredOption("--text <text>", "the text the word is in")
    .requiredOption("--word <word>", "the word (case-insensitive)")
    .option("--occurrence <n>", "which occurrence of the word, 0-based", (v) => Number.parseInt(v, 10), 0)
    .addOption(threadsOption())
    .addHelpText(
      "after",
      '\nExample:\n  $ ctxembed senses assign --dict senses.ctxsense --text "He sat on the bank of the river." --word bank',
    )
    .action(async (options: AssignCommandOptions) => {
      const dictionary = await loadDictionary(options.dict);
      const entry = dictionary.lookup(options.word);
      if (!entry) throw new Error(`"${options.word}" is not in the dictionary`);
      const occurrence = wordsOf(options.text).filter((w) => w.word === entry.word)[options.occurrence];
      if (!occurrence)
        throw new InvalidArgumentError(`the text has no occurrence ${options.occurrence} of "${options.word}"`);
      const model = await openModel(options);
      try {
        requireSameModel(dictionary, model.info.name);
        const { layers, spanPooling } = dictionary.settings;
        const result = await model.embed(
          { text: options.text, spans: [{ start: occurrence.start, end: occurrence.end }] },
          { normalize: false, spanPooling, ...(layers === undefined ? {} : { layers }) },
        );
        const { sense, score } = dictionary.assign(entry.word, result.spans![0]!.embedding)!;
        const chosen = entry.senses[sense]!;
        process.stdout.write(
          `${JSON.stringify({ word: entry.word, start: occurrence.start, end: occurrence.end, sense, cosine: score, senses: entry.senses.length, samples: chosen.samples, contexts: chosen.contexts })}\n`,
        );
      } finally {
        await model.dispose();
      }
    });
}

function showCommand(): Command {
  return new Command("show")
    .description("a word's senses in a dictionary, each with its most typical contexts (JSON)")
    .requiredOption("--dict <file>", "a dictionary from `senses build`")
    .requiredOption("--word <word>", "the word (case-insensitive)")
    .action(async (options: { dict: string; word: string }) => {
      const dictionary = await loadDictionary(options.dict);
      const entry = dictionary.lookup(options.word);
      if (!entry) throw new Error(`"${options.word}" is not in the dictionary`);
      const senses = entry.senses.map(({ samples, contexts }, sense) => ({ sense, samples, contexts }));
      process.stdout.write(
        `${JSON.stringify({ word: entry.word, occurrences: entry.occurrences, model: dictionary.settings.model, senses }, null, 2)}\n`,
      );
    });
}

export function sensesCommand(): Command {
  const senses = new Command("senses").description(
    "sense dictionaries: cluster a word's in-context vectors from a corpus into senses",
  );
  for (const sub of [buildCommand(), assignCommand(), showCommand()]) senses.addCommand(sub.exitOverride());
  return senses;
}
