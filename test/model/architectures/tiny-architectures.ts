// Tiny random-weight GGUFs of several llama.cpp architectures, written with the project's own
// GGUF writer, so that one test can check every architecture against llama-embedding without
// downloading a model. Each entry of ARCHITECTURES lists the hyperparameter keys and tensors its
// llama.cpp loader (native/llama.cpp/src/models/<arch>.cpp) reads; shapes are in ggml order
// (ne[0] first), exactly as the loader's create_tensor calls spell them.
import { stat } from "node:fs/promises";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GgmlType, GgufValueType, LlamaFileType } from "../../../lib/gguf/format.js";
import { ggufValue, writeGgufFile, type GgufTypedValue } from "../../../lib/gguf/writer.js";
import { TokenType } from "../../../lib/hub/convert/vocab.js";
import { seededRandom } from "../../../lib/util/random.js";
import { float32ToFloat16 } from "../../../lib/vectors/float16.js";

const HIDDEN = 32;
const LAYERS = 2;
const HEADS = 2;
const HEAD_DIM = HIDDEN / HEADS;
const FEED_FORWARD = 64;
// llama-embedding asserts on decoders whose training context is below its default batch of 512.
const CONTEXT = 512;
const SEED = 20261203;

type Pooling = "mean" | "cls" | "last";
const POOLING_TYPE_IDS: Record<Pooling, number> = { mean: 1, cls: 2, last: 3 };

/** Words both vocabularies hold whole, so that test sentences tokenize into real words, not just pieces. */
const WORDS = (
  "the a an of to in on and is was river bank money deposit water flows past old stone bridge " +
  "she sat by he opened account at we walked along quiet evening light city streets were busy"
).split(" ");
const LETTERS = "abcdefghijklmnopqrstuvwxyz.,!?'".split("");

interface Vocabulary {
  metadata: [string, GgufTypedValue][];
  size: number;
}

/**
 * A WordPiece vocabulary as llama.cpp's converter writes one: special tokens CONTROL, word starts
 * in the phantom-space form ("\u2581word"), continuation pieces bare. Single letters in both
 * forms make every lower-case word tokenizable.
 */
function wordPieceVocabulary(): Vocabulary {
  const special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
  const pieces = [...new Set([...WORDS, ...LETTERS])];
  const tokens = [...special, ...pieces.map((piece) => `\u2581${piece}`), ...LETTERS];
  const types = tokens.map((_, id) => (id < special.length ? TokenType.CONTROL : TokenType.NORMAL));
  return {
    size: tokens.length,
    metadata: [
      ["tokenizer.ggml.token_type_count", ggufValue.uint32(2)],
      ["tokenizer.ggml.model", ggufValue.string("bert")],
      ["tokenizer.ggml.pre", ggufValue.string("default")],
      ["tokenizer.ggml.tokens", ggufValue.array(GgufValueType.STRING, tokens)],
      ["tokenizer.ggml.token_type", ggufValue.array(GgufValueType.INT32, types)],
      ["tokenizer.ggml.padding_token_id", ggufValue.uint32(0)],
      ["tokenizer.ggml.unknown_token_id", ggufValue.uint32(1)],
      ["tokenizer.ggml.cls_token_id", ggufValue.uint32(2)],
      ["tokenizer.ggml.seperator_token_id", ggufValue.uint32(3)],
      ["tokenizer.ggml.mask_token_id", ggufValue.uint32(4)],
    ],
  };
}

/**
 * A SentencePiece ("llama") vocabulary: <unk>, <s>, </s>, the 256 byte-fallback tokens, then
 * words and letters scored so that whole words win. Decoders get BOS and EOS, so that last-token
 * pooling reads the end-of-sequence token as Qwen3-Embedding's pipeline does.
 */
