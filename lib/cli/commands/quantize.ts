import { Command, Option } from "commander";
import { ACTIVATION_SMOOTHING_KEY } from "../../gguf/format.js";
import { resolveModel } from "../../hub/pull.js";
import { QUANTIZE_TYPES, quantizeModel, type QuantizeType } from "../../hub/quantize-model.js";
import { note } from "../terminal.js";

const megabytes = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

export function quantizeCommand(): Command {
  return new Command("quantize")
    .description("write a GGUF file with reduced-precision weights, made by llama.cpp's own quantizer")
    .argument("<in>", "GGUF file (f32, f16 or bf16 weights) or catalogue name")
    .argument("<out.gguf>", "file to write")
    .addOption(new Option("--type <type>", "weight type").choices(QUANTIZE_TYPES).makeOptionMandatory())
    .option("--threads <n>", "quantizer threads (default: every core)", (value) => Number.parseInt(value, 10))
    .option("--allow-requantize", "quantize weights that are quantized already (loses accuracy twice)", false)
    .option(
      "--no-smooth",
      "write plain llama.cpp weights: skip smoothing a BERT's activations (the file then loads in any llama.cpp, at a lower accuracy)",
    )
    .addHelpText(
      "after",
      [
        "",
        "The catalogue carries ready-made variants too: --model all-minilm-l6-v2:q8_0 (or :bf16) makes one on first use.",
        "",
        "Examples:",
        "  $ ctxembed quantize all-minilm-l6-v2 minilm-q8_0.gguf --type q8_0",
        "  $ ctxembed quantize model-f16.gguf model-q4_k_m.gguf --type q4_k_m",
      ].join("\n"),
    )
    .action(
      async (
        input: string,
        out: string,
        options: { type: QuantizeType; threads?: number; allowRequantize: boolean; smooth: boolean },
      ) => {
        const inputPath = await resolveModel(input, { onProgress: note });
        // Ctrl-C stops at once: half a quantized model is worth nothing, and the temporaries go
        // with the process (lib/util/atomic-file.ts).
        const stop = (signal: NodeJS.Signals, code: number) => () => {
          note(`${signal === "SIGINT" ? "interrupted" : "terminated"}: ${out} was not written`);
          process.exit(code);
        };
        process.once("SIGINT", stop("SIGINT", 130)).once("SIGTERM", stop("SIGTERM", 143));
        const report = await quantizeModel(inputPath, out, {
          type: options.type,
          allowRequantize: options.allowRequantize,
          ...(options.smooth ? {} : { smoothActivations: false }),
          ...(options.threads === undefined ? {} : { threads: options.threads }),
        });
        const smoothing = report.smoothed
          ? ", activations smoothed"
          : report.notSmoothedBecause
            ? `, activations not smoothed (${report.notSmoothedBecause})`
            : "";
        note(
          `wrote ${report.outputPath}: ${report.type}, ${megabytes(report.outputBytes)} (from ${megabytes(report.inputBytes)})${smoothing}`,
        );
        if (report.smoothed)
          note(
            "only ctxembed loads it: upstream llama.cpp, ollama and node-llama-cpp refuse its smoothing factors " +
              `("wrong number of tensors"); the file says so in ${ACTIVATION_SMOOTHING_KEY} (ctxembed info). ` +
              "For a file they load, quantize with --no-smooth (a lower accuracy: docs/models.md).",
          );
      },
    );
}
