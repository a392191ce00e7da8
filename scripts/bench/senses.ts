// Building a sense dictionary over a real corpus: every word seen at least `minCount` times in
// the first `maxWords` words, at most 1,000 vectors per word, k-means with k = 20 (the
// Multi-Sense paper's recipe). Reports wall time per phase and the process's peak memory.
import { mkdir, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { loadModel } from "../../lib/embedding/embedding-model.js";
import { readCorpus } from "../../lib/senses/corpus.js";
import { buildSenseDictionary } from "../../lib/senses/dictionary.js";
import { saveDictionary } from "../../lib/senses/dictionary-file.js";
import { table } from "./measure.js";

export interface SenseBenchOptions {
  modelPath: string;
  corpusPath: string;
  corpusName: string;
  threads: number;
  maxWords: number;
  minCount: number;
  /** where the dictionary is written, for later use (the WiC evaluation reads it) */
  out: string;
}

export async function senseDictionaryBuild(options: SenseBenchOptions): Promise<string> {
  const model = await loadModel(options.modelPath, { threads: options.threads });
  const corpus = () => readCorpus(options.corpusPath, { maxWords: options.maxWords });
  let words = 0;
  for await (const text of corpus()) words += text.split(" ").length;
  const phases: Record<string, number> = {};
  let phaseStart = performance.now();
  let lastPhase = "counting words";
  const started = phaseStart;
  const dictionary = await buildSenseDictionary(model, corpus, {
    minCount: options.minCount,
    clustering: { method: "kmeans", k: 20 },
    samplesPerWord: 1000,
    onProgress: (message) => {
      const phase = message.startsWith("clustering")
        ? "clustering"
        : message.startsWith("collecting")
          ? "embedding and sampling"
          : undefined;
      if (phase && phase !== lastPhase) {
        phases[lastPhase] = (performance.now() - phaseStart) / 1000;
        [lastPhase, phaseStart] = [phase, performance.now()];
      }
      if (/000 texts embedded$/.test(message)) process.stderr.write(`bench: ${message}\n`);
    },
  });
  phases[lastPhase] = (performance.now() - phaseStart) / 1000;
  const seconds = (performance.now() - started) / 1000;
  await mkdir(dirname(options.out), { recursive: true });
  await saveDictionary(dictionary, options.out);
  await model.dispose();
  const senses = [...dictionary.words].reduce((total, entry) => total + entry.senses.length, 0);
  const rows = [
    ...Object.entries(phases).map(([phase, s]) => ({ step: phase, seconds: s })),
    { step: "total build", seconds },
  ];
  const peakMiB = process.resourceUsage().maxRSS / 1024;
  const fileMiB = (await stat(options.out)).size / 2 ** 20;
  return [
    `Sense dictionary build: ${options.corpusName}, first ${words.toLocaleString("en-US")} words, every word seen >= ${options.minCount} times`,
    `(${dictionary.size.toLocaleString("en-US")} words, ${senses.toLocaleString("en-US")} senses), k-means k=20, <= 1,000 vectors per word, ${options.threads} threads`,
    "",
    table(rows),
    "",
    `peak resident memory of the process (model included): ${peakMiB.toFixed(0)} MiB; dictionary file ${fileMiB.toFixed(1)} MiB (${options.out})`,
    "",
  ].join("\n");
}
