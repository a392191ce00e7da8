import { mkdir, mkdtemp, readFile, rename, rm, truncate, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { float16BitsToFloat32Bits, float32BitsToFloat16Bits, float32ToFloat16 } from "../../../lib/vectors/float16.js";
import { convertCheckpoint, type ConvertOptions } from "../../../lib/hub/convert/index.js";
import { GgmlType } from "../../../lib/gguf/format.js";
import { readGgufHeader, type GgufHeader } from "../../../lib/gguf/reader.js";
import { bertTensorShapes, safetensorsFile, type CheckpointTensor } from "../../bert-checkpoint.js";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "ctxembed-convert-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let folderCounter = 0;
async function freshFolder(): Promise<string> {
  const folder = join(root, `case-${++folderCounter}`);
  await mkdir(folder);
  return folder;
}

// ---- a tiny random BERT checkpoint ----------------------------------------------------------

const HIDDEN = 8;
const LAYERS = 2;
const FEED_FORWARD = 16;
const POSITIONS = 16;
const VOCAB = ["[PAD]", "[unused0]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "##s", "the", ",", "."];

/** Deterministic pseudo-random float32 values in [-1, 1). */
function randomFloats(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  });
}

const bytes = (array: ArrayBufferView) => new Uint8Array(array.buffer, array.byteOffset, array.byteLength);

/** Every tensor of a Hugging Face BertModel with the sizes above, as float32. */
function bertTensors(): CheckpointTensor[] {
  const shapes = bertTensorShapes({
    vocabulary: VOCAB.length,
    hidden: HIDDEN,
    layers: LAYERS,
    feedForward: FEED_FORWARD,
    positions: POSITIONS,
  });
  return shapes.map(([name, shape], index) => ({
    name,
    dtype: "F32",
    shape,
    data: bytes(
      randomFloats(
        shape.reduce((a, b) => a * b, 1),
        index + 1,
      ),
    ),
  }));
}

/** Tensors the converter must skip, as found in real checkpoints. */
function unusedTensors(): CheckpointTensor[] {
  return [
    {
      name: "embeddings.position_ids",
      dtype: "I64",
      shape: [1, POSITIONS],
      data: bytes(BigInt64Array.from({ length: POSITIONS }, (_, i) => BigInt(i))),
    },
    {
      name: "pooler.dense.weight",
      dtype: "F32",
      shape: [HIDDEN, HIDDEN],
      data: bytes(randomFloats(HIDDEN * HIDDEN, 99)),
    },
    { name: "pooler.dense.bias", dtype: "F32", shape: [HIDDEN], data: bytes(randomFloats(HIDDEN, 98)) },
  ];
}

const CONFIG = {
  _name_or_path: "someorg/tiny-bert-test",
  architectures: ["BertModel"],
  model_type: "bert",
  hidden_size: HIDDEN,
  num_hidden_layers: LAYERS,
  num_attention_heads: 2,
  intermediate_size: FEED_FORWARD,
  max_position_embeddings: POSITIONS,
  type_vocab_size: 2,
  vocab_size: VOCAB.length,
  layer_norm_eps: 1e-12,
  pad_token_id: 0,
  hidden_act: "gelu",
};

const SPECIAL_TOKENS = {
  unk_token: "[UNK]",
  sep_token: "[SEP]",
  pad_token: "[PAD]",
  cls_token: "[CLS]",
  mask_token: "[MASK]",
};

const MODEL_CARD = `---
language: en
license: mit
tags:
- sentence-transformers
---

# Tiny BERT
`;

