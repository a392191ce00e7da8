"""Reference per-token hidden states of all-MiniLM-L6-v2 for every layer.

Writes test/fixtures/minilm-hidden-states.f16 and test/fixtures/minilm-hidden-states.json:
Hugging Face transformers' BertModel output (float32, CPU, eval mode,
output_hidden_states=True) for 50 short STS-B dev sentences, each run alone
(batch of one, no padding), with every token kept, [CLS] and [SEP] included.

hidden_states[0] is the embedding output (word + position + token-type
embeddings, LayerNorm) and hidden_states[L] the output of transformer block L,
so the fixture has 7 layers of 384 dimensions per token.

The .f16 file is raw little-endian IEEE float16, laid out sentence by sentence,
then layer 0..6, then token, then the 384 dimensions: sentence i's block starts
at float16 element `offset` (from the JSON) and holds 7 * len(token_ids) * 384
values; the value of (layer l, token t, dim d) is at
offset + (l * len(token_ids) + t) * 384 + d.

Sentence selection (deterministic; see select_sentences):
  1. the distinct STS-B dev sentences in file order (sentence1 then sentence2 of
     each line), without the first 256 (test/fixtures/stsb-dev-minilm.json uses those);
  2. of those, the ones whose tokenization with special tokens has between
     MIN_TOKENS and MAX_TOKENS tokens (6 to 9);
  3. forced in first, in file order: up to 3 of them containing a non-ASCII
     character, and up to 3 "punctuation-heavy" ones (at least 2 characters of
     Unicode category P* or S*: punctuation or symbols);
  4. the rest filled from the remaining candidates, shortest first (ties in
     file order), up to 50 sentences; the 50 are stored in file order.
Filling shortest first keeps the .f16 file under 2,000,000 bytes (each token
costs 7 * 384 * 2 = 5376 bytes, so the 50 sentences get at most 372 tokens).

Before writing, the script checks that mean pooling the last layer over all
tokens and L2 normalising reproduces SentenceTransformer(model).encode(sentence)
to a cosine above 0.99999 for every sentence, so the stored hidden states are
the ones the sentence pipeline uses; it fails otherwise.
"""

import argparse
import importlib.util
import unicodedata
from pathlib import Path

import numpy as np
import torch
from sentence_transformers import SentenceTransformer
from transformers import AutoModel, AutoTokenizer

# common.py is loaded by its path, not found on sys.path.
_common_spec = importlib.util.spec_from_file_location("reference_common", Path(__file__).with_name("common.py"))
common = importlib.util.module_from_spec(_common_spec)
_common_spec.loader.exec_module(common)

DEFAULT_OUTPUT = common.FIXTURES_DIR / "minilm-hidden-states.json"

SKIP_DISTINCT = 256  # the first distinct dev sentences, used by stsb-dev-minilm.json
SENTENCE_COUNT = 50
MIN_TOKENS = 6  # with [CLS] and [SEP]
MAX_TOKENS = 9
MAX_NON_ASCII = 3
MAX_PUNCTUATION_HEAVY = 3
PUNCTUATION_HEAVY_MIN = 2  # characters of Unicode category P* or S*
LAYERS = 7  # embedding output + 6 blocks
DIMENSIONS = 384
MAX_F16_BYTES = 2_000_000  # below 2 MiB, with room to spare
MIN_SENTENCE_COSINE = 0.99999

SELECTION_RULE = (
    f"Distinct STS-B dev sentences in file order (sentence1 then sentence2 of each line), "
    f"skipping the first {SKIP_DISTINCT}; candidates are those whose HF tokenization with special "
    f"tokens has {MIN_TOKENS} to {MAX_TOKENS} tokens. Forced in first, in file order: up to "
    f"{MAX_NON_ASCII} candidates containing a non-ASCII character and up to {MAX_PUNCTUATION_HEAVY} "
    f"punctuation-heavy candidates (at least {PUNCTUATION_HEAVY_MIN} characters of Unicode category "
    f"P* or S*). The rest are filled from the remaining candidates shortest first (ties in file "
    f"order) up to {SENTENCE_COUNT} sentences, which are stored in file order."
)


