# Exports a sentence-transformers checkpoint to ONNX the way transformers.js' scripts/convert.py
# does, for the ONNX Runtime peers of the peer benchmark (scripts/bench/peers.ts):
#   - optimum's exporter (optimum-onnx), task feature-extraction (output last_hidden_state,
#     pooling left to the caller), opset 14, eager attention (an SDPA trace leaves unfused
#     Sqrt/Mul/Cast nodes behind), then onnxslim            -> onnx/model.onnx
#   - transformers.js' "q8": onnxruntime's dynamic quantization, QInt8 weights, per channel,
#     reduced range (what it uses for BERT)                   -> onnx/model_quantized.onnx
#   - config.json and the tokenizer files, with tokenizer.json's own padding and truncation
#     (128 in this checkpoint) removed and model_max_length set to sentence-transformers'
#     max_seq_length, so that every peer truncates where sentence-transformers does.
# Versions: scripts/bench/peers-requirements.txt (the peers' virtual environment runs it).
#   python scripts/reference/export-onnx.py --model <checkpoint directory> --output <directory>
import argparse
import json
import shutil
import tempfile
from pathlib import Path

import onnx
import onnxslim
from onnxruntime.quantization import QuantType, quantize_dynamic
from optimum.exporters.onnx import onnx_export_from_model
from transformers import AutoModel

OPSET = 14
TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"]

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--model", type=Path, required=True, help="the Hugging Face checkpoint directory")
parser.add_argument("--output", type=Path, required=True, help="written in transformers.js' layout")
args = parser.parse_args()

weights = args.output / "onnx"
weights.mkdir(parents=True, exist_ok=True)

model = AutoModel.from_pretrained(args.model, attn_implementation="eager")
with tempfile.TemporaryDirectory() as exported:
    onnx_export_from_model(model, exported, opset=OPSET, task="feature-extraction")
    onnx.save(onnxslim.slim(str(Path(exported) / "model.onnx")), weights / "model.onnx")

quantize_dynamic(
    weights / "model.onnx",
    weights / "model_quantized.onnx",
    weight_type=QuantType.QInt8,
    per_channel=True,
    reduce_range=True,
)

max_tokens = json.loads((args.model / "sentence_bert_config.json").read_text())["max_seq_length"]
shutil.copy(args.model / "config.json", args.output / "config.json")
for name in TOKENIZER_FILES:
    if (args.model / name).exists():
        shutil.copy(args.model / name, args.output / name)
tokenizer = json.loads((args.output / "tokenizer.json").read_text())
tokenizer["padding"] = None
tokenizer["truncation"] = None
(args.output / "tokenizer.json").write_text(json.dumps(tokenizer, ensure_ascii=False))
tokenizer_config = json.loads((args.output / "tokenizer_config.json").read_text())
tokenizer_config["model_max_length"] = max_tokens
(args.output / "tokenizer_config.json").write_text(json.dumps(tokenizer_config, indent=2))
print(f"wrote {weights / 'model.onnx'}, {weights / 'model_quantized.onnx'} and the tokenizer files")