/** The files of a Hugging Face BERT wordpiece tokenizer (tokenizer.json). */
function tokenizerJson() {
  const special = (id: number) => ({
    id,
    content: VOCAB[id],
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  return {
    version: "1.0",
    added_tokens: [0, 2, 3, 4, 5].map(special),
    normalizer: {
      type: "BertNormalizer",
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [
        { SpecialToken: { id: "[CLS]", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "[SEP]", type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: "[CLS]", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "[SEP]", type_id: 0 } },
        { Sequence: { id: "B", type_id: 1 } },
        { SpecialToken: { id: "[SEP]", type_id: 1 } },
      ],
      special_tokens: {
        "[CLS]": { id: "[CLS]", ids: [3], tokens: ["[CLS]"] },
        "[SEP]": { id: "[SEP]", ids: [4], tokens: ["[SEP]"] },
      },
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: "[UNK]",
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(VOCAB.map((t, i) => [t, i])),
    },
  };
}

interface CheckpointOptions {
  tensors?: CheckpointTensor[];
  config?: Record<string, unknown>;
  withTokenizerJson?: boolean;
  modules?: unknown[];
}

async function writeCheckpoint(options: CheckpointOptions = {}): Promise<string> {
  const folder = await freshFolder();
  const json = (name: string, value: unknown) => writeFile(join(folder, name), JSON.stringify(value, null, 2));
  await json("config.json", options.config ?? CONFIG);
  await writeFile(
    join(folder, "model.safetensors"),
    safetensorsFile(options.tensors ?? [...unusedTensors(), ...bertTensors()]),
  );
  await writeFile(join(folder, "vocab.txt"), `${VOCAB.join("\n")}\n`);
  await json("tokenizer_config.json", {
    do_lower_case: true,
    tokenize_chinese_chars: true,
    strip_accents: null,
    ...SPECIAL_TOKENS,
    model_max_length: 512,
  });
  await json("special_tokens_map.json", SPECIAL_TOKENS);
  if (options.withTokenizerJson === true) await json("tokenizer.json", tokenizerJson());
  await json(
    "modules.json",
    options.modules ?? [
      { idx: 0, name: "0", path: "", type: "sentence_transformers.models.Transformer" },
      { idx: 1, name: "1", path: "1_Pooling", type: "sentence_transformers.models.Pooling" },
      { idx: 2, name: "2", path: "2_Normalize", type: "sentence_transformers.models.Normalize" },
    ],
  );
  await mkdir(join(folder, "1_Pooling"));
  await json("1_Pooling/config.json", {
    word_embedding_dimension: HIDDEN,
    pooling_mode_cls_token: true,
    pooling_mode_mean_tokens: false,
    pooling_mode_max_tokens: false,
  });
  await json("sentence_bert_config.json", { max_seq_length: 12, do_lower_case: false });
  await writeFile(join(folder, "README.md"), MODEL_CARD);
  return folder;
}

async function convert(folder: string, options: ConvertOptions = {}) {
  const outFile = join(folder, "out", `model-${options.type ?? "f32"}.gguf`);
  const report = await convertCheckpoint(folder, outFile, options);
  return { report, header: await readGgufHeader(outFile), file: await readFile(outFile) };
}

function tensorData(header: GgufHeader, file: Buffer, name: string): Uint8Array {
  const info = header.tensors.find((tensor) => tensor.name === name);
  if (info === undefined) throw new Error(`no tensor ${name}`);
  const start = header.dataOffset + info.offset;
  return new Uint8Array(file.subarray(start, start + info.byteLength));
}

function sourceData(tensors: CheckpointTensor[], name: string): Uint8Array {
  const tensor = tensors.find((candidate) => candidate.name === name);
  if (tensor === undefined) throw new Error(`no source tensor ${name}`);
  return tensor.data;
}

// ---- tests ---------------------------------------------------------------------------------

describe("convertCheckpoint", () => {
  it("converts a BERT checkpoint to f32 with llama.cpp's names, shapes and metadata", async () => {
    const folder = await writeCheckpoint();
    const progress: string[] = [];
    const { report, header, file } = await convert(folder, { type: "f32", onProgress: (line) => progress.push(line) });

    expect(report).toEqual({
      outFile: join(folder, "out", "model-f32.gguf"),
      architecture: "bert",
      tensorCount: 5 + 16 * LAYERS,
      type: "f32",
      pooling: "cls",
      maxSequenceLength: 12,
    });
    expect(progress).toHaveLength(4);
    expect(progress[0]).toBe(`reading checkpoint ${folder}…`);
    expect(progress[1]).toContain("writing tokenizer.ggml.pre = default");
    expect(progress[2]).toBe("writing 37 tensors (f32)…");
    expect(progress[3]).toMatch(new RegExp(`^wrote ${join(folder, "out", "model-f32.gguf")} \\(\\d+\\.\\d MB\\)$`));

    // In checkpoint-name order, as llama.cpp's converter writes them; pooler and position_ids dropped.
    expect(header.tensors.slice(0, 7).map((t) => t.name)).toEqual([
      "token_embd_norm.bias",
      "token_embd_norm.weight",
      "position_embd.weight",
      "token_types.weight",
      "token_embd.weight",
      "blk.0.attn_output_norm.bias",
      "blk.0.attn_output_norm.weight",
    ]);
    const shapes = Object.fromEntries(header.tensors.map((t) => [t.name, t.shape]));
    expect(shapes["token_embd.weight"]).toEqual([HIDDEN, VOCAB.length]);
    expect(shapes["position_embd.weight"]).toEqual([HIDDEN, POSITIONS]);
    expect(shapes["token_types.weight"]).toEqual([HIDDEN, 2]);
    expect(shapes["blk.1.ffn_up.weight"]).toEqual([HIDDEN, FEED_FORWARD]);
    expect(shapes["blk.1.ffn_up.bias"]).toEqual([FEED_FORWARD]);
    expect(shapes["blk.1.ffn_down.weight"]).toEqual([FEED_FORWARD, HIDDEN]);
    expect(shapes["blk.0.attn_q.weight"]).toEqual([HIDDEN, HIDDEN]);
    expect(header.tensors.every((t) => t.type === GgmlType.F32)).toBe(true);
    expect(Object.keys(shapes).filter((name) => name.startsWith("blk.1."))).toHaveLength(16);

    const source = bertTensors();
    expect(tensorData(header, file, "token_embd.weight")).toEqual(
      sourceData(source, "embeddings.word_embeddings.weight"),
    );
    expect(tensorData(header, file, "blk.1.ffn_down.weight")).toEqual(
      sourceData(source, "encoder.layer.1.output.dense.weight"),
    );

    const m = header.metadata;
    expect([...m.keys()].filter((key) => key.startsWith("general."))).toEqual([
      "general.architecture",
      "general.name",
      "general.license",
      "general.file_type",
      "general.quantization_version",
    ]);
    expect(m.get("general.architecture")).toBe("bert");
    expect(m.get("general.name")).toBe(basename(folder));
    expect(m.get("general.license")).toBe("mit");
    expect(m.get("bert.block_count")).toBe(LAYERS);
    expect(m.get("bert.context_length")).toBe(POSITIONS);
    expect(m.get("bert.embedding_length")).toBe(HIDDEN);
    expect(m.get("bert.feed_forward_length")).toBe(FEED_FORWARD);
    expect(m.get("bert.attention.head_count")).toBe(2);
    expect(m.get("bert.attention.layer_norm_epsilon")).toBe(Math.fround(1e-12));
    expect(m.get("bert.attention.causal")).toBe(false);
    expect(m.get("bert.pooling_type")).toBe(2);
    expect(m.get("general.file_type")).toBe(0);
    expect(m.get("general.quantization_version")).toBe(2);
    expect(m.get("tokenizer.ggml.model")).toBe("bert");
    expect(m.get("tokenizer.ggml.pre")).toBe("default");
    expect(m.get("tokenizer.ggml.token_type_count")).toBe(2);
    expect(m.get("tokenizer.ggml.tokens")).toEqual([
      "[PAD]",
      "\u2581[unused0]",
      "[UNK]",
      "[CLS]",
      "[SEP]",
      "[MASK]",
      "\u2581hello",
      "\u2581world",
      "s",
      "\u2581the",
      "\u2581,",
      "\u2581.",
    ]);
    expect(m.get("tokenizer.ggml.token_type")).toEqual([3, 1, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1]);
    // Without tokenizer.json, SpecialVocab only finds config.json's pad_token_id.
    expect([...m.keys()].filter((key) => /_token(_id)?$/.test(key))).toEqual(["tokenizer.ggml.padding_token_id"]);
    expect(m.get("ctxembed.max_sequence_length")).toBe(12);
    expect(m.get("ctxembed.normalize")).toBe(true);
  });

  it("takes special tokens and flags from tokenizer.json as llama.cpp's SpecialVocab does", async () => {
    const { header } = await convert(await writeCheckpoint({ withTokenizerJson: true }));
    const special = [...header.metadata].filter(
      ([key]) =>
        key.startsWith("tokenizer.ggml.") && !["tokenizer.ggml.tokens", "tokenizer.ggml.token_type"].includes(key),
    );
    expect(special).toEqual([
      ["tokenizer.ggml.token_type_count", 2],
      ["tokenizer.ggml.model", "bert"],
      ["tokenizer.ggml.pre", "default"],
      ["tokenizer.ggml.bos_token_id", 3],
      ["tokenizer.ggml.eos_token_id", 4],
      ["tokenizer.ggml.unknown_token_id", 2],
      ["tokenizer.ggml.seperator_token_id", 4],
      ["tokenizer.ggml.padding_token_id", 0],
      ["tokenizer.ggml.mask_token_id", 5],
      ["tokenizer.ggml.add_bos_token", true],
      ["tokenizer.ggml.add_eos_token", true],
      ["tokenizer.ggml.add_sep_token", false],
      ["tokenizer.ggml.normalizer.lowercase", true],
    ]);
  });

  it("converts 2-D weights to f16 and keeps vectors, positions and token types f32", async () => {
    const { report, header, file } = await convert(await writeCheckpoint(), { type: "f16" });
    expect(report.type).toBe("f16");
    expect(header.metadata.get("general.file_type")).toBe(1);
    const types = Object.fromEntries(header.tensors.map((t) => [t.name, t.type]));
    expect(types["token_embd.weight"]).toBe(GgmlType.F16);
    expect(types["blk.0.attn_q.weight"]).toBe(GgmlType.F16);
    expect(types["blk.1.ffn_down.weight"]).toBe(GgmlType.F16);
    expect(types["position_embd.weight"]).toBe(GgmlType.F32);
    expect(types["token_types.weight"]).toBe(GgmlType.F32);
    expect(types["blk.0.attn_q.bias"]).toBe(GgmlType.F32);
    expect(types["blk.0.attn_output_norm.weight"]).toBe(GgmlType.F32);
    expect(header.tensors.filter((t) => t.type === GgmlType.F16)).toHaveLength(1 + 6 * LAYERS);

    const source = bertTensors();
    const embeddings = sourceData(source, "embeddings.word_embeddings.weight");
    const expected = new Uint16Array(embeddings.length / 4);
    float32ToFloat16(new Uint32Array(embeddings.buffer, embeddings.byteOffset, expected.length), expected);
    expect(tensorData(header, file, "token_embd.weight")).toEqual(bytes(expected));
    expect(tensorData(header, file, "position_embd.weight")).toEqual(
      sourceData(source, "embeddings.position_embeddings.weight"),
    );
  });

  it("widens F16 and BF16 checkpoints exactly, and keeps F16 weights as they are", async () => {
    const asF16 = (t: CheckpointTensor): CheckpointTensor => {
      const halves = new Uint16Array(t.data.length / 4);
      float32ToFloat16(new Uint32Array(t.data.buffer, t.data.byteOffset, halves.length), halves);
      return { ...t, dtype: "F16", data: bytes(halves) };
    };
    const asBf16 = (t: CheckpointTensor): CheckpointTensor => {
      const words = new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length / 4);
      return { ...t, dtype: "BF16", data: bytes(Uint16Array.from(words, (w) => w >>> 16)) };
    };
    const f16Tensors = bertTensors().map(asF16);
    const f16Folder = await writeCheckpoint({ tensors: f16Tensors });
    const f32 = await convert(f16Folder, { type: "f32" });
    const halves = sourceData(f16Tensors, "embeddings.word_embeddings.weight");
    const widened = Uint32Array.from(
      new Uint16Array(halves.buffer, halves.byteOffset, halves.length / 2),
      float16BitsToFloat32Bits,
    );
    expect(tensorData(f32.header, f32.file, "token_embd.weight")).toEqual(bytes(widened));
    const f16 = await convert(f16Folder, { type: "f16" });
    expect(tensorData(f16.header, f16.file, "token_embd.weight")).toEqual(halves);

    const bf16Tensors = bertTensors().map(asBf16);
    const fromBf16 = await convert(await writeCheckpoint({ tensors: bf16Tensors }), { type: "f32" });
    const brains = sourceData(bf16Tensors, "encoder.layer.0.attention.self.key.weight");
    const brainsWidened = Uint32Array.from(
      new Uint16Array(brains.buffer, brains.byteOffset, brains.length / 2),
      (b) => b << 16,
    );
    expect(tensorData(fromBf16.header, fromBf16.file, "blk.0.attn_k.weight")).toEqual(bytes(brainsWidened));
  });

  it("accepts bert.-prefixed names and TensorFlow-era gamma/beta norms", async () => {
    const renamed = bertTensors().map((t) => ({
      ...t,
      name: `bert.${t.name.replace(/LayerNorm\.weight$/, "LayerNorm.gamma").replace(/LayerNorm\.bias$/, "LayerNorm.beta")}`,
    }));
    const { header } = await convert(await writeCheckpoint({ tensors: renamed }));
    expect(header.tensors.map((t) => t.name).sort()).toEqual(
      (await convert(await writeCheckpoint())).header.tensors.map((t) => t.name).sort(),
    );
  });

  it("uses max_position_embeddings and no pooling for a plain Hugging Face checkpoint", async () => {
    const folder = await writeCheckpoint();
    for (const name of ["modules.json", "sentence_bert_config.json", "1_Pooling/config.json"])
      await unlink(join(folder, name));
    const { report, header } = await convert(folder);
    expect(report.pooling).toBe("none");
    expect(report.maxSequenceLength).toBe(POSITIONS);
    expect(header.metadata.has("bert.pooling_type")).toBe(false);
    expect(header.metadata.get("ctxembed.normalize")).toBe(false);
  });
});

describe("general.name", () => {
  it("is the checkpoint folder's name, or its parent's when the folder is named model or hf", async () => {
    const checkpoint = await writeCheckpoint();
    expect((await convert(checkpoint)).header.metadata.get("general.name")).toBe(basename(checkpoint));
    for (const generic of ["model", "hf"]) {
      const parent = join(await freshFolder(), "all-MiniLM-L6-v2");
      await mkdir(parent);
      await rename(await writeCheckpoint(), join(parent, generic));
      expect((await convert(join(parent, generic))).header.metadata.get("general.name")).toBe("all-MiniLM-L6-v2");
    }
  });

  it("is options.name when given", async () => {
    const { header } = await convert(await writeCheckpoint(), { name: "My Encoder" });
    expect(header.metadata.get("general.name")).toBe("My Encoder");
  });
});

describe("convertCheckpoint errors", () => {
  const failure = async (folder: string, options?: ConvertOptions) =>
    convertCheckpoint(folder, join(folder, "out.gguf"), options).then(
      () => {
        throw new Error("the conversion succeeded");
      },
      (error: Error) => error.message,
    );

  it("reports a corrupt safetensors header length", async () => {
    const folder = await writeCheckpoint();
    const path = join(folder, "model.safetensors");
    const file = await readFile(path);
    file.writeBigUInt64LE(BigInt(file.length));
    await writeFile(path, file);
    expect(await failure(folder)).toContain(
      `${path} is not a valid safetensors file: the header claims ${file.length} bytes`,
    );
  });

  it("reports a safetensors header that is not JSON", async () => {
    const folder = await writeCheckpoint();
    const path = join(folder, "model.safetensors");
    const file = await readFile(path);
    file.write("#", 8);
    await writeFile(path, file);
    expect(await failure(folder)).toContain(`${path} is not a valid safetensors file: its header is not valid JSON`);
  });

  it("reports truncated safetensors data", async () => {
    const folder = await writeCheckpoint();
    const path = join(folder, "model.safetensors");
    await truncate(path, (await readFile(path)).length - 10);
    expect(await failure(folder)).toMatch(
      new RegExp(`${path} is not a valid safetensors file: tensor "[^"]+" has data at \\d+\\.\\.\\d+, outside`),
    );
  });

  it("refuses PyTorch pickles", async () => {
    const folder = await writeCheckpoint();
    await unlink(join(folder, "model.safetensors"));
    await writeFile(join(folder, "pytorch_model.bin"), "not really");
    expect(await failure(folder)).toContain(
      "unsupported weights: only single-file safetensors checkpoints (model.safetensors) are supported (found pytorch_model.bin)",
    );
  });

  it("names a missing config.json", async () => {
    const folder = await writeCheckpoint();
    await unlink(join(folder, "config.json"));
    expect(await failure(folder)).toContain(`missing ${join(folder, "config.json")}`);
  });

  it("names a missing config field", async () => {
    const { hidden_size: _, ...config } = CONFIG;
    expect(await failure(await writeCheckpoint({ config }))).toMatch(/config\.json: missing "hidden_size"/);
  });

  it("refuses other architectures", async () => {
    const folder = await writeCheckpoint({
      config: { ...CONFIG, architectures: ["RobertaModel"], model_type: "roberta" },
    });
    expect(await failure(folder)).toContain("config.json: unsupported architecture RobertaModel");
  });

  it("names missing, unexpected and misshapen tensors", async () => {
    const tensors = bertTensors();
    const missing = await writeCheckpoint({
      tensors: tensors.filter((t) => t.name !== "encoder.layer.1.output.LayerNorm.bias"),
    });
    expect(await failure(missing)).toContain("missing tensors encoder.layer.1.output.LayerNorm.bias");

    const extra = {
      name: "encoder.layer.0.attention.self.rotary.weight",
      dtype: "F32" as const,
      shape: [HIDDEN],
      data: bytes(randomFloats(HIDDEN, 7)),
    };
    expect(await failure(await writeCheckpoint({ tensors: [...tensors, extra] }))).toContain(
      'unexpected tensor "encoder.layer.0.attention.self.rotary.weight"',
    );

    const wrongShape = tensors.map((t) =>
      t.name === "encoder.layer.0.intermediate.dense.weight" ? { ...t, shape: [HIDDEN, FEED_FORWARD] } : t,
    );
    expect(await failure(await writeCheckpoint({ tensors: wrongShape }))).toContain(
      'tensor "encoder.layer.0.intermediate.dense.weight" has shape [8, 16], but config.json implies [16, 8]',
    );
  });

  it("refuses weights of other dtypes", async () => {
    const tensors = bertTensors().map((t) =>
      t.name === "embeddings.LayerNorm.bias" ? { ...t, dtype: "I32" as const } : t,
    );
    expect(await failure(await writeCheckpoint({ tensors }))).toContain(
      'tensor "embeddings.LayerNorm.bias" has dtype I32; only F32, F16, BF16 weights can be converted',
    );
  });

  it("needs a vocabulary", async () => {
    const folder = await writeCheckpoint();
    await unlink(join(folder, "vocab.txt"));
    expect(await failure(folder)).toContain("no tokenizer found: expected vocab.txt or tokenizer.json");
  });

  it("refuses sentence-transformers modules it cannot reproduce", async () => {
    const folder = await writeCheckpoint({
      modules: [
        { idx: 0, name: "0", path: "", type: "sentence_transformers.models.Transformer" },
        { idx: 1, name: "1", path: "2_Dense", type: "sentence_transformers.models.Dense" },
      ],
    });
    expect(await failure(folder)).toMatch(/modules\.json: module .*Dense.* is not supported/);
  });
});

describe("float16 conversion", () => {
  // [float32 bits, float16 bits] as numpy's astype(np.float16) gives them.
  const cases: [number, number][] = [
    [0x00000000, 0x0000],
    [0x80000000, 0x8000],
    [0x3f800000, 0x3c00], // 1
    [0x477fe000, 0x7bff], // 65504, the largest half
    [0x477fefff, 0x7bff], // just below the rounding midpoint to infinity
    [0x477ff000, 0x7c00], // the midpoint rounds to even: infinity
    [0x47800000, 0x7c00], // overflow
    [0x7f800000, 0x7c00], // infinity
    [0xff800000, 0xfc00],
    [0x7fc00000, 0x7e00], // quiet NaN
    [0xffc00001, 0xfe00],
    [0x7fa00000, 0x7d00], // NaN payload kept in the top bits
    [0x7f800001, 0x7c01], // a NaN whose payload is lost stays NaN
    [0x3f801000, 0x3c00], // tie, rounds down to even
    [0x3f803000, 0x3c02], // tie, rounds up to even
    [0x38800000, 0x0400], // the smallest normal half
    [0x387fe000, 0x0400], // rounds up into the normal range
    [0x38000000, 0x0200], // subnormal
    [0x37ffe000, 0x0200],
    [0x33800000, 0x0001], // the smallest subnormal
    [0x33000001, 0x0001], // just above half of it
    [0x33000000, 0x0000], // exactly half of it: ties to the even zero
    [0x2f800000, 0x0000], // underflow
  ];

  it.each(cases.map(([input, output]) => [input.toString(16), output.toString(16)]))(
    "rounds float32 0x%s to 0x%s like numpy",
    (input, output) => {
      expect(float32BitsToFloat16Bits(parseInt(input, 16)).toString(16)).toBe(output);
    },
  );

  it("widens every float16 exactly, so narrowing gives it back", () => {
    const changed = Array.from({ length: 0x10000 }, (_, half) => half).filter(
      (half) => float32BitsToFloat16Bits(float16BitsToFloat32Bits(half)) !== half,
    );
    expect(changed).toEqual([]);
    const view = new DataView(new ArrayBuffer(4));
    view.setUint32(0, float16BitsToFloat32Bits(0x0001));
    expect(view.getFloat32(0)).toBe(2 ** -24);
    view.setUint32(0, float16BitsToFloat32Bits(0x3555));
    expect(view.getFloat32(0)).toBe(0.333251953125);
  });
});
