// ctxembed/senses: multi-sense embeddings. Sense dictionaries clustered from contextual vectors
// of a corpus, their files, and prompted sense vectors of a word in context.
export {
  buildSenseDictionary,
  SenseDictionary,
  type BuildOptions,
  type ClusteringMethod,
  type DictionarySettings,
  type Sense,
  type WordSenses,
} from "./dictionary.js";
export { decodeDictionary, encodeDictionary, loadDictionary, saveDictionary } from "./dictionary-file.js";
export { readCorpus, wordsOf } from "./corpus.js";
export { embedWordSenses, wordSensePrompts, type WordOccurrence, type WordSenseOptions } from "./word-senses.js";
export {
  buildWordPrompt,
  findWordPromptPreset,
  wordPromptPresets,
  type WordPromptPreset,
} from "../prompts/word-prompts.js";
