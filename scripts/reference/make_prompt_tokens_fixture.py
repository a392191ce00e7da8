"""Reference token ids of the prompts that lib/prompts builds, from Hugging Face tokenizers.

Writes test/fixtures/prompt-tokens.json: for each prompt that
scripts/reference/prompt-strings.ts prints (run here through `npx tsx`, so the strings are
never retyped), the ids with special tokens (add_special_tokens=True) of

- all-MiniLM-L6-v2: its checkpoint's own tokenizer (AutoTokenizer on the HF directory);
- gemma-3-270m: its GGUF vocabulary, converted to a fast tokenizer the way transformers'
  GemmaConverter converts Gemma's SentencePiece BPE model (tokenizer.model). The GGUF holds the
  same pieces, scores and token types as tokenizer.model, and no tokenizer.model or
  tokenizer.json of Gemma 3 can be reached from here.

Why not `AutoTokenizer.from_pretrained(dir, gguf_file=...)` for gemma: in transformers 4.57.6
it builds the tokenizer with GGUFGemmaConverter, a *Unigram* model over scores that are BPE
merge ranks, which splits common words into short pieces ("Instruct" becomes In|st|ru|ct where
Gemma has one token; transformers issue #41494). The script still runs that loader and prints,
and records, how many prompts it gets right, so the fixture says why it is not the reference.
"""

import argparse
import functools
import importlib.metadata
import importlib.util
import json
import os
import platform
import subprocess
from pathlib import Path
from types import SimpleNamespace

import tokenizers
import transformers
from transformers import AutoTokenizer, GemmaTokenizerFast, PreTrainedTokenizerBase
from transformers.convert_slow_tokenizer import GemmaConverter, GemmaSentencePieceExtractor
from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint

# common.py is loaded by its path, not found on sys.path.
_common_spec = importlib.util.spec_from_file_location("reference_common", Path(__file__).with_name("common.py"))
common = importlib.util.module_from_spec(_common_spec)
_common_spec.loader.exec_module(common)

DEFAULT_OUTPUT = common.FIXTURES_DIR / "prompt-tokens.json"
PROMPT_STRINGS = "scripts/reference/prompt-strings.ts"
GEMMA_GGUF_NAME = "gemma-3-270m-q4_k_m.gguf"


