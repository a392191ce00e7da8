#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { convertCommand } from "./commands/convert.js";
import { embedCommand } from "./commands/embed.js";
import { evalCommand } from "./commands/eval.js";
import { indexCommand } from "./commands/index-build.js";
import { infoCommand } from "./commands/info.js";
import { jobsCommand } from "./commands/jobs.js";
import { mergeCommand } from "./commands/merge.js";
import { modelsCommand } from "./commands/models.js";
import { phraseSearchCommand } from "./commands/phrase-search.js";
import { quantizeCommand } from "./commands/quantize.js";
import { sensesCommand } from "./commands/senses.js";
import { searchCommand } from "./commands/search.js";
import { serveCommand } from "./commands/serve.js";
import { spanCommand } from "./commands/span.js";
import { tokensCommand } from "./commands/tokens.js";
import { workerCommand } from "./commands/worker.js";
import { reportFailure } from "./terminal.js";

/** Exit codes: 0 success, 1 the work failed (message on stderr), 2 the command line was wrong. */
const usageExitCode = 2;

const program = new Command("ctxembed")
  .description("contextual embeddings on llama.cpp: sentences, tokens, words and phrases in context, from any layer")
  .showHelpAfterError()
  .exitOverride()
  .addCommand(embedCommand())
  .addCommand(tokensCommand())
  .addCommand(spanCommand())
  .addCommand(phraseSearchCommand())
  .addCommand(indexCommand())
  .addCommand(searchCommand())
  .addCommand(infoCommand())
  .addCommand(modelsCommand())
  .addCommand(convertCommand())
  .addCommand(quantizeCommand())
  .addCommand(serveCommand())
  .addCommand(sensesCommand())
  .addCommand(evalCommand())
  .addCommand(workerCommand())
  .addCommand(jobsCommand())
  .addCommand(mergeCommand())
  .addHelpText(
    "after",
    "\nExamples:\n  $ ctxembed embed --input sentences.txt > vectors.jsonl\n  $ ctxembed models pull all-minilm-l6-v2\n  $ ctxembed info --model all-minilm-l6-v2",
  );

for (const command of program.commands) {
  command.exitOverride();
  for (const subcommand of command.commands) subcommand.exitOverride();
}

// A reader that stops early (`ctxembed ... | head`) closes the pipe: that ends the output, it is not a failure.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
  process.exit(0);
});

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exitCode = error.exitCode === 0 ? 0 : usageExitCode;
  else process.exitCode = reportFailure(error);
}
