// ctxembed/wordnet: WordNet 3.0 (Debian's wordnet-base files) as a sense inventory read by a model.
export { WordNet, type Synset, type WordNetPos } from "./database.js";
export { WordNetSenses, type SenseCombination, type SenseReading, type SenseVector } from "./sense-inventory.js";
export { modelSentenceEmbedder, modelSpanEmbedder, type SpanEmbedder } from "./span-embedder.js";
