// ctxembed/phrases: phrases in context. Candidate spans, phrase vectors read in their sentence,
// phrase search over passages, and phrase similarity.
export {
  candidateModes,
  candidateSpans,
  phraseOccurrences,
  type CandidateMode,
  type CandidateOptions,
  type CandidateSpan,
} from "./candidates.js";
export {
  phraseForms,
  phraseVectors,
  readPhrases,
  type PhraseForm,
  type PhraseInput,
  type PhraseReading,
  type PhraseVectorOptions,
} from "./phrase-vectors.js";
export {
  findPhrase,
  rankSpans,
  searchPhrases,
  type CorpusSearchOptions,
  type PhraseMatch,
  type PhraseSearchOptions,
} from "./search.js";
export { phraseMatch, phraseSimilarities, type PhraseScoringOptions } from "./similarity.js";
