"""Vector neighbours: recall and cost of the two ANN indexes, side by side on the same vectors.

    python benchmarks/ann_recall.py --vectors STORE.db --db postgresql://.../empty_db \\
        [--n 30000] [--queries 200] [--k 41] [--ef 41,100,400]

Reads ``--n + --queries`` article vectors from a Storyline SQLite store (``--vectors``; random
unit vectors without it: a worst case for HNSW), indexes the first ``--n`` in the in-process
usearch index and, with ``--db`` (an EMPTY database on a server with pgvector: the script
creates ``article_vectors`` there), in pgvector, then prints each one's recall@k against an
exact search of the remaining ``--queries`` vectors, and the time per insert and per query.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np
from sqlalchemy import text

from storyline.link import embed, pgvector
from storyline.store import open_store


def load(path: Path | None, n: int) -> np.ndarray:
    if path is None:
        rng = np.random.default_rng(0)
        return rng.standard_normal((n, embed.DIM)).astype(np.float32)
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    rows = con.execute("SELECT vector FROM embeddings LIMIT ?", (n,)).fetchall()
    if len(rows) < n:
        sys.exit(f"{path} holds {len(rows)} vectors; --n + --queries need {n}")
    return np.stack([embed.from_blob(r[0]) for r in rows])


def recall(found: list[list[tuple[int, float]]], exact: np.ndarray) -> float:
    k = exact.shape[1]
    return float(
        np.mean(
            [
                len({s for s, _ in r} & set(e.tolist())) / k
                for r, e in zip(found, exact, strict=True)
            ]
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--vectors", type=Path, help="a Storyline SQLite store to take vectors from")
    ap.add_argument("--db", help="an empty PostgreSQL database on a server with pgvector")
    ap.add_argument("--n", type=int, default=30_000, help="vectors indexed")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--k", type=int, default=41, help="neighbours per query (the linker: 41)")
    ap.add_argument("--ef", default="41,100,400", help="pgvector hnsw.ef_search values tried")
    args = ap.parse_args()

    vecs = load(args.vectors, args.n + args.queries)
    base, queries = vecs[: args.n], vecs[args.n :]
    keys = np.arange(args.n, dtype=np.uint64)
    nb = base / np.linalg.norm(base, axis=1, keepdims=True)
    nq = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    exact = np.argsort(-(nq @ nb.T), axis=1)[:, : args.k]
    print(f"{args.n} vectors indexed, {args.queries} queries, recall@{args.k} against exact search")
    print(f"{'index':<24} {'recall':>7} {'ms/insert':>10} {'ms/query':>9}")

    index = embed.VectorIndex(None)
    t = time.perf_counter()
    index.add(keys, base)  # one thread, as the linker's batches
    ins = (time.perf_counter() - t) / args.n * 1e3
    t = time.perf_counter()
    found = index.search(queries, args.k)
    q_ms = (time.perf_counter() - t) / args.queries * 1e3
    print(f"{'usearch (in process)':<24} {recall(found, exact):>7.4f} {ins:>10.2f} {q_ms:>9.2f}")

    if not args.db:
        return
    store = open_store(args.db)
    with store.transaction() as conn:
        if conn.execute(text("SELECT count(*) FROM articles")).scalar_one():
            sys.exit(f"{args.db} holds articles: give an empty database")
        if not pgvector.enable(conn):
            sys.exit(f"{args.db}: no pgvector on this server (or STORYLINE_ANN=usearch)")
        conn.execute(text(f"TRUNCATE {pgvector.TABLE}"))
        t = time.perf_counter()
        pgvector.PgVectorIndex(conn).add(keys, base)
        ins = (time.perf_counter() - t) / args.n * 1e3
    for ef in [int(x) for x in args.ef.split(",")]:
        with store.transaction() as conn:
            t = time.perf_counter()
            got = pgvector.PgVectorIndex(conn).search(queries, args.k, ef=ef)
            q_ms = (time.perf_counter() - t) / args.queries * 1e3
        name = f"pgvector ef_search {ef}"
        print(f"{name:<24} {recall(got, exact):>7.4f} {ins:>10.2f} {q_ms:>9.2f}")
    store.close()


if __name__ == "__main__":
    main()
