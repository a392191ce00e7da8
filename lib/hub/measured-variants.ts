// Which catalogue variant runs fastest at the fidelity bar, as measured: facts from the peers
// bench (`npm run bench -- --peers`) written down with their source, by the instruction sets of
// the CPU they were measured on. A CPU of a class nobody measured gets "not measured", never a
// guess: AVX2-only CPUs among them, whose last q8_0 runs (2026-12-03, docs/performance.md) came
// before the current kernels and q8_0's activation smoothing.
import { x64CpuInfo } from "../../native/cpu-baseline.mjs";
import { isCatalogName } from "./catalog.js";

/** Min cosine to sentence-transformers on every STS-B dev sentence that a variant must keep. */
export const fidelityBar = 0.999;

interface VariantMeasurement {
  model: string;
  /** /proc/cpuinfo flags the CPU class has, and flags it lacks */
  has: readonly string[];
  lacks: readonly string[];
  cpuClass: string;
  variant: string;
  /** worst cosine to sentence-transformers over the 2,910 STS-B dev sentences */
  minCosine: number;
  measured: string;
  source: string;
}

const measurements: readonly VariantMeasurement[] = [
  {
    model: "all-minilm-l6-v2",
    has: ["avx512f", "avx512_vnni", "avx512_bf16"],
    lacks: [],
    cpuClass: "x86-64 with AVX-512, VNNI and BF16",
    variant: "q8_0",
    minCosine: 0.999444,
    measured:
      "AMD EPYC Zen 4, 2,910 STS-B dev sentences: q8_0 4.96 s (1 thread) and 3.70 s (2 threads) against f32's 10.91 and 6.25 s and bf16's 6.44 and 4.14 s",
    source: "docs/performance.md, npm run bench -- --peers of 2026-12-08 00:16 UTC",
  },
];

export type FastestVariant =
  | {
      variant: string;
      /** the --model value that picks it */
      model: string;
      minCosine: number;
      cpuClass: string;
      measured: string;
      source: string;
    }
  | { variant: null; reason: string };

/**
 * The variant of a catalogue model (`name` or `name:variant`) measured fastest at min cosine
 * >= fidelityBar on CPUs with this CPU's instruction sets.
 */
export function fastestMeasuredVariant(model: string, cpu = x64CpuInfo()): FastestVariant {
  const name = model.split(":")[0]!;
  if (!isCatalogName(name))
    return { variant: null, reason: "measured for the catalogue's models only; this model is a file" };
  if (cpu === null) return { variant: null, reason: "not measured on this kind of CPU (only x86-64 Linux so far)" };
  const found = measurements.find(
    (m) =>
      m.model === name &&
      m.minCosine >= fidelityBar &&
      m.has.every((flag) => cpu.flags.has(flag)) &&
      !m.lacks.some((flag) => cpu.flags.has(flag)),
  );
  if (found === undefined)
    return { variant: null, reason: `not measured for ${name} on a CPU with this one's instruction sets` };
  const { variant, minCosine, cpuClass, measured, source } = found;
  return { variant, model: `${name}:${variant}`, minCosine, cpuClass, measured, source };
}
