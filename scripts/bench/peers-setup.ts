// The peers the peer benchmark compares with, installed on first use into ctxembed's cache,
// outside the repository's dependencies: Node packages from npm, a Python virtual environment
// from PyPI, ONNX weights exported from the model's checkpoint, and llama-embedding built with
// llama.cpp's own default CMake options.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const scriptsDirectory = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Exact versions; transformers.js 4.3.1 itself pins onnxruntime-node 1.30.0, so both use one ONNX Runtime. */
export const nodePeerVersions = {
  "node-llama-cpp": "3.21.1",
  "@huggingface/transformers": "4.3.1",
  "onnxruntime-node": "1.30.0",
} as const;

export type NodePeerPackage = keyof typeof nodePeerVersions;

/** Installs one package (exact version) into the peers directory unless it is there already. */
export function installNodePeer(peersDirectory: string, name: NodePeerPackage): void {
  const version = nodePeerVersions[name];
  const manifest = join(peersDirectory, "node_modules", name, "package.json");
  if (existsSync(manifest) && JSON.parse(readFileSync(manifest, "utf8")).version === version) return;
  mkdirSync(peersDirectory, { recursive: true });
  const project = join(peersDirectory, "package.json");
  if (!existsSync(project))
    writeFileSync(project, `${JSON.stringify({ name: "ctxembed-bench-peers", private: true })}\n`);
  console.error(`bench: installing ${name}@${version} into ${peersDirectory}…`);
  // node-llama-cpp's prebuilt binaries and onnxruntime-node's CPU library come in the packages;
  // onnxruntime-node's install script would fetch CUDA files from GitHub, which is not wanted here.
  execFileSync("npm", ["install", "--save-exact", "--no-audit", "--no-fund", `${name}@${version}`], {
    cwd: peersDirectory,
    stdio: "inherit",
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL_CUDA: "skip" },
  });
}

const requirementsFile = join(scriptsDirectory, "bench", "peers-requirements.txt");

/** peers-requirements.txt's pins that hold on every platform: distribution name to version. */
function pinnedPythonPackages(): Map<string, string> {
  const pins = readFileSync(requirementsFile, "utf8")
    .split("\n")
    // A pin with an environment marker applies to some platforms only, so it is not checked.
    .map((line) => /^([A-Za-z0-9_.-]+)==([^\s;]+)$/.exec(line.trim()))
    .filter((match) => match !== null);
  return new Map(pins.map(([, name, version]) => [name!, version!]));
}

/** The installed version of each distribution named, or null where it is not installed. */
function installedVersions(python: string, names: string[]): Record<string, string | null> {
  const probe = spawnSync(
    python,
    [
      "-c",
      `import importlib.metadata, json, sys
versions = {}
for name in sys.argv[1:]:
    try:
        versions[name] = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        versions[name] = None
print(json.dumps(versions))`,
      ...names,
    ],
    { encoding: "utf8" },
  );
  return probe.status === 0 ? JSON.parse(probe.stdout) : Object.fromEntries(names.map((name) => [name, null]));
}

export interface PeersPython {
  python: string;
  /** every pinned distribution's installed version, null where missing */
  versions: Record<string, string | null>;
}

/**
 * A Python with the peers' modules: the interpreter given as it is, else a virtual environment in
 * the peers directory, made and brought to peers-requirements.txt's pins whenever one differs.
 */
export function peersPython(peersDirectory: string, given?: string): PeersPython {
  const environment = join(peersDirectory, "python");
  const python = given ?? join(environment, "bin", "python");
  const pins = pinnedPythonPackages();
  const names = [...pins.keys()];
  let versions = installedVersions(python, names);
  const differs = () => names.some((name) => versions[name] !== pins.get(name));
  if (given === undefined && differs()) {
    console.error(`bench: installing ${requirementsFile} into ${environment} (torch brings gigabytes)…`);
    if (!existsSync(python)) execFileSync("python3", ["-m", "venv", environment], { stdio: "inherit" });
    execFileSync(python, ["-m", "pip", "install", "--quiet", "-r", requirementsFile], { stdio: "inherit" });
    versions = installedVersions(python, names);
  }
  return { python, versions };
}

export interface OnnxModel {
  /** transformers.js' layout: config and tokenizer files here, the weights under onnx/ */
  directory: string;
  fp32: string;
  int8: string;
}

/** ONNX weights of the checkpoint, exported on first use by scripts/reference/export-onnx.py. */
export function onnxModel(peersDirectory: string, modelName: string, checkpoint: string, python: string): OnnxModel {
  const directory = join(peersDirectory, "onnx", modelName);
  const model = {
    directory,
    fp32: join(directory, "onnx", "model.onnx"),
    int8: join(directory, "onnx", "model_quantized.onnx"),
  };
  if (existsSync(model.fp32) && existsSync(model.int8)) return model;
  console.error(`bench: exporting ${checkpoint} to ONNX in ${directory}…`);
  execFileSync(
    python,
    [join(scriptsDirectory, "reference", "export-onnx.py"), "--model", checkpoint, "--output", directory],
    { stdio: "inherit" },
  );
  return model;
}

