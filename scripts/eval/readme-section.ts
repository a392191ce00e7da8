// The README's generated tables live between <!-- NAME:start --> and <!-- NAME:end --> markers,
// so that evaluation scripts can rewrite them from their own results.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

const readmePath = join(import.meta.dirname, "..", "..", "README.md");

export async function rewriteReadmeSection(name: string, text: string, path = readmePath): Promise<void> {
  const [open, close] = [`<!-- ${name}:start -->`, `<!-- ${name}:end -->`];
  const readme = await readFile(path, "utf8");
  const start = readme.indexOf(open);
  const end = readme.indexOf(close);
  if (start < 0 || end < start) throw new Error(`${path} has no ${open} … ${close} section`);
  await writeFile(path, `${readme.slice(0, start + open.length)}\n${text}\n${readme.slice(end)}`);
  console.error(`${path}: section ${name} rewritten`);
}
