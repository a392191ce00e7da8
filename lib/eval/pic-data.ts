// The items of the three PiC tasks (Pham et al., EACL 2023), in the shape of PiC's own files:
// phrase similarity pairs, and SQuAD-style items for phrase retrieval and phrase sense
// disambiguation (PSD items are retrieval items whose context joins two passages).

/** PS: is `phrase1` in `sentence1` the same in meaning as `phrase2` in `sentence2`? */
export interface PhraseSimilarityPair {
  phrase1: string;
  phrase2: string;
  sentence1: string;
  sentence2: string;
  label: boolean;
}

export interface PhraseAnswer {
  text: string;
  /** character offset of `text` in the item's context (JavaScript string index) */
  start: number;
}

/** PR and PSD: find the span of `context` that means `query`. */
export interface PhraseRetrievalItem {
  id: string;
  context: string;
  query: string;
  answers: PhraseAnswer[];
}
