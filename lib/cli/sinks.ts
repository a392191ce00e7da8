// Where `embed` writes its vectors: JSON lines (any precision), or .npy files for a whole corpus.
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import type { Writable } from "node:stream";
import type { Embedding } from "../models/embedding-model.js";
import { NpyWriter, type NpyDtype } from "../output/npy.js";
import { quantizedToJson, type Precision, type QuantizedVector } from "../output/quantize.js";

export interface VectorSink {
  /** results of one chunk, with the 0-based input line of each */
  write(results: Embedding[], indices: number[]): Promise<void>;
  close(): Promise<void>;
}

export type RenderRecord = (result: Embedding) => string;

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, "drain");
}

/** One JSON object per input: {"index", …render(result), "truncated"?}. */
export function jsonLinesSink(output: string | undefined, render: RenderRecord): VectorSink {
  const out = output ? createWriteStream(output) : process.stdout;
  return {
    async write(results, indices) {
      let text = "";
      results.forEach((result, k) => {
        text += `{"index":${indices[k]!},${render(result)}${result.truncated ? ',"truncated":true' : ""}}\n`;
      });
      await write(out, text);
    },
    async close() {
      if (out === process.stdout) return;
      out.end();
      await once(out, "finish");
    },
  };
}

export function embeddingField(result: Embedding): string {
  return `"embedding":${quantizedToJson(result.quantized ?? { precision: "float32", values: result.embedding })}`;
}

const npyDtypes: Record<Precision, NpyDtype> = { float32: "<f4", float16: "<f2", int8: "|i1", binary: "|u1" };

function npyRow(quantized: QuantizedVector) {
  return quantized.precision === "float32" || quantized.precision === "int8" ? quantized.values : quantized.bits;
}

/**
 * Rows of one .npy file in input order; int8 scales go to `<name>.scales.npy` beside it. The
 * files are opened on the first chunk, when the width is known.
 */
export function npySink(output: string, precision: Precision): VectorSink {
  let vectors: NpyWriter | undefined;
  let scales: NpyWriter | undefined;
  return {
    async write(results) {
      for (const result of results) {
        const quantized = result.quantized ?? { precision: "float32" as const, values: result.embedding };
        const row = npyRow(quantized);
        vectors ??= await NpyWriter.open(output, { dtype: npyDtypes[precision], width: row.length });
        await vectors.append(row);
        if (quantized.precision === "int8") {
          scales ??= await NpyWriter.open(output.replace(/(\.npy)?$/, ".scales.npy"), { dtype: "<f4", width: 1 });
          await scales.append(Float32Array.of(quantized.scale));
        }
      }
    },
    async close() {
      await vectors?.close();
      await scales?.close();
    },
  };
}
