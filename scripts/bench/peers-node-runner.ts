// One Node peer's run for the peer benchmark (peers.ts): load the model, embed every line of a
// file the way that library is meant to be used, write the vectors (float32, little-endian, one
// row per line) for the parity check, exit. Run as its own process so that the parent can time
// it and watch its memory. The bench runs it as JavaScript (transpiled into its work directory,
// CTXEMBED_REPOSITORY naming the checkout whose dist/ the ctxembed runner loads), so that no
// runner's process pays for tsx's loader; by hand, tsx runs it where it lies:
//   node --import tsx peers-node-runner.ts <runner> <model> <texts.txt> <threads> <vectors.f32> <peers directory> [batch size] [max tokens]
// runner: ctxembed, ctxembed-package (the npm tarball installed in the peers directory) or
// node-llama-cpp (model: the GGUF file), transformers.js or onnxruntime-node
// (model: an .onnx file in transformers.js' layout, <directory>/onnx/<file>).
import { readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const [runner, modelPath, textsPath, threadsArgument, vectorsPath, peersDirectory, batchArgument, maxTokensArgument] =
  process.argv.slice(2) as [string, string, string, string, string, string, string?, string?];
const texts = (await readFile(textsPath, "utf8")).split("\n").filter((line) => line.length > 0);
const threads = Number.parseInt(threadsArgument, 10);
const batchSize = Number.parseInt(batchArgument ?? "32", 10);
const maxTokens = Number.parseInt(maxTokensArgument ?? "256", 10);
const repositoryRoot = process.env.CTXEMBED_REPOSITORY ?? join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const requirePeer = createRequire(join(peersDirectory, "package.json"));
/** transformers.js' layout: config and tokenizer files beside the onnx/ folder */
const onnxModelDirectory = dirname(dirname(modelPath));

function writeVectors(vectors: ArrayLike<number>[]): Promise<void> {
  const dimensions = vectors[0]?.length ?? 0;
  const matrix = new Float32Array(vectors.length * dimensions);
  vectors.forEach((vector, row) => matrix.set(vector, row * dimensions));
  return writeFile(vectorsPath, new Uint8Array(matrix.buffer));
}

/**
 * The texts' indices sorted by token count, in batches of at most batchSize, so that a batch pads
 * little: how an application embedding many texts feeds a padded-batch engine.
 */
function lengthSortedBatches(tokenCounts: number[]): number[][] {
  const order = tokenCounts.map((_, i) => i).sort((a, b) => tokenCounts[a]! - tokenCounts[b]!);
  return Array.from({ length: Math.ceil(order.length / batchSize) }, (_, i) =>
    order.slice(i * batchSize, (i + 1) * batchSize),
  );
}

/** ctxembed from a package directory: the repository's (npm run prepare keeps dist/ current) or an installed one. */
async function ctxembed(packageDirectory = repositoryRoot): Promise<Float32Array[]> {
  const { loadModel } = await import(pathToFileURL(join(packageDirectory, "dist", "index.js")).href);
  const model = await loadModel(modelPath, { threads });
  const embeddings: { embedding: Float32Array }[] = await model.embed(texts);
  await model.dispose();
  return embeddings.map((result) => result.embedding);
}

async function nodeLlamaCpp(): Promise<ArrayLike<number>[]> {
  const { getLlama, LlamaLogLevel } = await import(
    pathToFileURL(join(peersDirectory, "node_modules", "node-llama-cpp", "dist", "index.js")).href
  );
  const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath });
  const context = await model.createEmbeddingContext({ threads });
  const vectors: ArrayLike<number>[] = [];
  // Its API embeds one text per call; calls on one context are serialised anyway.
  for (const text of texts) vectors.push((await context.getEmbeddingFor(text)).vector);
  await context.dispose();
  await model.dispose();
  return vectors;
}