function sentencePieceVocabulary(): Vocabulary {
  const special = ["<unk>", "<s>", "</s>"];
  const bytes = Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
  const pieces = [...new Set([...WORDS.map((word) => `\u2581${word}`), "\u2581", ...LETTERS])];
  const tokens = [...special, ...bytes, ...pieces];
  const types = [
    TokenType.UNKNOWN,
    TokenType.CONTROL,
    TokenType.CONTROL,
    ...bytes.map(() => TokenType.BYTE),
    ...pieces.map(() => TokenType.NORMAL),
  ];
  const scores = [...special.map(() => 0), ...bytes.map(() => 0), ...pieces.map((piece) => -1 / piece.length)];
  return {
    size: tokens.length,
    metadata: [
      ["tokenizer.ggml.model", ggufValue.string("llama")],
      ["tokenizer.ggml.pre", ggufValue.string("default")],
      ["tokenizer.ggml.tokens", ggufValue.array(GgufValueType.STRING, tokens)],
      ["tokenizer.ggml.scores", ggufValue.array(GgufValueType.FLOAT32, scores)],
      ["tokenizer.ggml.token_type", ggufValue.array(GgufValueType.INT32, types)],
      ["tokenizer.ggml.unknown_token_id", ggufValue.uint32(0)],
      ["tokenizer.ggml.bos_token_id", ggufValue.uint32(1)],
      ["tokenizer.ggml.eos_token_id", ggufValue.uint32(2)],
      ["tokenizer.ggml.add_bos_token", ggufValue.bool(true)],
      ["tokenizer.ggml.add_eos_token", ggufValue.bool(true)],
    ],
  };
}

type TensorList = [name: string, shape: number[]][];

/**
 * BERT-style encoder layers; nomic-bert fuses Q, K and V and adds a gated feed-forward.
 * jina-bert-v3 (XLM-RoBERTa) fuses them too but keeps BERT's biases on the fused projection and
 * the attention output, hence fusedBiases.
 */
function encoderLayers(fusedAttention: boolean, gatedFeedForward: boolean, fusedBiases = false): TensorList {
  const h = HIDDEN;
  const ff = FEED_FORWARD;
  const tensors: TensorList = [];
  for (let i = 0; i < LAYERS; i++) {
    const blk = `blk.${i}`;
    if (fusedAttention) {
      tensors.push([`${blk}.attn_qkv.weight`, [h, 3 * h]]);
      if (fusedBiases) tensors.push([`${blk}.attn_qkv.bias`, [3 * h]]);
    } else {
      for (const part of ["q", "k", "v"])
        tensors.push([`${blk}.attn_${part}.weight`, [h, h]], [`${blk}.attn_${part}.bias`, [h]]);
    }
    tensors.push([`${blk}.attn_output.weight`, [h, h]]);
    if (!fusedAttention || fusedBiases) tensors.push([`${blk}.attn_output.bias`, [h]]);
    tensors.push([`${blk}.attn_output_norm.weight`, [h]], [`${blk}.attn_output_norm.bias`, [h]]);
    tensors.push([`${blk}.ffn_up.weight`, [h, ff]]);
    if (gatedFeedForward) tensors.push([`${blk}.ffn_gate.weight`, [h, ff]]);
    else tensors.push([`${blk}.ffn_up.bias`, [ff]]);
    tensors.push([`${blk}.ffn_down.weight`, [ff, h]]);
    if (!gatedFeedForward) tensors.push([`${blk}.ffn_down.bias`, [h]]);
    tensors.push([`${blk}.layer_output_norm.weight`, [h]], [`${blk}.layer_output_norm.bias`, [h]]);
  }
  return tensors;
}

interface DecoderVariant {
  /** Qwen2: biases on the Q, K and V projections */
  qkvBias?: boolean;
  /** Qwen3, Gemma 3: RMSNorm on each head's queries and keys */
  headNorms?: boolean;
  /** Gemma 3: norms after attention and after the feed-forward too */
  postNorms?: boolean;
}

