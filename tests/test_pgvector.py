"""The ANN index inside PostgreSQL (pgvector), on a real server with the extension."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from sqlalchemy import text

from storyline.link import embed, pgvector
from storyline.store import open_store

pytestmark = pytest.mark.postgres


def _vectors(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, embed.DIM)).astype(np.float32)


def _exact(base: np.ndarray, queries: np.ndarray, k: int) -> list[list[int]]:
    nb = base / np.linalg.norm(base, axis=1, keepdims=True)
    nq = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    return np.argsort(-(nq @ nb.T), axis=1)[:, :k].tolist()


def test_the_index_lives_in_the_store_and_finds_the_nearest_vectors(pgvector_url):
    s = open_store(pgvector_url)
    base, queries = _vectors(400, 1), _vectors(30, 2)
    try:
        with s.transaction() as conn:
            assert pgvector.enable(conn)
            index = pgvector.PgVectorIndex(conn)
            index.add(np.arange(400, dtype=np.uint64), base)
            assert len(index) == 400
        with s.transaction() as conn:
            index = pgvector.PgVectorIndex(conn)
            found = index.search(queries, 10)
            half = base.astype(np.float16).astype(np.float32)  # as stored: halfvec
            q_half = queries.astype(np.float16).astype(np.float32)
            assert [[seq for seq, _ in row] for row in found] == _exact(half, q_half, 10)
            for row, q in zip(found, queries, strict=True):  # cosine similarity, best first
                sims = [sim for _, sim in row]
                assert sims == sorted(sims, reverse=True)
                top = base[row[0][0]]
                cos = float(q @ top / np.linalg.norm(q) / np.linalg.norm(top))
                assert row[0][1] == pytest.approx(cos, abs=2e-3)  # half precision
            # a stored vector is its own nearest neighbour, until it is removed
            assert index.search(base[7:8], 1)[0][0][0] == 7
            index.remove(np.asarray([7], dtype=np.uint64))
            assert all(seq != 7 for seq, _ in index.search(base[7:8], 20)[0])
            assert len(index) == 399
        # vectors written by a batch that rolls back are gone with it
        with pytest.raises(RuntimeError), s.transaction() as conn:
            pgvector.PgVectorIndex(conn).add(np.asarray([1000], dtype=np.uint64), base[:1])
            raise RuntimeError("the batch fails")
        with s.read() as conn:
            assert len(pgvector.PgVectorIndex(conn)) == 399
    finally:
        s.close()


def test_a_table_behind_the_embeddings_is_refilled_from_them(pgvector_url):
    s = open_store(pgvector_url)
    base = _vectors(50, 3)
    try:
        with s.transaction() as conn:
            assert pgvector.enable(conn)
            index = pgvector.PgVectorIndex(conn)
            index.add(np.arange(10, dtype=np.uint64), base[:10])  # behind: 10 of 50
            index.sync(50, lambda: (np.arange(50, dtype=np.uint64), base))
            assert len(index) == 50
            assert index.search(base[42:43], 1)[0][0][0] == 42
            index.sync(50, lambda: pytest.fail("in step: nothing to read"))
    finally:
        s.close()


def test_storyline_ann_usearch_keeps_the_index_in_process(pgvector_url, monkeypatch):
    monkeypatch.setenv("STORYLINE_ANN", "usearch")
    s = open_store(pgvector_url)
    try:
        with s.transaction() as conn:
            assert not pgvector.enable(conn)
            assert conn.execute(text("SELECT to_regclass('article_vectors')")).scalar() is None
    finally:
        s.close()


def test_a_server_without_pgvector_keeps_the_index_in_process(pg_url, monkeypatch, caplog):
    from conftest import _fresh_pg

    _fresh_pg(pg_url)
    s = open_store(pg_url)
    try:
        with s.transaction() as conn:
            has = conn.execute(
                text("SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'")
            ).scalar()
            if has:
                pytest.skip("this server has pgvector")
            assert not pgvector.enable(conn)
            assert conn.execute(text("SELECT to_regclass('article_vectors')")).scalar() is None
            assert "pgvector" not in caplog.text  # auto: nothing to warn about
            monkeypatch.setenv("STORYLINE_ANN", "pgvector")  # asked for: say it is not there
            assert not pgvector.enable(conn)
            assert "STORYLINE_ANN=pgvector" in caplog.text
    finally:
        s.close()


@pytest.mark.model
def test_linking_on_pgvector_gives_the_same_chronicle_as_sqlite(pgvector_url, demo_export):
    """Whichever index finds the vector neighbours, the sample corpus links the same."""
    from conftest import DEMO

    from storyline.export import build_document
    from storyline.pipeline import ingest

    s = open_store(pgvector_url)
    try:
        ingest(s, [str(DEMO)], progress=False)
        doc = json.loads(json.dumps(build_document(s)))
        with s.read() as conn:
            n_vec = conn.execute(text("SELECT count(*) FROM article_vectors")).scalar()
            n_emb = conn.execute(text("SELECT count(*) FROM embeddings")).scalar()
    finally:
        s.close()
    assert n_vec == n_emb == len(demo_export["articles"])
    # no file index for this store: the vectors went to the database only
    assert not os.path.exists(embed.index_path(pgvector_url, "postgresql"))

    def comparable(d: dict) -> dict:
        return {k: v for k, v in d.items() if k not in ("ingested_at", "batch_id", "source")}

    for part in ("events", "quotes", "entities", "stories"):
        assert [comparable(x) for x in doc[part]] == [comparable(x) for x in demo_export[part]], (
            part
        )
