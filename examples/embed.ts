// Run with: npx tsx examples/embed.ts
import { cosineSimilarity, loadModel } from "../lib/index.js";

const model = await loadModel("all-minilm-l6-v2");
const [guitar, instrument, cat] = await model.embed([
  "A man is playing a guitar.",
  "Someone is playing an instrument.",
  "The cat sat on the mat.",
]);
console.log(model.info.name, `${model.info.dimensions} dimensions`);
console.log("guitar ~ instrument", cosineSimilarity(guitar!.embedding, instrument!.embedding).toFixed(3));
console.log("guitar ~ cat       ", cosineSimilarity(guitar!.embedding, cat!.embedding).toFixed(3));
await model.dispose();
