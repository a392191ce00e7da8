// The docs' generated tables live between <!-- NAME:start --> and <!-- NAME:end --> markers, so
// that evaluation scripts can rewrite them from their own results. docs/accuracy.md by default.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../../lib/util/atomic-file.js";

const accuracyPage = join(import.meta.dirname, "..", "..", "docs", "accuracy.md");

export async function rewriteDocSection(name: string, text: string, path = accuracyPage): Promise<void> {
  const [open, close] = [`<!-- ${name}:start -->`, `<!-- ${name}:end -->`];
  const page = await readFile(path, "utf8");
  const start = page.indexOf(open);
  const end = page.indexOf(close);
  if (start < 0 || end < start) throw new Error(`${path} has no ${open} … ${close} section`);
  await writeFileAtomic(path, `${page.slice(0, start + open.length)}\n${text}\n${page.slice(end)}`);
  console.error(`${path}: section ${name} rewritten`);
}