/** The pipeline as its documentation shows it, fed length-sorted batches. */
async function transformersJs(): Promise<Float32Array[]> {
  const { pipeline, env } = requirePeer("@huggingface/transformers");
  env.localModelPath = dirname(onnxModelDirectory);
  env.allowRemoteModels = false;
  const extractor = await pipeline("feature-extraction", basename(onnxModelDirectory), {
    device: "cpu",
    dtype: basename(modelPath) === "model_quantized.onnx" ? "q8" : "fp32",
    session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
  });
  const vectors: Float32Array[] = new Array(texts.length);
  const tokenCounts = texts.map((text) => extractor.tokenizer.encode(text).length);
  for (const batch of lengthSortedBatches(tokenCounts)) {
    const output = await extractor(
      batch.map((i) => texts[i]!),
      { pooling: "mean", normalize: true },
    );
    const dimensions = output.dims[1] as number;
    batch.forEach((text, row) => {
      vectors[text] = output.data.slice(row * dimensions, (row + 1) * dimensions);
    });
  }
  await extractor.dispose();
  return vectors;
}

/**
 * ONNX Runtime by hand, as an application embedding many texts would use it: length-sorted
 * batches, then mean pooling over the attention mask and L2 normalisation.
 */
async function onnxRuntimeNode(): Promise<Float32Array[]> {
  const ort = requirePeer("onnxruntime-node");
  const { Tokenizer } = requirePeer("@huggingface/tokenizers");
  const readJson = async (name: string) => JSON.parse(await readFile(join(onnxModelDirectory, name), "utf8"));
  const tokenizer = new Tokenizer(await readJson("tokenizer.json"), await readJson("tokenizer_config.json"));
  const session = await ort.InferenceSession.create(modelPath, {
    executionProviders: ["cpu"],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  });
  // Cut as sentence-transformers does: the first maxTokens - 1 tokens, then the final [SEP].
  const ids = texts.map((text) => {
    const all: number[] = tokenizer.encode(text).ids;
    return all.length <= maxTokens ? all : [...all.slice(0, maxTokens - 1), all.at(-1)!];
  });
  const vectors: Float32Array[] = new Array(texts.length);
  for (const batch of lengthSortedBatches(ids.map((tokens) => tokens.length))) {
    const width = Math.max(...batch.map((i) => ids[i]!.length));
    const inputIds = new BigInt64Array(batch.length * width);
    const attentionMask = new BigInt64Array(batch.length * width);
    batch.forEach((text, row) =>
      ids[text]!.forEach((id, column) => {
        inputIds[row * width + column] = BigInt(id);
        attentionMask[row * width + column] = 1n;
      }),
    );
    const shape = [batch.length, width];
    const { last_hidden_state: hidden } = await session.run({
      input_ids: new ort.Tensor("int64", inputIds, shape),
      attention_mask: new ort.Tensor("int64", attentionMask, shape),
      token_type_ids: new ort.Tensor("int64", new BigInt64Array(batch.length * width), shape),
    });
    const dimensions = hidden.dims[2] as number;
    const states = hidden.data as Float32Array;
    batch.forEach((text, row) => {
      const length = ids[text]!.length;
      const vector = new Float32Array(dimensions);
      for (let token = 0; token < length; token++) {
        const offset = (row * width + token) * dimensions;
        for (let d = 0; d < dimensions; d++) vector[d]! += states[offset + d]!;
      }
      // The mean's 1/length is a scale, which the normalisation takes out anyway.
      const norm = Math.hypot(...vector);
      vectors[text] = vector.map((value) => value / norm);
    });
  }
  await session.release();
  return vectors;
}

const runners: Record<string, () => Promise<ArrayLike<number>[]>> = {
  ctxembed: () => ctxembed(),
  // The packed package installed from its tarball (peers-setup.ts: installPackedCtxembed).
  "ctxembed-package": () => ctxembed(join(peersDirectory, "ctxembed-package", "node_modules", "ctxembed")),
  "node-llama-cpp": nodeLlamaCpp,
  "transformers.js": transformersJs,
  "onnxruntime-node": onnxRuntimeNode,
};
const run = runners[runner];
if (run === undefined) throw new Error(`unknown runner ${runner}`);
await writeVectors(await run());
