// ctxembed's public API.
export {
  EmbeddingModel,
  loadModel,
  type Embedding,
  type LoadOptions,
  type SpanVector,
  type TokenVector,
} from "./models/embedding-model.js";
export type { EmbedInput, EmbedOptions } from "./models/embed-options.js";
export type { LayerCombination, LayerSpec, ScalarMix } from "./layers.js";
export type { SpanPooling, SpanRequest } from "./tokens/spans.js";
export type { TokenSpan } from "./tokens/offsets.js";
export type { ModelInfo, ModelPooling } from "./models/model-info.js";
export { cosineSimilarity, l2Normalize, poolingModes, type PoolingMode } from "./pooling.js";
export { convertCheckpoint, type ConversionReport, type ConvertOptions, type ConvertType } from "./convert/index.js";
export { readGgufHeader, type GgufHeader, type GgufTensorInfo, type GgufValue } from "./gguf/reader.js";
export {
  cacheDirectory,
  checkpointPath,
  listCatalog,
  modelPath,
  ModelNotPulledError,
  pullModel,
  resolveModel,
  type CatalogEntry,
} from "./models/index.js";
export type { PromptOptions } from "./models/prompting.js";
export { DemonstrationSelector } from "./prompts/demonstrations.js";
export { promptEolDemonstrations } from "./prompts/prompteol-demonstrations.js";
export { buildWordPrompt, findWordPromptPreset, wordPromptPresets, type WordPromptPreset } from "./prompts/word-prompts.js";
export { embedWordSenses, wordSensePrompts, type WordOccurrence, type WordSenseOptions } from "./models/word-senses.js";
export { buildDocument, buildQuery, customPreset, findPreset, promptPresets, type Demonstration, type PromptPreset } from "./prompts/templates.js";
export {
  dequantizeInt8,
  hammingSimilarity,
  precisions,
  quantize,
  truncateDimensions,
  type Precision,
  type QuantizedVector,
} from "./output/quantize.js";
export { NpyWriter } from "./output/npy.js";
export { RawWriter } from "./output/raw.js";
export { evaluateSts, readStsBenchmark, type StsPair, type StsResult } from "./tasks/sts.js";
export { buildSenseDictionary, SenseDictionary, type BuildOptions, type ClusteringMethod, type DictionarySettings, type Sense, type WordSenses } from "./senses/dictionary.js";
export { decodeDictionary, encodeDictionary, loadDictionary, saveDictionary } from "./senses/dictionary-file.js";
export { readCorpus, wordsOf } from "./senses/corpus.js";
export { WordNet, type Synset, type WordNetPos } from "./wordnet/database.js";
export { WordNetSenses, type SenseCombination, type SenseReading, type SenseVector } from "./wordnet/sense-inventory.js";
export { modelSentenceEmbedder, modelSpanEmbedder, type SpanEmbedder } from "./wordnet/span-embedder.js";
export { evaluateWic, fitWicMethod, wicMethods, type WicConfiguration, type WicMethod, type WicMethodResult } from "./tasks/wic-methods.js";
export { crossValidate, lemmaFolds, type CrossValidation } from "./tasks/wic-cv.js";
export { wicSelection, type WicSelection } from "./tasks/wic-selection.js";
export { candidateModes, candidateSpans, phraseOccurrences, type CandidateMode, type CandidateOptions, type CandidateSpan } from "./phrases/candidates.js";
export { phraseForms, phraseVectors, readPhrases, type PhraseForm, type PhraseInput, type PhraseReading, type PhraseVectorOptions } from "./phrases/phrase-vectors.js";
export { findPhrase, rankSpans, searchPhrases, type CorpusSearchOptions, type PhraseMatch, type PhraseSearchOptions } from "./phrases/search.js";
export { phraseMatch, phraseSimilarities, type PhraseScoringOptions } from "./phrases/similarity.js";
export { evaluatePhraseRetrieval, evaluatePhraseSimilarity, phraseTasks, type PhraseEvaluationOptions, type PhraseTask } from "./tasks/pic.js";
export type { PhraseAnswer, PhraseRetrievalItem, PhraseSimilarityPair } from "./tasks/pic-data.js";
export { readPhraseRetrieval, readPhraseSimilarity, writePhraseRetrieval, writePhraseSimilarity } from "./tasks/pic-files.js";
export { retrievalMetrics, type RankedSpan, type RetrievalMetrics } from "./tasks/pic-metrics.js";
