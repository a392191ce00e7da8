// The options that choose and score candidate spans, shared by phrase-search and eval phrases.
import { Option, type Command } from "commander";
import { candidateModes, type CandidateMode, type CandidateOptions } from "../../phrases/candidates.js";
import { phraseForms, type PhraseForm } from "../../phrases/phrase-vectors.js";
import type { PhraseScoringOptions } from "../../phrases/similarity.js";
import { spanPoolingModes, type SpanPooling } from "../../tokens/spans.js";
import { positiveInteger } from "./source-options.js";

export interface PhraseCommandOptions {
  maxWords: number;
  minWords: number;
  candidates: CandidateMode;
  scoring: PhraseForm;
  spanPooling?: SpanPooling;
}

/** Adds --max-words, --min-words, --candidates, --scoring and --span-pooling; `scope` prefixes what applies to some tasks only. */
export function addPhraseOptions(command: Command, scope = ""): Command {
  return command
    .option("--max-words <n>", `${scope}longest candidate span, in words`, positiveInteger, 4)
    .option(
      "--min-words <n>",
      `${scope}shortest candidate span, in words (2: multiword phrases only)`,
      positiveInteger,
      1,
    )
    .addOption(
      new Option(
        "--candidates <mode>",
        `${scope}ngrams: every word n-gram within punctuation; chunks: only phrase-like n-grams`,
      )
        .choices(candidateModes)
        .default("chunks"),
    )
    .addOption(
      new Option(
        "--scoring <form>",
        "vector: cosine of pooled vectors; tokens: each token matched to its closest (BERTScore F1)",
      )
        .choices(phraseForms)
        .default("vector"),
    )
    .addOption(
      new Option("--span-pooling <mode>", "with --scoring vector: how a span pools its tokens (default mean)").choices(
        spanPoolingModes,
      ),
    );
}

/** The library options the command line asked for. */
export function phraseSettingsOf(options: PhraseCommandOptions): CandidateOptions & PhraseScoringOptions {
  if (options.minWords > options.maxWords)
    throw new RangeError(`--min-words (${options.minWords}) must be at most --max-words (${options.maxWords})`);
  return {
    maxWords: options.maxWords,
    minWords: options.minWords,
    mode: options.candidates,
    scoring: options.scoring,
    ...(options.spanPooling === undefined ? {} : { spanPooling: options.spanPooling }),
  };
}