/** A model file in two precisions. */
export interface PeerModelPair {
  full: string;
  int8: string;
}

/** One of peers-export.py's products, exported on first use. */
function exported(python: string, checkpoint: string, onnx: OnnxModel, what: string, file: string): string {
  if (existsSync(file)) return file;
  console.error(`bench: exporting ${what} of ${checkpoint} into ${onnx.directory}…`);
  execFileSync(
    python,
    [
      join(scriptsDirectory, "bench", "peers-export.py"),
      "--model",
      checkpoint,
      "--output",
      onnx.directory,
      "--what",
      what,
    ],
    { stdio: "inherit" },
  );
  return file;
}

/**
 * ONNX Runtime at its best: its transformer optimizer's fused graph and that graph's dynamic int8,
 * with 7-bit weights only on CPUs without VNNI (peers-export.py says why).
 */
export function fusedOnnxModels(onnx: OnnxModel, checkpoint: string, python: string, vnni: boolean): PeerModelPair {
  const int8 = vnni ? "int8" : "int8-reduced-range";
  return {
    full: exported(python, checkpoint, onnx, "fused", join(onnx.directory, "onnx", "model-fused.onnx")),
    int8: exported(python, checkpoint, onnx, int8, join(onnx.directory, "onnx", `model-fused-${int8}.onnx`)),
  };
}

/** OpenVINO IR of the checkpoint: f32 weights, and int8 weights compressed by NNCF. */
export function openvinoModels(onnx: OnnxModel, checkpoint: string, python: string): PeerModelPair {
  const folder = join(onnx.directory, "openvino");
  return {
    full: exported(python, checkpoint, onnx, "openvino", join(folder, "openvino_model.xml")),
    int8: join(folder, "openvino_model_int8.xml"),
  };
}

/**
 * llama-embedding built the way llama.cpp's README says (CMake, Release, every option at its
 * default: OpenMP, GGML_NATIVE) from the pinned release without ctxembed's patches, in the
 * peers directory. The first build compiles about 220 files.
 */
export function llamaEmbeddingWithDefaults(peersDirectory: string, patchedSource: string): string {
  const base = join(peersDirectory, "llama.cpp-defaults");
  const source = join(base, "source");
  const build = join(base, "build");
  const binary = join(build, "bin", "llama-embedding");
  if (existsSync(binary)) return binary;
  if (!existsSync(join(source, "CMakeLists.txt"))) {
    // The commit is the release itself; ctxembed's patches sit uncommitted in the working tree.
    mkdirSync(source, { recursive: true });
    const archive = execFileSync("git", ["-C", patchedSource, "archive", "--format=tar", "HEAD"], {
      maxBuffer: 2 ** 30,
    });
    execFileSync("tar", ["-x", "-C", source], { input: archive });
  }
  console.error(`bench: building llama-embedding with llama.cpp's default CMake options in ${build}…`);
  execFileSync("cmake", ["-B", build, "-S", source, "-DCMAKE_BUILD_TYPE=Release"], { stdio: "inherit" });
  execFileSync(
    "cmake",
    [
      "--build",
      build,
      "--config",
      "Release",
      "--target",
      "llama-embedding",
      "--parallel",
      String(availableParallelism()),
    ],
    { stdio: "inherit" },
  );
  return binary;
}

/**
 * ctxembed as a user gets it from npm: the repository packed (`npm pack`, prebuilt binaries
 * included) and installed into an empty project in the peers directory, fresh each run.
 * @returns the installed package's directory
 */
export function installPackedCtxembed(peersDirectory: string, repositoryRoot: string): string {
  const project = join(peersDirectory, "ctxembed-package");
  rmSync(project, { recursive: true, force: true });
  mkdirSync(project, { recursive: true });
  writeFileSync(
    join(project, "package.json"),
    `${JSON.stringify({ name: "ctxembed-bench-package", private: true, allowScripts: { ctxembed: true } })}\n`,
  );
  const [packed] = JSON.parse(
    execFileSync("npm", ["pack", "--json", "--pack-destination", project], { cwd: repositoryRoot, encoding: "utf8" }),
  ) as { filename: string }[];
  console.error(`bench: installing ${packed!.filename} into ${project}…`);
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--foreground-scripts", join(project, packed!.filename)], {
    cwd: project,
    stdio: "inherit",
  });
  return join(project, "node_modules", "ctxembed");
}