/** Llama-style pre-norm decoder layers: RMSNorm, gated feed-forward, grouped K/V heads. */
function decoderLayers({ qkvBias = false, headNorms = false, postNorms = false }: DecoderVariant = {}): TensorList {
  const h = HIDDEN;
  const kv = HEAD_DIM * KV_HEADS;
  const tensors: TensorList = [];
  for (let i = 0; i < LAYERS; i++) {
    const blk = `blk.${i}`;
    tensors.push(
      [`${blk}.attn_norm.weight`, [h]],
      [`${blk}.attn_q.weight`, [h, h]],
      [`${blk}.attn_k.weight`, [h, kv]],
      [`${blk}.attn_v.weight`, [h, kv]],
      [`${blk}.attn_output.weight`, [h, h]],
    );
    if (qkvBias) tensors.push([`${blk}.attn_q.bias`, [h]], [`${blk}.attn_k.bias`, [kv]], [`${blk}.attn_v.bias`, [kv]]);
    if (postNorms) tensors.push([`${blk}.post_attention_norm.weight`, [h]], [`${blk}.post_ffw_norm.weight`, [h]]);
    if (headNorms) tensors.push([`${blk}.attn_q_norm.weight`, [HEAD_DIM]], [`${blk}.attn_k_norm.weight`, [HEAD_DIM]]);
    tensors.push(
      [`${blk}.ffn_norm.weight`, [h]],
      [`${blk}.ffn_gate.weight`, [h, FEED_FORWARD]],
      [`${blk}.ffn_down.weight`, [FEED_FORWARD, h]],
      [`${blk}.ffn_up.weight`, [h, FEED_FORWARD]],
    );
  }
  return tensors;
}

const KV_HEADS = 1;
const EXPERTS = 4;

export interface TinyArchitecture {
  /** general.architecture, as llama-arch.cpp names it */
  name: string;
  causal: boolean;
  /** every pooling the architecture's graph supports that the test compares; the first is written as the model's own */
  poolings: Pooling[];
  /**
   * Layers (0 = embeddings) native/layer_capture.cpp finds in the graph: decoders name block
   * outputs "l_out-N", BERT-style encoders end them with a named LayerNorm bias; other graphs
   * name neither, and a request for their layers is refused.
   */
  capturedLayers: number[];
  /** true where no final norm follows the last block, so that layer L is the token vector itself */
  outputIsLastLayer: boolean;
  vocabulary: () => Vocabulary;
  hyperparameters: () => [string, GgufTypedValue][];
  tensors: (vocabularySize: number) => TensorList;
}

const encoderKeys =
  (arch: string, extra: [string, GgufTypedValue][] = []) =>
  (): [string, GgufTypedValue][] => [
    [`${arch}.block_count`, ggufValue.uint32(LAYERS)],
    [`${arch}.context_length`, ggufValue.uint32(CONTEXT)],
    [`${arch}.embedding_length`, ggufValue.uint32(HIDDEN)],
    [`${arch}.feed_forward_length`, ggufValue.uint32(FEED_FORWARD)],
    [`${arch}.attention.head_count`, ggufValue.uint32(HEADS)],
    [`${arch}.attention.layer_norm_epsilon`, ggufValue.float32(1e-12)],
    [`${arch}.attention.causal`, ggufValue.bool(false)],
    ...extra,
  ];

const decoderKeys = (arch: string) => (): [string, GgufTypedValue][] => [
  [`${arch}.block_count`, ggufValue.uint32(LAYERS)],
  [`${arch}.context_length`, ggufValue.uint32(CONTEXT)],
  [`${arch}.embedding_length`, ggufValue.uint32(HIDDEN)],
  [`${arch}.feed_forward_length`, ggufValue.uint32(FEED_FORWARD)],
  [`${arch}.attention.head_count`, ggufValue.uint32(HEADS)],
  [`${arch}.attention.head_count_kv`, ggufValue.uint32(KV_HEADS)],
  [`${arch}.attention.key_length`, ggufValue.uint32(HEAD_DIM)],
  [`${arch}.attention.value_length`, ggufValue.uint32(HEAD_DIM)],
  [`${arch}.rope.dimension_count`, ggufValue.uint32(HEAD_DIM)],
  [`${arch}.rope.freq_base`, ggufValue.float32(10000)],
  [`${arch}.attention.layer_norm_rms_epsilon`, ggufValue.float32(1e-6)],
];

