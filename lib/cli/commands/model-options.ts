import { Option } from "commander";
import { loadModel, type EmbeddingModel } from "../../embedding/embedding-model.js";
import { note } from "../terminal.js";
import { nonNegativeInteger, positiveInteger } from "./source-options.js";

export const defaultModel = "all-minilm-l6-v2";

export interface ModelCommandOptions {
  model: string;
  threads?: number;
  gpuLayers?: number;
}

export function modelOption(): Option {
  return new Option(
    "-m, --model <name|file>",
    "a catalogue model name or hf:OWNER/REPO[:QUANT] (pulled on first use), or a GGUF file",
  ).default(defaultModel);
}

export function threadsOption(): Option {
  return new Option("-t, --threads <n>", "CPU threads (default: all cores)").argParser(positiveInteger);
}

export function gpuLayersOption(): Option {
  return new Option("--gpu-layers <n>", "layers to offload to the GPU (needs a CUDA build: CTXEMBED_CUDA=1)").argParser(
    nonNegativeInteger,
  );
}

/** Resolves --model (pulling a catalogue model on first use, with progress on stderr) and loads it. */
export async function openModel(options: ModelCommandOptions): Promise<EmbeddingModel> {
  return loadModel(options.model, {
    onProgress: note,
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    ...(options.gpuLayers === undefined ? {} : { gpuLayers: options.gpuLayers }),
  });
}
