// The library's layers, lowest first: a folder may import its own files and those of lower layers
// only (folders on one line are peers and do not import each other). `npm run lint` checks it, and
// test/unit/dependency-rules.test.ts shows that each rule below fails on a file that breaks it.
const layers = [
  ["util"],
  ["native"],
  ["vectors", "gguf"],
  ["tokens", "output"],
  ["prompts", "hub"],
  ["embedding"],
  ["senses"],
  ["wordnet"],
  ["phrases"],
  ["eval"],
  ["vector-index"],
  ["server", "jobs"],
  ["cli"],
];
const listedFolders = layers.flat().join("|");

// Each rule names what a folder may import, so that a folder missing from the list is forbidden to
// all (the top layer included) rather than allowed by omission.
const layerRules = layers.flatMap((folders, level) =>
  folders.map((folder) => {
    const allowed = [folder, ...layers.slice(0, level).flat()];
    return {
      name: `layer-${folder}`,
      comment: `lib/${folder} may import only itself and lower layers: ${allowed.slice(1).join(", ") || "none"}`,
      severity: "error",
      from: { path: `^lib/${folder}/` },
      to: { path: "^lib/", pathNot: `^lib/(${allowed.join("|")})/` },
    };
  }),
);

// The optional engines, and the only modules that may import them statically: the rest of the
// library reaches those through import() or for their types, so that `import "ctxembed"`, the
// server and the CLI start without them (test/unit/loaded-modules.test.ts checks what loads).
const optionalEngines = "(^|/)node_modules/(bullmq|ioredis|@lancedb/lancedb|apache-arrow)/";
const engineModules = "^lib/(vector-index/(index|vector-index)\\.ts$|jobs/)";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "no import cycles, between files or through folders",
      from: {},
      to: { circular: true },
    },
    {
      name: "lib-not-scripts",
      severity: "error",
      comment:
        "the library never loads build, benchmark or evaluation scripts: the dependency runs from scripts to lib",
      from: { path: "^lib/" },
      to: { path: "^scripts/" },
    },
    {
      name: "lib-folder-listed",
      severity: "error",
      comment: `every folder under lib/ has a layer in .dependency-cruiser.cjs (${listedFolders})`,
      from: { path: "^lib/", pathNot: `^lib/((${listedFolders})/|index\\.ts$)` },
      to: {},
    },
    {
      name: "core-stays-core",
      severity: "error",
      comment:
        "the main entry point (import 'ctxembed') exports the everyday API only: the rest is under subpaths (what it loads in all: test/unit/loaded-modules.test.ts)",
      from: { path: "^lib/index\\.ts$" },
      to: { path: "^lib/(hub|senses|wordnet|phrases|eval|vector-index|server|jobs|cli)/" },
    },
    {
      name: "optional-engines-lazy",
      severity: "error",
      comment:
        "bullmq, ioredis and LanceDB are imported statically only by the modules that run them (lib/jobs/, lib/vector-index/vector-index.ts and its entry); the rest import() them",
      from: { path: "^lib/", pathNot: engineModules },
      to: { path: optionalEngines, dependencyTypesNot: ["dynamic-import", "type-only"] },
    },
    {
      name: "scripts-build-standalone",
      severity: "error",
      comment:
        "install and build scripts run before the library is compiled: they import neither lib/ nor the measuring scripts",
      from: { path: "^scripts/build/" },
      to: { path: "^(lib|scripts/(bench|eval|reference|data))/" },
    },
    {
      name: "unit-tests-no-models",
      severity: "error",
      comment:
        "unit tests are model-free: they import none of test/model/ (model pulls, llama.cpp tools) or test/package/",
      from: { path: "^test/unit/" },
      to: { path: "^test/(model|package)/" },
    },
    { name: "no-unresolvable", severity: "error", from: {}, to: { couldNotResolve: true } },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|dist|build|native/llama\\.cpp)/" },
    tsConfig: { fileName: "tsconfig.json" },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".mts", ".mjs", ".js", ".d.mts", ".d.ts", ".json"],
    },
  },
};
