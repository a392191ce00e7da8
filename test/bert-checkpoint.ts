// Pieces of a Hugging Face BERT checkpoint for tests that build one: the tensor list of a
// BertModel and the safetensors container.

export interface BertSizes {
  vocabulary: number;
  hidden: number;
  layers: number;
  feedForward: number;
  positions: number;
}

/** Every tensor of a Hugging Face BertModel of these sizes, with its row-major shape. */
export function bertTensorShapes({
  vocabulary,
  hidden,
  layers,
  feedForward,
  positions,
}: BertSizes): [string, number[]][] {
  const shapes: [string, number[]][] = [
    ["embeddings.word_embeddings.weight", [vocabulary, hidden]],
    ["embeddings.position_embeddings.weight", [positions, hidden]],
    ["embeddings.token_type_embeddings.weight", [2, hidden]],
    ["embeddings.LayerNorm.weight", [hidden]],
    ["embeddings.LayerNorm.bias", [hidden]],
  ];
  for (let layer = 0; layer < layers; layer++) {
    const prefix = `encoder.layer.${layer}`;
    for (const module of [
      "attention.self.query",
      "attention.self.key",
      "attention.self.value",
      "attention.output.dense",
    ]) {
      shapes.push([`${prefix}.${module}.weight`, [hidden, hidden]], [`${prefix}.${module}.bias`, [hidden]]);
    }
    for (const norm of ["attention.output.LayerNorm", "output.LayerNorm"]) {
      shapes.push([`${prefix}.${norm}.weight`, [hidden]], [`${prefix}.${norm}.bias`, [hidden]]);
    }
    shapes.push(
      [`${prefix}.intermediate.dense.weight`, [feedForward, hidden]],
      [`${prefix}.intermediate.dense.bias`, [feedForward]],
    );
    shapes.push([`${prefix}.output.dense.weight`, [hidden, feedForward]], [`${prefix}.output.dense.bias`, [hidden]]);
  }
  return shapes;
}

export interface CheckpointTensor {
  name: string;
  dtype: "F32" | "F16" | "BF16" | "I64" | "I32";
  shape: number[];
  data: Uint8Array;
}

/** A model.safetensors file: 8-byte header length, JSON header padded to 8 bytes, data. */
export function safetensorsFile(tensors: CheckpointTensor[]): Buffer {
  const header: Record<string, unknown> = { __metadata__: { format: "pt" } };
  let offset = 0;
  for (const { name, dtype, shape, data } of tensors) {
    header[name] = { dtype, shape, data_offsets: [offset, offset + data.length] };
    offset += data.length;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, Buffer.from(json), ...tensors.map(({ data }) => Buffer.from(data))]);
}