def parse_arguments() -> argparse.Namespace:
    parser = common.argument_parser(
        __doc__,
        default_output=DEFAULT_OUTPUT,
        output_help="JSON index to write; the float16 data goes next to it with the suffix .f16",
    )
    return parser.parse_args()


def is_non_ascii(text: str) -> bool:
    return any(ord(character) > 127 for character in text)


def is_punctuation_heavy(text: str) -> bool:
    return sum(unicodedata.category(character)[0] in "PS" for character in text) >= PUNCTUATION_HEAVY_MIN


def select_sentences(distinct: list[str], tokenizer) -> list[str]:
    pool = distinct[SKIP_DISTINCT:]
    lengths = {sentence: len(tokenizer(sentence)["input_ids"]) for sentence in pool}
    candidates = [sentence for sentence in pool if MIN_TOKENS <= lengths[sentence] <= MAX_TOKENS]
    chosen = [sentence for sentence in candidates if is_non_ascii(sentence)][:MAX_NON_ASCII]
    chosen += [s for s in candidates if is_punctuation_heavy(s) and s not in chosen][:MAX_PUNCTUATION_HEAVY]
    position = {sentence: index for index, sentence in enumerate(candidates)}
    rest = sorted((s for s in candidates if s not in chosen), key=lambda s: (lengths[s], position[s]))
    chosen += rest[: SENTENCE_COUNT - len(chosen)]
    if len(chosen) != SENTENCE_COUNT:
        raise SystemExit(f"only {len(chosen)} STS-B dev sentences fit the selection rule, need {SENTENCE_COUNT}")
    return sorted(chosen, key=lambda sentence: position[sentence])


def hidden_states_of(model, tokenizer, sentence: str) -> tuple[list[int], np.ndarray]:
    """Token ids with specials, and [layer, token, dim] float32 hidden states of the sentence alone."""
    encoded = tokenizer(sentence, return_tensors="pt")
    with torch.inference_mode():
        output = model(**encoded, output_hidden_states=True)
    states = torch.stack(output.hidden_states, dim=0)[:, 0]  # [layer, token, dim]
    return encoded["input_ids"][0].tolist(), states.to(torch.float32).numpy()


def unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


