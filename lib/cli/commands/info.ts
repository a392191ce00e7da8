import { Command } from "commander";
import { fastestMeasuredVariant } from "../../hub/measured-variants.js";
import { modelOption, openModel, type ModelCommandOptions } from "./model-options.js";

interface InfoCommandOptions extends ModelCommandOptions {
  metadata: boolean;
}

export function infoCommand(): Command {
  return new Command("info")
    .description(
      "print what a model is: architecture, sizes, pooling, limits, special tokens, and the variant this CPU runs fastest at min cosine >= 0.999 as measured (JSON)",
    )
    .addOption(modelOption())
    .option("--metadata", "also print every GGUF metadata entry", false)
    .addHelpText("after", "\nExamples:\n  $ ctxembed info\n  $ ctxembed info --model ./model.gguf --metadata")
    .action(async (options: InfoCommandOptions) => {
      const model = await openModel(options);
      try {
        const { metadata, ...summary } = model.info;
        const limits = {
          maxSequenceTokens: model.maxSequenceTokens,
          batchTokens: model.batchTokens,
          threads: model.threads,
        };
        const fastestVariant = fastestMeasuredVariant(options.model);
        process.stdout.write(
          `${JSON.stringify({ ...summary, ...limits, fastestVariant, ...(options.metadata ? { metadata } : {}) }, null, 2)}\n`,
        );
      } finally {
        await model.dispose();
      }
    });
}
