// One Node peer's run for the peer benchmark (peers.ts): load the GGUF, embed every line of a
// file the way that library is meant to be used, exit. Run as its own process so that the
// parent can time it and watch its memory.
//   node --import tsx peers-node-runner.ts <ctxembed|node-llama-cpp> <model.gguf> <texts.txt> <threads> <peers directory>
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const [runner, modelPath, textsPath, threadsArgument, peersDirectory] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const texts = (await readFile(textsPath, "utf8")).split("\n").filter((line) => line.length > 0);
const threads = Number.parseInt(threadsArgument, 10);
const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

if (runner === "ctxembed") {
  // The compiled package, as users run it (npm run prepare keeps dist/ current).
  const { loadModel } = await import(pathToFileURL(join(repositoryRoot, "dist", "index.js")).href);
  const model = await loadModel(modelPath, { threads });
  await model.embed(texts);
  await model.dispose();
} else if (runner === "node-llama-cpp") {
  const { getLlama, LlamaLogLevel } = await import(
    pathToFileURL(join(peersDirectory, "node_modules", "node-llama-cpp", "dist", "index.js")).href
  );
  const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath });
  const context = await model.createEmbeddingContext({ threads });
  // Its API embeds one text per call; calls on one context are serialised anyway.
  for (const text of texts) await context.getEmbeddingFor(text);
  await context.dispose();
  await model.dispose();
} else {
  throw new Error(`unknown runner ${runner}`);
}
