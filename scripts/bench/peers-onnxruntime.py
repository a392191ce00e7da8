# Python's ONNX Runtime peer for the peer benchmark (peers.ts), the same procedure as the
# onnxruntime-node runner in peers-node-runner.ts: texts sorted by token count, batches of
# <batch size>, cut at <max tokens> as sentence-transformers cuts, mean pooling over the
# attention mask, L2 normalisation; vectors written as float32, little-endian, one row per line.
# Python because that is the ONNX Runtime binding the comparison is about.
#   python peers-onnxruntime.py <model.onnx> <texts.txt> <threads> <vectors.f32> <batch size> <max tokens>
import sys
from pathlib import Path

import numpy as np
import onnxruntime
from tokenizers import Tokenizer

model_path, texts_path, vectors_path = Path(sys.argv[1]), sys.argv[2], sys.argv[4]
threads, batch_size, max_tokens = int(sys.argv[3]), int(sys.argv[5]), int(sys.argv[6])

options = onnxruntime.SessionOptions()
options.intra_op_num_threads = threads
options.inter_op_num_threads = 1
session = onnxruntime.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
# transformers.js' layout: the tokenizer beside the onnx/ folder.
tokenizer = Tokenizer.from_file(str(model_path.parent.parent / "tokenizer.json"))
tokenizer.enable_truncation(max_tokens)

with open(texts_path, encoding="utf-8") as texts_file:
    texts = [line for line in texts_file.read().split("\n") if line]
ids = [encoding.ids for encoding in tokenizer.encode_batch(texts)]
order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
vectors = None
for start in range(0, len(order), batch_size):
    batch = order[start : start + batch_size]
    width = max(len(ids[i]) for i in batch)
    input_ids = np.zeros((len(batch), width), dtype=np.int64)
    attention_mask = np.zeros((len(batch), width), dtype=np.int64)
    for row, text in enumerate(batch):
        input_ids[row, : len(ids[text])] = ids[text]
        attention_mask[row, : len(ids[text])] = 1
    (hidden,) = session.run(
        ["last_hidden_state"],
        {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": np.zeros_like(input_ids)},
    )
    # The mean's 1/length is a scale, which the normalisation takes out anyway.
    summed = (hidden * attention_mask[:, :, None]).sum(axis=1)
    if vectors is None:
        vectors = np.zeros((len(texts), hidden.shape[2]), dtype=np.float32)
    vectors[batch] = summed / np.linalg.norm(summed, axis=1, keepdims=True)
vectors.astype("<f4").tofile(vectors_path)
