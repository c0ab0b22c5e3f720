"""The article vector index inside PostgreSQL, where the server has pgvector.

The in-process usearch index (:class:`storyline.link.embed.VectorIndex`) lives in a file per
machine, beside the store; on PostgreSQL that means one copy per ingest host, each rebuilt
from the ``embeddings`` table when it falls behind. With pgvector the index is a table of the
store (``article_vectors``, HNSW on cosine distance), written in the link transaction with the
embeddings themselves: every worker sees the same index, and a rolled-back batch leaves no
vector behind. Without the extension (or with ``STORYLINE_ANN=usearch``) nothing changes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

import numpy as np
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from .embed import DIM

log = logging.getLogger(__name__)

TABLE = "article_vectors"

_CREATE = (
    # half precision, as the usearch index: half the pages of float32 (30k vectors: 58 MB
    # against 106), inserts and searches ~10% cheaper, recall@41 0.999 against 0.9995
    f"CREATE TABLE IF NOT EXISTS {TABLE} (seq bigint PRIMARY KEY, v halfvec({DIM}) NOT NULL)",
    # m = 16 as the usearch index's connectivity; cosine as its metric
    f"CREATE INDEX IF NOT EXISTS ix_{TABLE}_hnsw ON {TABLE} USING hnsw (v halfvec_cosine_ops) "
    "WITH (m = 16, ef_construction = 64)",
)
_SEARCH = text(
    f"""SELECT q.i, n.seq, n.sim
    FROM unnest(CAST(:qs AS text[])) WITH ORDINALITY AS q(t, i)
    CROSS JOIN LATERAL (
        SELECT a.seq, 1 - (a.v <=> CAST(q.t AS halfvec)) AS sim
        FROM {TABLE} a ORDER BY a.v <=> CAST(q.t AS halfvec) LIMIT :k
    ) n"""
)
_INSERT = text(f"INSERT INTO {TABLE} (seq, v) VALUES (:seq, CAST(:v AS halfvec))")
_DELETE = text(f"DELETE FROM {TABLE} WHERE seq = ANY(CAST(:seqs AS bigint[]))")
EF_SEARCH_MAX = 1000  # pgvector's bound on hnsw.ef_search


def choice() -> str:
    """``STORYLINE_ANN``: ``auto`` (default: pgvector where the server has it), ``pgvector``
    (the same, with a warning where it cannot be had) or ``usearch`` (in process)."""
    value = os.environ.get("STORYLINE_ANN", "auto").strip().lower()
    if value not in ("auto", "pgvector", "usearch"):
        log.warning("STORYLINE_ANN=%s is not auto, pgvector or usearch; using auto", value)
        return "auto"
    return value


def enable(conn: Connection) -> bool:
    """Whether this store's vectors go to pgvector: its table is there, or the extension is
    installed or can be (``CREATE EXTENSION`` needs a superuser or a trusted extension), is
    0.7 or newer (``halfvec``), and the table is made now. Asked at each link, under the link
    lock (two linkers never create the table at once): one round trip."""
    wanted = choice()
    if wanted == "usearch":
        return False
    if conn.execute(text("SELECT to_regclass(:t) IS NOT NULL"), {"t": TABLE}).scalar_one():
        return True
    if _create(conn):
        log.info("ANN index: in pgvector (table %s)", TABLE)
        return True
    if wanted == "pgvector":
        log.warning(
            "STORYLINE_ANN=pgvector, but this server has no usable pgvector; ANN in process"
        )
    return False


def _create(conn: Connection) -> bool:
    row = conn.execute(
        text("SELECT installed_version FROM pg_available_extensions WHERE name = 'vector'")
    ).first()
    if row is None:
        return False
    try:
        with conn.begin_nested():  # a failed CREATE must not abort the link transaction
            if row.installed_version is None:
                conn.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
            for ddl in _CREATE:
                conn.execute(text(ddl))
    except DBAPIError as exc:
        msg = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
        log.warning("pgvector is on the server but cannot be used here (%s); ANN in process", msg)
        return False
    return True


def _literal(vec: np.ndarray) -> str:
    # nine significant digits give every float32 back exactly (the server rounds to half)
    return "[" + ",".join(f"{x:.9g}" for x in np.asarray(vec, dtype=np.float32).tolist()) + "]"


class PgVectorIndex:
    """:class:`~storyline.link.embed.VectorIndex`'s interface over ``article_vectors``, bound to
    the link transaction's connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def __len__(self) -> int:
        return int(self.conn.execute(text(f"SELECT count(*) FROM {TABLE}")).scalar_one())

    def sync(self, n_rows: int, load_all: Callable[[], tuple[np.ndarray, np.ndarray]]) -> None:
        """Fill the table from ``embeddings`` when they disagree: a store linked before
        pgvector was there, or by a process that used the in-process index."""
        if len(self) == n_rows:
            return
        log.info("filling %s from %d stored vectors", TABLE, n_rows)
        self.conn.execute(text(f"TRUNCATE {TABLE}"))
        keys, vecs = load_all()
        self.add(keys, vecs)

    def remove(self, keys: np.ndarray) -> None:
        if len(keys):
            self.conn.execute(_DELETE, {"seqs": [int(k) for k in keys]})

    def add(self, keys: np.ndarray, vecs: np.ndarray) -> None:
        rows = [{"seq": int(k), "v": _literal(v)} for k, v in zip(keys, vecs, strict=True)]
        for start in range(0, len(rows), 5000):
            self.conn.execute(_INSERT, rows[start : start + 5000])

    def search(
        self, vecs: np.ndarray, k: int, ef: int | None = None
    ) -> list[list[tuple[int, float]]]:
        """For each query vector, up to ``k`` (seq, cosine similarity) pairs, best first (ties
        by seq). One statement for the whole batch. ``ef``: the HNSW search breadth
        (``hnsw.ef_search``; benchmarks/ann_recall.py tries several)."""
        out: list[list[tuple[int, float]]] = [[] for _ in range(len(vecs))]
        if not len(vecs) or k <= 0:
            return out
        # an HNSW scan returns at most ef_search rows. On 30k stored vectors (halfvec),
        # recall@41 against exact search: 0.984-0.9995 at 41, 0.999-0.9995 at 100 (3.5 ms a
        # query), 0.999-0.9996 at 400 (5.4 ms)
        if ef is None:
            ef = max(100, 2 * k)
        breadth = str(min(EF_SEARCH_MAX, ef))
        self.conn.execute(text("SELECT set_config('hnsw.ef_search', :ef, true)"), {"ef": breadth})
        rows = self.conn.execute(_SEARCH, {"qs": [_literal(v) for v in vecs], "k": k})
        for i, seq, sim in rows:
            out[i - 1].append((int(seq), float(sim)))
        return [sorted(row, key=lambda h: (-h[1], h[0])) for row in out]

    def save(self) -> None:
        """Nothing to do: the rows were written in the link transaction."""
