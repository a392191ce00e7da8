import { Command, Option } from "commander";
import { convertCheckpoint, type ConvertType } from "../../hub/convert/index.js";
import { checkOutputPath } from "../../util/output-path.js";
import { note } from "../terminal.js";

export function convertCommand(): Command {
  return new Command("convert")
    .description("convert a Hugging Face BERT / sentence-transformers checkpoint (safetensors) to GGUF")
    .argument("<checkpoint-dir>", "folder with config.json, model.safetensors and the tokenizer files")
    .argument("<out.gguf>", "file to write")
    .addOption(new Option("--type <type>", "weight type").choices(["f32", "f16"]).default("f32"))
    .option("--name <name>", "general.name to record (default: the checkpoint folder's name)")
    .addHelpText("after", "\nExample:\n  $ ctxembed convert ./all-MiniLM-L6-v2 minilm-f16.gguf --type f16")
    .action(async (checkpoint: string, out: string, options: { type: ConvertType; name?: string }) => {
      // A folder or a missing folder would otherwise fail only after the whole conversion.
      await checkOutputPath(out);
      const report = await convertCheckpoint(checkpoint, out, {
        type: options.type,
        name: options.name,
        onProgress: note,
      });
      note(
        `wrote ${report.outFile}: ${report.architecture}, ${report.tensorCount} tensors, ${report.type}, pooling ${report.pooling}, max ${report.maxSequenceLength} tokens`,
      );
    });
}
