# The peers at their best, exported from the same checkpoint as every other runner's weights, into
# the folder scripts/reference/export-onnx.py filled (transformers.js' layout, tokenizer included):
#   - onnx/model-unslimmed.onnx: optimum's export as export-onnx.py makes it (opset 14, eager
#     attention) but without onnxslim, whose rewrites hide the attention pattern from ONNX
#     Runtime's fusions ("Attention not fused").
#   - onnx/model-fused.onnx: that export through ONNX Runtime's transformer optimizer,
#     `python -m onnxruntime.transformers.optimizer --model_type bert` (Attention,
#     EmbedLayerNormalization, SkipLayerNormalization and BiasGelu fused).
#   - onnx/model-fused-int8.onnx (CPUs with VNNI) or onnx/model-fused-int8-reduced-range.onnx
#     (without): onnxruntime's dynamic quantization of the fused graph, QInt8 weights per channel.
#     reduce_range keeps 7-bit weights for CPUs whose int8 products (vpmaddubsw) saturate; VNNI's
#     vpdpbusd does not, so there it would only cost accuracy.
#   - openvino/openvino_model.xml: OpenVINO's conversion of the unslimmed export with f32 weights
#     (save_model would store f16 weights by default); openvino/openvino_model_int8.xml: the same
#     with NNCF's int8 weight compression (INT8_ASYM, per output channel, no calibration data).
# Versions: scripts/bench/peers-requirements.txt (the peers' virtual environment runs it).
#   python scripts/bench/peers-export.py --model <checkpoint directory> --output <directory> --what fused|int8|int8-reduced-range|openvino
import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

OPSET = 14

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--model", type=Path, required=True, help="the Hugging Face checkpoint directory")
parser.add_argument("--output", type=Path, required=True, help="the folder export-onnx.py wrote")
parser.add_argument("--what", choices=["fused", "int8", "int8-reduced-range", "openvino"], required=True)
args = parser.parse_args()

weights = args.output / "onnx"
unslimmed = weights / "model-unslimmed.onnx"
fused = weights / "model-fused.onnx"


def export_unslimmed():
    if unslimmed.exists():
        return
    from optimum.exporters.onnx import onnx_export_from_model
    from transformers import AutoModel

    model = AutoModel.from_pretrained(args.model, attn_implementation="eager")
    with tempfile.TemporaryDirectory() as exported:
        onnx_export_from_model(model, exported, opset=OPSET, task="feature-extraction")
        shutil.copy(Path(exported) / "model.onnx", unslimmed)


def export_fused():
    if fused.exists():
        return
    export_unslimmed()
    config = json.loads((args.model / "config.json").read_text())
    subprocess.run(
        [
            sys.executable,
            "-m",
            "onnxruntime.transformers.optimizer",
            "--input",
            str(unslimmed),
            "--output",
            str(fused),
            "--model_type",
            "bert",
            "--num_heads",
            str(config["num_attention_heads"]),
            "--hidden_size",
            str(config["hidden_size"]),
        ],
        check=True,
    )


if args.what == "fused":
    export_fused()
elif args.what in ("int8", "int8-reduced-range"):
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    export_fused()
    quantize_dynamic(
        fused,
        weights / f"model-fused-{args.what}.onnx",
        weight_type=QuantType.QInt8,
        per_channel=True,
        reduce_range=args.what == "int8-reduced-range",
        # Without DefaultTensorType the quantizer cannot type the fused graph's outputs.
        extra_options={"MatMulConstBOnly": True, "DefaultTensorType": onnx.TensorProto.FLOAT},
    )
else:
    import nncf
    import openvino

    export_unslimmed()
    folder = args.output / "openvino"
    folder.mkdir(parents=True, exist_ok=True)
    model = openvino.convert_model(unslimmed)
    openvino.save_model(model, folder / "openvino_model.xml", compress_to_fp16=False)
    compressed = nncf.compress_weights(openvino.convert_model(unslimmed), mode=nncf.CompressWeightsMode.INT8_ASYM)
    openvino.save_model(compressed, folder / "openvino_model_int8.xml", compress_to_fp16=False)
print(f"wrote {args.what} into {args.output}")
