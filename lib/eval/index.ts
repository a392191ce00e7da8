// ctxembed/eval: evaluators. Sentence similarity (STS-B), word in context (WiC), and
// phrase-in-context tasks (PiC: phrase similarity, retrieval, sense disambiguation).
export { evaluateSts, readStsBenchmark, type StsPair, type StsResult } from "./sts.js";
export {
  evaluateWic,
  fitWicMethod,
  wicMethods,
  type WicConfiguration,
  type WicMethod,
  type WicMethodResult,
} from "./wic-methods.js";
export { crossValidate, lemmaFolds, type CrossValidation } from "./wic-cv.js";
export { wicSelection, type WicSelection } from "./wic-selection.js";
export {
  evaluatePhraseRetrieval,
  evaluatePhraseSimilarity,
  phraseTasks,
  type PhraseEvaluationOptions,
  type PhraseTask,
} from "./pic.js";
export type { PhraseAnswer, PhraseRetrievalItem, PhraseSimilarityPair } from "./pic-data.js";
export { readPhraseRetrieval, readPhraseSimilarity, writePhraseRetrieval, writePhraseSimilarity } from "./pic-files.js";
export { retrievalMetrics, type RankedSpan, type RetrievalMetrics } from "./pic-metrics.js";