/**
 * T5 blocks under "enc." or "dec.": relative position buckets, RMSNorm, gated feed-forward; the
 * decoder's blocks add cross-attention over the encoder's output.
 */
function t5Layers(stack: "enc" | "dec"): TensorList {
  const h = HIDDEN;
  const tensors: TensorList = [];
  for (let i = 0; i < LAYERS; i++) {
    const blk = `${stack}.blk.${i}`;
    tensors.push([`${blk}.attn_norm.weight`, [h]]);
    // only the first block holds the position-bucket biases; the others share them
    if (i === 0) tensors.push([`${blk}.attn_rel_b.weight`, [HEADS, T5_BUCKETS]]);
    tensors.push(
      [`${blk}.attn_q.weight`, [h, h]],
      [`${blk}.attn_k.weight`, [h, h]],
      [`${blk}.attn_v.weight`, [h, h]],
      [`${blk}.attn_o.weight`, [h, h]],
    );
    if (stack === "dec") {
      tensors.push([`${blk}.cross_attn_norm.weight`, [h]]);
      for (const part of ["q", "k", "v", "o"]) tensors.push([`${blk}.cross_attn_${part}.weight`, [h, h]]);
    }
    tensors.push(
      [`${blk}.ffn_norm.weight`, [h]],
      [`${blk}.ffn_gate.weight`, [h, FEED_FORWARD]],
      [`${blk}.ffn_up.weight`, [h, FEED_FORWARD]],
      [`${blk}.ffn_down.weight`, [FEED_FORWARD, h]],
    );
  }
  return tensors;
}

const T5_BUCKETS = 32;

/** T5's keys: RMSNorm, position buckets, and no attention.causal key (its converters write none). */
const t5Keys = (arch: string) => (): [string, GgufTypedValue][] => [
  ...encoderKeys(arch)().filter(([key]) => !key.endsWith(".layer_norm_epsilon") && !key.endsWith(".causal")),
  [`${arch}.attention.key_length`, ggufValue.uint32(HEAD_DIM)],
  [`${arch}.attention.value_length`, ggufValue.uint32(HEAD_DIM)],
  [`${arch}.attention.layer_norm_rms_epsilon`, ggufValue.float32(1e-6)],
  [`${arch}.attention.relative_buckets_count`, ggufValue.uint32(T5_BUCKETS)],
];

/** A decoder's tensors: token embeddings, its blocks, the final norm (no LM head: embeddings only). */
const decoderTensors =
  (variant?: DecoderVariant) =>
  (vocab: number): TensorList => [
    ["token_embd.weight", [HIDDEN, vocab]],
    ["output_norm.weight", [HIDDEN]],
    ...decoderLayers(variant),
  ];

/** A decoder read causally with last-token pooling (Qwen2/3-Embedding, gte-Qwen2, e5-mistral, bge-en-icl). */
const causalDecoder = (name: string, variant?: DecoderVariant): TinyArchitecture => ({
  name,
  causal: true,
  poolings: ["last", "mean"],
  capturedLayers: [1, 2],
  outputIsLastLayer: false,
  vocabulary: sentencePieceVocabulary,
  hyperparameters: decoderKeys(name),
  tensors: decoderTensors(variant),
});

/**
 * A BERT-style encoder with a WordPiece vocabulary whose graph names every block's output: the
 * token, token-type and normalised embeddings, then `blocks` (and `positions` where the
 * architecture keeps a position table rather than rotating).
 */
