// WordNet's morphy detachment rules (wn(7WN) "morphy"): suffix substitutions that turn an
// inflected form into candidate base forms; irregular forms come from the *.exc lists instead.
export const wordNetPartsOfSpeech = ["noun", "verb", "adj", "adv"] as const;
export type WordNetPos = (typeof wordNetPartsOfSpeech)[number];

const detachments: Record<WordNetPos, [string, string][]> = {
  noun: [
    ["s", ""],
    ["ses", "s"],
    ["xes", "x"],
    ["zes", "z"],
    ["ches", "ch"],
    ["shes", "sh"],
    ["men", "man"],
    ["ies", "y"],
  ],
  verb: [
    ["s", ""],
    ["ies", "y"],
    ["es", "e"],
    ["es", ""],
    ["ed", "e"],
    ["ed", ""],
    ["ing", "e"],
    ["ing", ""],
  ],
  adj: [
    ["er", ""],
    ["est", ""],
    ["er", "e"],
    ["est", "e"],
  ],
  adv: [],
};

export function morphologicalBases(form: string, pos: WordNetPos): string[] {
  return detachments[pos]
    .filter(([suffix]) => form.endsWith(suffix) && form.length > suffix.length)
    .map(([suffix, base]) => form.slice(0, -suffix.length) + base);
}