def main() -> None:
    arguments = parse_arguments()
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(str(arguments.model))
    model = AutoModel.from_pretrained(str(arguments.model), dtype=torch.float32).to("cpu").eval()
    sentence_model = SentenceTransformer(str(arguments.model), device="cpu").float().eval()

    distinct = common.distinct_sentences(common.read_stsb_pairs(arguments.stsb_dev))
    sentences = select_sentences(distinct, tokenizer)

    entries = []
    blocks = []
    offset = 0
    worst_sentence_cosine = 1.0
    worst_f16_cosine = 1.0
    worst_f16_relative = 0.0
    reference = sentence_model.encode(sentences, batch_size=1, convert_to_numpy=True).astype(np.float64)
    for sentence, expected in zip(sentences, reference):
        token_ids, states = hidden_states_of(model, tokenizer, sentence)
        if states.shape != (LAYERS, len(token_ids), DIMENSIONS):
            raise SystemExit(f"unexpected hidden state shape {states.shape} for {sentence!r}")
        if sentence_model.tokenize([sentence])["input_ids"][0].tolist() != token_ids:
            raise SystemExit(f"sentence-transformers tokenizes {sentence!r} differently from AutoTokenizer")

        # Self-check: the sentence pipeline is mean pooling of the last layer + L2 normalisation.
        pooled = unit(states[-1].astype(np.float64).mean(axis=0))
        cosine = float(pooled @ unit(expected))
        worst_sentence_cosine = min(worst_sentence_cosine, cosine)
        if not cosine > MIN_SENTENCE_COSINE:
            raise SystemExit(
                f"self-check failed: mean-pooled last layer vs SentenceTransformer.encode cosine {cosine:.9f} "
                f"<= {MIN_SENTENCE_COSINE} for {sentence!r}"
            )

        half = states.astype("<f2")
        if not np.isfinite(half).all():
            raise SystemExit(f"hidden states of {sentence!r} overflow float16")
        exact = states.astype(np.float64).reshape(-1, DIMENSIONS)
        rounded = half.astype(np.float64).reshape(-1, DIMENSIONS)
        cosines = (exact * rounded).sum(axis=1) / (np.linalg.norm(exact, axis=1) * np.linalg.norm(rounded, axis=1))
        worst_f16_cosine = min(worst_f16_cosine, float(cosines.min()))
        relative = np.linalg.norm(exact - rounded, axis=1) / np.linalg.norm(exact, axis=1)
        worst_f16_relative = max(worst_f16_relative, float(relative.max()))

        entries.append(
            {
                "text": sentence,
                "token_ids": token_ids,
                "tokens": tokenizer.convert_ids_to_tokens(token_ids),
                "offset": offset,
            }
        )
        blocks.append(half.tobytes())
        offset += half.size

    data = b"".join(blocks)
    if len(data) != offset * 2:
        raise SystemExit("float16 block sizes do not add up")
    if not len(data) < MAX_F16_BYTES:
        raise SystemExit(f"{len(data)} bytes of float16 data, the fixture must stay under {MAX_F16_BYTES}")

    token_counts = [len(entry["token_ids"]) for entry in entries]
    data_path = arguments.output.with_suffix(".f16")
    fixture = {
        "generator": "scripts/reference/make_hidden_states_fixture.py",
        "model": {
            "name": common.MODEL_NAME,
            "safetensors_sha256": common.safetensors_sha256(arguments.model),
        },
        "versions": common.library_versions(include_tokenizers=True),
        "data_file": data_path.name,
        "data_bytes": len(data),
        "dimensions": DIMENSIONS,
        "layers": LAYERS,
        "layers_note": "0 = embedding output, L = output of block L",
        "dtype": "float16",
        "layout": (
            "raw little-endian float16; sentence by sentence, then layer 0..6, then token, then the 384 dims: "
            "value (layer l, token t, dim d) of a sentence is at element offset + (l * len(token_ids) + t) * 384 + d"
        ),
        "precision_note": (
            "Computed in float32 (CPU, eval, each sentence alone, no padding) and stored as float16. "
            f"Float16 rounding moves the cosine between a stored token vector and its float32 value by ~1e-7 at most "
            f"(worst over this fixture: 1 - cosine = {1 - worst_f16_cosine:.1e}; worst relative L2 error "
            f"{worst_f16_relative:.1e}), far below a 1e-4 cosine tolerance."
        ),
        "selection": SELECTION_RULE,
        "self_check": {
            "rule": "mean pooling of layer 6 over all tokens + L2 normalisation vs SentenceTransformer(model).encode(text)",
            "min_cosine": worst_sentence_cosine,
            "threshold": MIN_SENTENCE_COSINE,
        },
        "sentences": entries,
    }
    data_path.parent.mkdir(parents=True, exist_ok=True)
    data_path.write_bytes(data)
    common.write_json_fixture(arguments.output, fixture)
    print(
        f"wrote {data_path}: {len(data)} bytes; {arguments.output}: {len(entries)} sentences, "
        f"{sum(token_counts)} tokens ({min(token_counts)}-{max(token_counts)} per sentence, "
        f"mean {np.mean(token_counts):.2f}); self-check min cosine {worst_sentence_cosine:.9f} (1 - cosine {1 - worst_sentence_cosine:.1e}); "
        f"float16 worst 1 - cosine {1 - worst_f16_cosine:.1e}"
    )


if __name__ == "__main__":
    main()
