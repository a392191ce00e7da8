// What each entry point loads, transitively, as Node loads it (not what its own lines import):
// `import "ctxembed"` stays the everyday API, without the hub's converter, quantizer, smoothing
// and wheel reader; and the optional engines (bullmq, ioredis, LanceDB) load only where a command
// or the vector index needs them. A fresh Node process imports the entry with a resolve hook that
// records every module resolved (ES modules) and, at exit, every CommonJS module in require's cache.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const scratch = mkdtempSync(join(tmpdir(), "ctxembed-loaded-modules-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const recorder = join(scratch, "record-loads.mjs");
writeFileSync(
  recorder,
  `import { createRequire, register } from "node:module";
import { appendFileSync } from "node:fs";
const log = process.env.CTXEMBED_LOADED_MODULES;
register("data:text/javascript," + encodeURIComponent(\`
import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(\${JSON.stringify(log)}, resolved.url + "\\\\n");
  return resolved;
}\`));
process.on("exit", () => {
  const cached = Object.keys(createRequire(import.meta.url).cache);
  appendFileSync(log, cached.map((path) => "file://" + path + "\\n").join(""));
});
`,
);

/** The repository files and packages (by name) a fresh process loads for `args`. */
function modulesLoaded(name: string, args: string[]): string[] {
  const log = join(scratch, `${name.replace(/\W+/g, "-")}.log`);
  writeFileSync(log, "");
  const run = spawnSync(process.execPath, ["--import", "tsx", "--import", pathToFileURL(recorder).href, ...args], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, CTXEMBED_LOADED_MODULES: log },
  });
  expect(run.status, `${name}: ${run.stderr}`).toBe(0);
  const loaded = readFileSync(log, "utf8")
    .split("\n")
    .filter((url) => url.startsWith("file:"))
    .map((url) => {
      const path = fileURLToPath(url);
      const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
      return inPackage ? inPackage[1]! : relative(root, path);
    });
  return [...new Set(loaded)].sort();
}

const importing = (file: string) => ["--input-type=module", "-e", `await import(${JSON.stringify(`./${file}`)});`];
const optionalEngines = ["bullmq", "ioredis", "@lancedb/lancedb", "apache-arrow"];
const present = (loaded: string[], unwanted: (string | RegExp)[]) =>
  loaded.filter((module) =>
    unwanted.some((pattern) => (typeof pattern === "string" ? module === pattern : pattern.test(module))),
  );

// Each case starts a Node process that compiles the TypeScript it loads.
describe("modules loaded at start", { timeout: 60_000 }, () => {
  it("import 'ctxembed': the everyday API, none of the hub's converter, quantizer, smoothing or wheel reader, no optional engine", () => {
    const loaded = modulesLoaded("ctxembed", importing("lib/index.ts"));
    // the recorder sees what loads: the entry, the embedding layer, the addon
    expect(loaded).toEqual(
      expect.arrayContaining(["lib/index.ts", "lib/embedding/embedding-model.ts", "lib/native/addon.ts"]),
    );
    expect(
      present(loaded, [
        /^lib\/hub\/(convert\/|quantize-model|smoothing|wheel|pull)/,
        /^lib\/(senses|wordnet|phrases|eval|vector-index|server|jobs|cli)\//,
        "yauzl",
        ...optionalEngines,
      ]),
    ).toEqual([]);
  });

  it("loadModel of a GGUF file: none of the hub (pull, its HTTP client, the wheel reader), which only a model name needs", () => {
    // package.json stands in for the file: loadModel gets as far as reading its header, the
    // point by which a name would have loaded the hub, and refuses it as not a GGUF file.
    const loaded = modulesLoaded("load-file", [
      "--input-type=module",
      "-e",
      `const { loadModel } = await import("./lib/index.ts");
       const refusal = await loadModel("package.json").then(() => "", (error) => error.message);
       if (!refusal.includes("not a GGUF file")) throw new Error("expected a refusal of package.json, got: " + refusal);`,
    ]);
    expect(loaded).toContain("lib/gguf/reader.ts");
    expect(present(loaded, [/^lib\/hub\//, "undici", "yauzl", "proper-lockfile"])).toEqual([]);
  });

  it.each(["hub", "senses", "wordnet", "phrases", "eval", "output", "server"])(
    "import 'ctxembed/%s': no optional engine",
    (subpath) => {
      const loaded = modulesLoaded(subpath, importing(`lib/${subpath}/index.ts`));
      expect(loaded).toContain(`lib/${subpath}/index.ts`);
      expect(present(loaded, optionalEngines)).toEqual([]);
    },
  );

  it("the ctxembed command (its --help): no optional engine, and the vector index's engine only with it", () => {
    const cli = modulesLoaded("cli", ["lib/cli/main.ts", "--help"]);
    expect(cli).toContain("lib/cli/commands/worker.ts");
    expect(present(cli, optionalEngines)).toEqual([]);
    expect(present(modulesLoaded("vector-index", importing("lib/vector-index/index.ts")), optionalEngines)).toEqual([
      "@lancedb/lancedb",
      "apache-arrow",
    ]);
  });
});
