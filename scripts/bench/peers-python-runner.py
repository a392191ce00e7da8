# A Python peer's run for the peer benchmark (peers.ts): ONNX Runtime or OpenVINO, the same
# procedure as the onnxruntime-node runner in peers-node-runner.ts: texts sorted by token count,
# batches of <batch size>, cut at <max tokens> as sentence-transformers cuts, mean pooling over
# the attention mask, L2 normalisation; vectors written as float32, little-endian, one row per line.
# Python because those are the bindings the comparison is about (OpenVINO's Node binding needs a
# newer Node and downloads its library at install).
#   python peers-python-runner.py onnxruntime <model.onnx> <texts.txt> <threads> <vectors.f32> <batch size> <max tokens>
#   python peers-python-runner.py openvino <model.xml> <texts.txt> <threads> <vectors.f32> <batch size> <max tokens> <precision>
# precision: f32 or bf16 (OpenVINO's INFERENCE_PRECISION_HINT), or "default" for the CPU plugin's
# own choice. The model lies in transformers.js' layout: the tokenizer two folders up.
import sys
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

engine, model_path, texts_path, vectors_path = sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[5]
threads, batch_size, max_tokens = int(sys.argv[4]), int(sys.argv[6]), int(sys.argv[7])


def onnxruntime_model():
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
    return lambda inputs: session.run(["last_hidden_state"], inputs)[0]


def openvino_model(precision):
    import openvino

    # One stream of THREADS threads: batches run one after another, as every other runner's do.
    config = {"INFERENCE_NUM_THREADS": threads, "NUM_STREAMS": 1, "PERFORMANCE_HINT": "LATENCY"}
    if precision != "default":
        config["INFERENCE_PRECISION_HINT"] = precision
    compiled = openvino.Core().compile_model(model_path, "CPU", config)
    print(f"OpenVINO inference precision: {compiled.get_property('INFERENCE_PRECISION_HINT').get_type_name()}", file=sys.stderr)
    request = compiled.create_infer_request()
    output = compiled.output("last_hidden_state")
    return lambda inputs: request.infer(inputs)[output]


run = onnxruntime_model() if engine == "onnxruntime" else openvino_model(sys.argv[8])
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
    hidden = run({"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": np.zeros_like(input_ids)})
    # The mean's 1/length is a scale, which the normalisation takes out anyway.
    summed = (hidden * attention_mask[:, :, None]).sum(axis=1)
    if vectors is None:
        vectors = np.zeros((len(texts), hidden.shape[2]), dtype=np.float32)
    vectors[batch] = summed / np.linalg.norm(summed, axis=1, keepdims=True)
vectors.astype("<f4").tofile(vectors_path)
