// The library's layers, lowest first: a folder may import its own files and those of lower layers
// only (folders on one line are peers and do not import each other). `npm run lint` checks it.
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

const layerRules = layers.flatMap((folders, level) =>
  folders.map((folder) => {
    const notBelow = layers
      .slice(level)
      .flat()
      .filter((other) => other !== folder);
    return {
      name: `layer-${folder}`,
      comment: `lib/${folder} may import only lower layers: ${layers.slice(0, level).flat().join(", ") || "none"}`,
      severity: "error",
      from: { path: `^lib/${folder}/` },
      to: { path: `^lib/(${notBelow.join("|")})/` },
    };
  }),
);

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
      name: "core-stays-core",
      severity: "error",
      comment: "the main entry point (import 'ctxembed') exports the everyday API only: the rest is under subpaths",
      from: { path: "^lib/index\\.ts$" },
      to: { path: "^lib/(hub|senses|wordnet|phrases|eval|vector-index|server|cli)/" },
    },
    {
      name: "scripts-build-standalone",
      severity: "error",
      comment:
        "install and build scripts run before the library is compiled: they import neither lib/ nor the measuring scripts",
      from: { path: "^scripts/build/" },
      to: { path: "^(lib|scripts/(bench|eval|reference|data))/" },
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