def ctxembed_cache() -> Path:
    """Where `ctxembed models pull` puts models: $CTXEMBED_CACHE, else $XDG_CACHE_HOME/ctxembed, else ~/.cache/ctxembed."""
    if os.environ.get("CTXEMBED_CACHE"):
        return Path(os.environ["CTXEMBED_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ctxembed"


def parse_arguments() -> argparse.Namespace:
    models = ctxembed_cache() / "models"
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minilm", type=Path, default=models / "all-minilm-l6-v2" / "hf", help="all-MiniLM-L6-v2 HF checkpoint directory (default: %(default)s)")
    parser.add_argument("--gemma-gguf", type=Path, default=models / "gemma-3-270m" / GEMMA_GGUF_NAME, help="gemma-3-270m GGUF file (default: %(default)s)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="fixture to write (default: %(default)s)")
    return parser.parse_args()


def prompt_cases() -> list[dict]:
    """The prompts as lib/prompts builds them: [{name, preset, prompt}]."""
    printed = subprocess.run(["npx", "tsx", PROMPT_STRINGS], cwd=common.REPO_ROOT, check=True, capture_output=True, text=True)
    return json.loads(printed.stdout)["cases"]


@functools.cache
def gguf_tokenizer_fields(gguf_path: Path) -> dict:
    """tokenizer.ggml.* of the GGUF as transformers' own GGUF reader returns them."""
    return load_gguf_checkpoint(str(gguf_path), return_tensors=False)["tokenizer"]


class GgufGemmaExtractor(GemmaSentencePieceExtractor):
    """GemmaSentencePieceExtractor reading the pieces from a GGUF instead of a tokenizer.model."""

    def __init__(self, gguf_path: Path):
        pieces = gguf_tokenizer_fields(gguf_path)["tokens"]
        self.sp = SimpleNamespace(id_to_piece=pieces.__getitem__, GetPieceSize=lambda: len(pieces))


class GgufGemmaBpeConverter(GemmaConverter):
    """transformers' GemmaConverter (SentencePiece BPE -> tokenizers BPE with byte fallback),
    fed with the GGUF's pieces, scores and token types in place of tokenizer.model's."""

    SpmExtractor = GgufGemmaExtractor

    def __init__(self, gguf_path: Path):
        fields = gguf_tokenizer_fields(gguf_path)
        pieces = fields["tokens"]
        # SentencePiece piece types, which the GGUF keeps: 3 control, 4 user defined, 6 byte.
        self.proto = SimpleNamespace(
            pieces=[SimpleNamespace(piece=p, score=s, type=t) for p, s, t in zip(pieces, fields["scores"], fields["token_type"])],
            trainer_spec=SimpleNamespace(model_type=2, unk_piece=pieces[fields["unk_token_id"]], byte_fallback=True),
        )
        self.original_tokenizer = SimpleNamespace(
            vocab_file=gguf_path,
            pad_token=pieces[fields["pad_token_id"]],
            eos_token=pieces[fields["eos_token_id"]],
            bos_token=pieces[fields["bos_token_id"]],
            add_prefix_space=fields["add_prefix_space"],
        )


def gemma_reference_tokenizer(gguf_path: Path) -> PreTrainedTokenizerBase:
    fields = gguf_tokenizer_fields(gguf_path)
    pieces = fields["tokens"]
    # GemmaTokenizerFast puts <bos> (and no <eos>) around the text, as Gemma's tokenizer_config does.
    return GemmaTokenizerFast(
        tokenizer_object=GgufGemmaBpeConverter(gguf_path).converted(),
        bos_token=pieces[fields["bos_token_id"]],
        eos_token=pieces[fields["eos_token_id"]],
        unk_token=pieces[fields["unk_token_id"]],
        pad_token=pieces[fields["pad_token_id"]],
    )


def encode(tokenizer: PreTrainedTokenizerBase, prompt: str) -> dict:
    ids = tokenizer(prompt, add_special_tokens=True)["input_ids"]
    return {"ids": ids, "pieces": tokenizer.convert_ids_to_tokens(ids)}


def main() -> None:
    arguments = parse_arguments()
    cases = prompt_cases()
    minilm = AutoTokenizer.from_pretrained(str(arguments.minilm))
    gemma = gemma_reference_tokenizer(arguments.gemma_gguf)
    gemma_gguf_loader = AutoTokenizer.from_pretrained(str(arguments.gemma_gguf.parent), gguf_file=arguments.gemma_gguf.name)

    loader_agreements = 0
    for case in cases:
        case["tokens"] = {"all-minilm-l6-v2": encode(minilm, case["prompt"]), "gemma-3-270m": encode(gemma, case["prompt"])}
        loader_ids = gemma_gguf_loader(case["prompt"], add_special_tokens=True)["input_ids"]
        loader_agreements += loader_ids == case["tokens"]["gemma-3-270m"]["ids"]
    loader_note = f"AutoTokenizer(gguf_file=...) gives the reference ids for {loader_agreements} of {len(cases)} prompts"

    fixture = {
        "generator": "scripts/reference/make_prompt_tokens_fixture.py",
        "prompts_from": PROMPT_STRINGS,
        "versions": {
            "python": platform.python_version(),
            "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__,
            "gguf": importlib.metadata.version("gguf"),
        },
        "tokenizers": {
            "all-minilm-l6-v2": {
                "source": f"{common.MODEL_ID} ({common.MODEL_PACKAGE}): AutoTokenizer on the checkpoint directory, "
                f"{type(minilm).__name__}, tokenizer.json sha256 {common.sha256_of(arguments.minilm / 'tokenizer.json')}",
            },
            "gemma-3-270m": {
                "source": f"{GEMMA_GGUF_NAME} (sha256 {common.sha256_of(arguments.gemma_gguf)}): its tokenizer.ggml.* vocabulary "
                "through transformers' GemmaConverter (SentencePiece BPE, byte fallback), as GemmaTokenizerFast",
                "gguf_loader_check": loader_note,
            },
        },
        "cases": cases,
    }
    common.write_json_fixture(arguments.output, fixture)
    print(f"wrote {arguments.output}: {len(cases)} prompts; {loader_note}")


if __name__ == "__main__":
    main()
