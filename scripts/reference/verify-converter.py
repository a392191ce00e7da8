#!/usr/bin/env python3
"""Compare two GGUF files: the metadata llama.cpp reads, and every tensor's name, shape, type and bytes.

Used to check ctxembed's converter against llama.cpp's convert_hf_to_gguf.py:

    PYTHONPATH=/path/to/llama.cpp/gguf-py python scripts/reference/verify-converter.py reference.gguf ours.gguf

Keys starting with "ctxembed." are ctxembed's own additions, and the general.* authorship keys (name,
license, tags, ...) intentionally differ from llama.cpp's, so both are ignored (see --ignore-prefix);
the general.* keys llama.cpp's loader reads are still compared.
Prints every difference and exits with status 1 if there is any, 0 if the files match.
"""

from __future__ import annotations

import argparse
import sys

try:
    import numpy as np
    from gguf import GGUFReader
except ImportError as error:  # pragma: no cover - depends on the environment
    sys.exit(f"{error}: install gguf-py (pip install gguf) or set PYTHONPATH=<llama.cpp>/gguf-py")

# Pseudo-fields GGUFReader adds for the fixed header; the KV count legitimately differs when keys are ignored.
HEADER_FIELDS = {"GGUF.version", "GGUF.tensor_count", "GGUF.kv_count"}
# general.* keys that change how llama.cpp loads the model, compared even when "general." is ignored.
LOADER_GENERAL_KEYS = {"general.architecture", "general.alignment", "general.file_type", "general.quantization_version"}


def metadata(reader: GGUFReader, ignored_prefixes: list[str]) -> dict[str, tuple[list[str], object]]:
    entries = {}
    for key, field in reader.fields.items():
        ignored = key.startswith(tuple(ignored_prefixes)) and key not in LOADER_GENERAL_KEYS
        if key in HEADER_FIELDS - {"GGUF.version"} or ignored:
            continue
        entries[key] = ([t.name for t in field.types], field.contents())
    return entries


def describe(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 200 else f"{text[:200]}... ({len(value) if hasattr(value, '__len__') else '?'} items)"


def first_list_difference(a: list, b: list) -> str:
    if len(a) != len(b):
        return f"{len(a)} vs {len(b)} items"
    index = next(i for i, (x, y) in enumerate(zip(a, b)) if x != y)
    return f"first difference at index {index}: {a[index]!r} vs {b[index]!r}"


def compare_metadata(a: GGUFReader, b: GGUFReader, ignored: list[str]) -> list[str]:
    problems = []
    meta_a, meta_b = metadata(a, ignored), metadata(b, ignored)
    for key in meta_a.keys() - meta_b.keys():
        problems.append(f"metadata {key}: only in the first file ({describe(meta_a[key][1])})")
    for key in meta_b.keys() - meta_a.keys():
        problems.append(f"metadata {key}: only in the second file ({describe(meta_b[key][1])})")
    for key in meta_a.keys() & meta_b.keys():
        (types_a, value_a), (types_b, value_b) = meta_a[key], meta_b[key]
        if types_a != types_b:
            problems.append(f"metadata {key}: type {types_a} vs {types_b}")
        elif value_a != value_b:
            detail = first_list_difference(value_a, value_b) if isinstance(value_a, list) else f"{describe(value_a)} vs {describe(value_b)}"
            problems.append(f"metadata {key}: {detail}")
    return problems


def compare_tensors(a: GGUFReader, b: GGUFReader) -> list[str]:
    problems = []
    tensors_a = {t.name: t for t in a.tensors}
    tensors_b = {t.name: t for t in b.tensors}
    for name in tensors_a.keys() - tensors_b.keys():
        problems.append(f"tensor {name}: only in the first file")
    for name in tensors_b.keys() - tensors_a.keys():
        problems.append(f"tensor {name}: only in the second file")
    for name in sorted(tensors_a.keys() & tensors_b.keys()):
        ta, tb = tensors_a[name], tensors_b[name]
        if ta.shape.tolist() != tb.shape.tolist():
            problems.append(f"tensor {name}: shape {ta.shape.tolist()} vs {tb.shape.tolist()}")
        elif ta.tensor_type != tb.tensor_type:
            problems.append(f"tensor {name}: type {ta.tensor_type.name} vs {tb.tensor_type.name}")
        elif ta.n_bytes != tb.n_bytes:
            problems.append(f"tensor {name}: {ta.n_bytes} vs {tb.n_bytes} bytes")
        else:
            bytes_a = np.ascontiguousarray(ta.data).view(np.uint8).reshape(-1)
            bytes_b = np.ascontiguousarray(tb.data).view(np.uint8).reshape(-1)
            differing = np.flatnonzero(bytes_a != bytes_b)
            if differing.size:
                problems.append(f"tensor {name}: {differing.size} of {bytes_a.size} data bytes differ, first at byte {differing[0]}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", help="a GGUF file, e.g. the one llama.cpp's converter wrote")
    parser.add_argument("second", help="the GGUF file to compare it with")
    parser.add_argument("--ignore-prefix", action="append", default=["general.", "ctxembed."], metavar="PREFIX",
                        help="also ignore metadata keys starting with PREFIX (general. and ctxembed. always are)")
    args = parser.parse_args()
    ignored = args.ignore_prefix

    first, second = GGUFReader(args.first), GGUFReader(args.second)
    problems = compare_metadata(first, second, ignored) + compare_tensors(first, second)
    compared_a, compared_b = metadata(first, ignored), metadata(second, ignored)
    order_a = [k for k in compared_a if k in compared_b]
    order_b = [k for k in compared_b if k in compared_a]
    for problem in problems:
        print(problem)
    if order_a != order_b:
        print("note: the shared metadata keys are in a different order (llama.cpp does not care)")
    if [t.name for t in first.tensors] != [t.name for t in second.tensors]:
        print("note: the tensors are stored in a different order (llama.cpp does not care)")
    print(f"{len(problems)} difference(s); {len(first.fields)} and {len(second.fields)} fields, "
          f"{len(first.tensors)} and {len(second.tensors)} tensors")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