const bertEncoder = (
  name: string,
  blocks: TensorList,
  { keys = [], positions = false }: { keys?: [string, GgufTypedValue][]; positions?: boolean } = {},
): TinyArchitecture => ({
  name,
  causal: false,
  poolings: ["mean", "cls"],
  capturedLayers: [0, 1, 2],
  outputIsLastLayer: true,
  vocabulary: wordPieceVocabulary,
  hyperparameters: encoderKeys(name, keys),
  tensors: (vocab) => [
    ["token_embd.weight", [HIDDEN, vocab]],
    ["token_types.weight", [HIDDEN, 2]],
    ...(positions ? ([["position_embd.weight", [HIDDEN, CONTEXT]]] as TensorList) : []),
    ["token_embd_norm.weight", [HIDDEN]],
    ["token_embd_norm.bias", [HIDDEN]],
    ...blocks,
  ],
});

export const ARCHITECTURES: readonly TinyArchitecture[] = [
  bertEncoder("bert", encoderLayers(false, false), { positions: true }),
  // nomic-embed-text: rotary positions instead of a position table
  bertEncoder("nomic-bert", encoderLayers(true, true), {
    keys: [["nomic-bert.rope.freq_base", ggufValue.float32(1000)]],
  }),
  // nomic-embed-text-v2-moe: every second block's feed-forward is a mixture of experts, so block
  // 1's dense feed-forward is replaced by its experts and their router
  bertEncoder(
    "nomic-bert-moe",
    [
      ...encoderLayers(true, false).filter(([name]) => !/^blk\.1\.ffn_(up|down)\./.test(name)),
      ["blk.1.ffn_up_exps.weight", [HIDDEN, FEED_FORWARD, EXPERTS]],
      ["blk.1.ffn_down_exps.weight", [FEED_FORWARD, HIDDEN, EXPERTS]],
      ["blk.1.ffn_gate_inp.weight", [HIDDEN, EXPERTS]],
    ],
    {
      keys: [
        ["nomic-bert-moe.rope.freq_base", ggufValue.float32(10000)],
        ["nomic-bert-moe.moe_every_n_layers", ggufValue.uint32(2)],
        ["nomic-bert-moe.expert_count", ggufValue.uint32(EXPERTS)],
        ["nomic-bert-moe.expert_used_count", ggufValue.uint32(2)],
      ],
    },
  ),
  causalDecoder("qwen2", { qkvBias: true }),
  causalDecoder("qwen3", { headNorms: true }),
  causalDecoder("llama"),
  // ALiBi attention biases instead of positions; separate Q/K/V with biases, a plain feed-forward
  bertEncoder("jina-bert-v2", encoderLayers(false, false)),
  // jina-embeddings-v3 without its LoRA adapters: XLM-RoBERTa with rotary positions (base 20000
  // as in its config) instead of a position table, fused QKV with biases, a GELU feed-forward.
  // llama.cpp refuses it without tokenizer.ggml.token_type_count, which the vocabulary writes.
  bertEncoder("jina-bert-v3", encoderLayers(true, false, true), {
    keys: [["jina-bert-v3.rope.freq_base", ggufValue.float32(20000)]],
  }),
  {
    name: "modern-bert",
    causal: false,
    poolings: ["mean", "cls"],
    // its graph names neither block outputs nor a LayerNorm bias (its norms have none)
    capturedLayers: [],
    outputIsLastLayer: false,
    vocabulary: wordPieceVocabulary,
    hyperparameters: encoderKeys("modern-bert", [["modern-bert.rope.freq_base", ggufValue.float32(160000)]]),
    tensors: (vocab) => {
      const h = HIDDEN;
      const tensors: TensorList = [
        ["token_embd.weight", [h, vocab]],
        ["token_embd_norm.weight", [h]],
        ["output_norm.weight", [h]],
      ];
      for (let i = 0; i < LAYERS; i++) {
        // ModernBERT's first block has no attention norm: the embedding norm precedes it
        if (i > 0) tensors.push([`blk.${i}.attn_norm.weight`, [h]]);
        tensors.push(
          [`blk.${i}.attn_qkv.weight`, [h, 3 * h]],
          [`blk.${i}.attn_output.weight`, [h, h]],
          // GeGLU: up and gate in one matrix
          [`blk.${i}.ffn_up.weight`, [h, 2 * FEED_FORWARD]],
          [`blk.${i}.ffn_down.weight`, [FEED_FORWARD, h]],
          [`blk.${i}.ffn_norm.weight`, [h]],
        );
      }
      return tensors;
    },
  },
  {
    name: "neo-bert",
    causal: false,
    poolings: ["cls", "mean"],
    // like modern-bert: no named block outputs, so layers are refused
    capturedLayers: [],
    outputIsLastLayer: false,
    vocabulary: wordPieceVocabulary,
    // NeoBERT: pre-RMSNorm blocks, rotary positions, fused QKV and SwiGLU
    hyperparameters: () => [
      ...encoderKeys("neo-bert")().filter(([key]) => !key.endsWith(".layer_norm_epsilon")),
      ["neo-bert.attention.layer_norm_rms_epsilon", ggufValue.float32(1e-6)],
      ["neo-bert.rope.freq_base", ggufValue.float32(10000)],
    ],
    tensors: (vocab) => {
      const h = HIDDEN;
      const tensors: TensorList = [
        ["token_embd.weight", [h, vocab]],
        ["enc.output_norm.weight", [h]],
      ];
      for (let i = 0; i < LAYERS; i++) {
        tensors.push(
          [`blk.${i}.attn_norm.weight`, [h]],
          [`blk.${i}.attn_qkv.weight`, [h, 3 * h]],
          [`blk.${i}.attn_output.weight`, [h, h]],
          [`blk.${i}.ffn_norm.weight`, [h]],
          [`blk.${i}.ffn_up.weight`, [h, 2 * FEED_FORWARD]],
          [`blk.${i}.ffn_down.weight`, [FEED_FORWARD, h]],
        );
      }
      return tensors;
    },
  },
  {
    name: "t5encoder",
    causal: false,
    poolings: ["mean", "cls"],
    // only block 1's "l_out-0" is found: the last block's output and the embeddings have no such
    // name in the T5 encoder graph, so layers 0 and 2 are refused
    capturedLayers: [1],
    outputIsLastLayer: false,
    vocabulary: sentencePieceVocabulary,
    // T5's encoder (sentence-t5, the T5 text encoders): relative position buckets, RMSNorm. Its
    // converter writes no attention.causal key.
    hyperparameters: t5Keys("t5encoder"),
    tensors: (vocab) => [
      ["token_embd.weight", [HIDDEN, vocab]],
      ["enc.output_norm.weight", [HIDDEN]],
      ...t5Layers("enc"),
    ],
  },
  {
    name: "eurobert",
    causal: false,
    poolings: ["mean", "cls"],
    // no named block outputs (its graph names kqv_out and ffn_out only)
    capturedLayers: [],
    outputIsLastLayer: false,
    vocabulary: sentencePieceVocabulary,
    // EuroBERT, jina-embeddings-v5: Llama blocks run bidirectionally, which its converter records
    hyperparameters: () => [...decoderKeys("eurobert")(), ["eurobert.attention.causal", ggufValue.bool(false)]],
    tensors: decoderTensors(),
  },
  {
    name: "llama-embed",
    causal: false,
    poolings: ["mean", "last"],
    // the Llama graph, so block outputs are named as in the causal decoders
    capturedLayers: [1, 2],
    outputIsLastLayer: false,
    vocabulary: sentencePieceVocabulary,
    // llama-embed-nemotron: Llama blocks without the causal mask and without an LM head. llama.cpp
    // masks causally unless the file says otherwise, and its converter writes attention.causal
    // false from the model's is_causal, so a file without the key stays causal (the default of
    // model-info.ts, which therefore does not list llama-embed among the bidirectional encoders).
    hyperparameters: () => [...decoderKeys("llama-embed")(), ["llama-embed.attention.causal", ggufValue.bool(false)]],
    tensors: decoderTensors(),
  },
  {
    name: "gemma-embedding",
    causal: false,
    poolings: ["mean", "last"],
    capturedLayers: [1, 2],
    outputIsLastLayer: false,
    vocabulary: sentencePieceVocabulary,
    // EmbeddingGemma: Gemma 3 blocks with bidirectional attention, sliding window on some layers
    hyperparameters: () => [
      ...decoderKeys("gemma-embedding")(),
      ["gemma-embedding.attention.sliding_window", ggufValue.uint32(8)],
      // EmbeddingGemma's default pattern (5 windowed layers, then a full one) leaves two layers no
      // full-attention layer, and llama.cpp then asserts on the unused mask: alternate instead.
      ["gemma-embedding.attention.sliding_window_pattern", ggufValue.uint32(2)],
    ],
    tensors: decoderTensors({ headNorms: true, postNorms: true }),
  },
];

