"""Reference sentence embeddings of STS-B dev sentences with sentence-transformers.

Writes test/fixtures/stsb-dev-minilm.json: the embeddings the upstream pipeline
(BERT -> mean pooling -> L2 normalisation) gives for the first distinct dev
sentences, and that pipeline's STS-B dev score, so ctxembed's output can be
compared against both; and test/fixtures/stsb-dev-minilm-all.f16.gz: the
embedding of every distinct dev sentence in float16 (rounding moves a cosine by
about 1e-7), gzipped to stay under 2 MiB, for the parity checks that cover the
whole split.
"""

import argparse
import base64
import gzip
import importlib.util
from pathlib import Path

import numpy as np
import scipy.stats
from sentence_transformers import SentenceTransformer

# common.py is loaded by its path, not found on sys.path.
_common_spec = importlib.util.spec_from_file_location("reference_common", Path(__file__).with_name("common.py"))
common = importlib.util.module_from_spec(_common_spec)
_common_spec.loader.exec_module(common)

DEFAULT_OUTPUT = common.FIXTURES_DIR / "stsb-dev-minilm.json"


def parse_arguments() -> argparse.Namespace:
    parser = common.argument_parser(__doc__, default_output=DEFAULT_OUTPUT, output_help="fixture to write")
    parser.add_argument("--count", type=int, default=256, help="distinct sentences to store (default: %(default)s)")
    return parser.parse_args()


def encode(model: SentenceTransformer, sentences: list[str]) -> np.ndarray:
    return model.encode(sentences, batch_size=64, convert_to_numpy=True).astype(np.float32)


def stsb_score(
    model: SentenceTransformer, pairs: list[tuple[float, str, str]], all_vectors_path: Path
) -> dict[str, float | int | str]:
    distinct = common.distinct_sentences(pairs)
    encoded = encode(model, distinct)
    # mtime 0: the same vectors give the same bytes
    with gzip.GzipFile(all_vectors_path, "wb", compresslevel=9, mtime=0) as compressed:
        compressed.write(encoded.astype("<f2").tobytes())
    vectors = dict(zip(distinct, encoded))
    first = np.stack([vectors[s] for _, s, _ in pairs]).astype(np.float64)
    second = np.stack([vectors[s] for _, _, s in pairs]).astype(np.float64)
    # Cosine explicitly rather than a dot product, so the figure does not depend on
    # the pipeline normalising its output.
    cosines = (first * second).sum(axis=1) / (np.linalg.norm(first, axis=1) * np.linalg.norm(second, axis=1))
    gold = np.array([score for score, _, _ in pairs])
    return {
        "all_vectors_file": all_vectors_path.name,
        "distinct_sentences": len(distinct),
        "pairs": len(pairs),
        "spearman": float(scipy.stats.spearmanr(cosines, gold).statistic) * 100,
        "pearson": float(scipy.stats.pearsonr(cosines, gold).statistic) * 100,
    }


def main() -> None:
    arguments = parse_arguments()
    model = SentenceTransformer(str(arguments.model), device="cpu").float()
    pairs = common.read_stsb_pairs(arguments.stsb_dev)
    sentences = common.distinct_sentences(pairs)[: arguments.count]
    embeddings = encode(model, sentences)

    fixture = {
        "generator": "scripts/reference/make_sentence_fixture.py",
        "model": common.model_label_with_sha256(common.safetensors_sha256(arguments.model)),
        "versions": common.library_versions(),
        "dimensions": int(embeddings.shape[1]),
        "sentences": sentences,
        "embeddings": [base64.b64encode(row.astype("<f4").tobytes()).decode("ascii") for row in embeddings],
        "stsb_dev": stsb_score(model, pairs, arguments.output.with_name("stsb-dev-minilm-all.f16.gz")),
    }
    common.write_json_fixture(arguments.output, fixture)
    print(f"wrote {arguments.output}: {len(sentences)} sentences, STS-B dev {fixture['stsb_dev']}")


if __name__ == "__main__":
    main()
