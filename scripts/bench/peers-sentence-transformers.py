# The Python peer's run for the peer benchmark (peers.ts): sentence-transformers on the CPU,
# loading the checkpoint the GGUF was converted from, encoding every line of a file, writing the
# vectors (float32, little-endian, one row per line; the benchmark's parity reference), exiting.
# Python because that is the library the comparison is about.
#   python peers-sentence-transformers.py <checkpoint directory> <texts.txt> <threads> <vectors.f32>
import sys

checkpoint, texts_path, threads, vectors_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

import torch

torch.set_num_threads(threads)
from sentence_transformers import SentenceTransformer

with open(texts_path, encoding="utf-8") as texts_file:
    texts = [line for line in texts_file.read().split("\n") if line]
model = SentenceTransformer(checkpoint, device="cpu")
model.encode(texts, convert_to_numpy=True).astype("<f4").tofile(vectors_path)