/**
 * The full encoder-decoder T5 (t5, flan-t5): llama.cpp loads it, but llama-embedding refuses to
 * embed with it and so does ctxembed, so it stands outside ARCHITECTURES, for the refusal test.
 */
export const T5_ENCODER_DECODER: TinyArchitecture = {
  name: "t5",
  causal: false,
  poolings: ["mean"],
  capturedLayers: [],
  outputIsLastLayer: false,
  vocabulary: sentencePieceVocabulary,
  hyperparameters: () => [...t5Keys("t5")(), ["t5.decoder_start_token_id", ggufValue.uint32(0)]],
  tensors: (vocab) => [
    ["token_embd.weight", [HIDDEN, vocab]],
    ["enc.output_norm.weight", [HIDDEN]],
    ["dec.output_norm.weight", [HIDDEN]],
    ...t5Layers("enc"),
    ...t5Layers("dec"),
  ],
};

/** Norm scales near 1, everything else small, so that activations stay tame through both layers. */
function randomTensor(name: string, shape: number[], random: () => number): Float32Array {
  const base = /norm\.weight$/.test(name) ? 1 : 0;
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => base + (random() - 0.5) * 0.4);
}

/**
 * Path of the architecture's tiny GGUF in the OS temp folder, written on first use. With weights
 * "f16", matrices are stored in f16 and vectors (norms, biases) in f32, as llama.cpp's converter
 * writes an f16 file: ggml then multiplies them with tinyBLAS, which no ctxembed patch changes.
 */
export async function tinyArchitecturePath(
  architecture: TinyArchitecture,
  weights: "f32" | "f16" = "f32",
): Promise<string> {
  const vocabulary = architecture.vocabulary();
  const metadata: [string, GgufTypedValue][] = [
    ["general.architecture", ggufValue.string(architecture.name)],
    ["general.name", ggufValue.string(`tiny-random-${architecture.name}`)],
    ["general.file_type", ggufValue.uint32(weights === "f16" ? LlamaFileType.MOSTLY_F16 : LlamaFileType.ALL_F32)],
    ...architecture.hyperparameters(),
    [`${architecture.name}.pooling_type`, ggufValue.uint32(POOLING_TYPE_IDS[architecture.poolings[0]!])],
    ...vocabulary.metadata,
  ];
  const random = seededRandom(SEED);
  const tensors = architecture.tensors(vocabulary.size).map(([name, shape]) => {
    const data = randomTensor(name, shape, random);
    if (weights === "f32" || shape.length < 2) {
      return { name, shape, type: GgmlType.F32, chunks: () => [new Uint8Array(data.buffer)] };
    }
    const half = new Uint16Array(data.length);
    float32ToFloat16(new Uint32Array(data.buffer), half);
    return { name, shape, type: GgmlType.F16, chunks: () => [new Uint8Array(half.buffer)] };
  });
  // Named by content, so that a change to the table never picks up a stale file.
  const digest = createHash("sha256");
  digest.update(JSON.stringify(metadata.map(([key, typed]) => [key, typed.value])));
  for (const tensor of tensors) digest.update(tensor.name).update(tensor.chunks()[0]!);
  const path = join(tmpdir(), `ctxembed-tiny-${architecture.name}-${digest.digest("hex").slice(0, 12)}.gguf`);
  const present = await stat(path).then(
    () => true,
    () => false,
  );
  if (!present) await writeGgufFile(path, metadata, tensors);
  return path;
}
