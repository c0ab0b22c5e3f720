"""How long linking 1,000 new articles takes as the store grows (it should not grow with it).

    python benchmarks/link.py --gva ../shared/benchmarks/gva-incidents \
        --timeline17 ../shared/benchmarks/timeline17 --sizes 10000 50000

Texts: gva-incidents and Timeline17 articles concatenated (~11k, shuffled; 1,010 held out for
the measured batches, so no batch meets copies of itself in the store), then repeated with
perturbation: copy k shifts every date by k*5 years (a growing archive keeps its per-day
density), tags every capitalised word with a copy suffix (names stay as rare as in the
original) and drops about a fifth of the sentences (no copy is an exact duplicate).

Fast path to build big stores: articles go in through ``Store.add_articles`` without
annotation; their embeddings, MinHash and blocking keys are written in bulk with the same
functions the linker uses, skipping the pairwise matching that a real ingest would do. Vectors
come from a cheap text-derived stand-in (hashed word counts through a fixed random projection
to 384-d, unit length): similar texts get similar vectors, like the real model, at 1000x the
speed. The measured batches use the same stand-in, so the figures are the linker's own cost;
the model's embedding rate is measured separately and printed, to add (1000 / rate seconds).
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storyline.extract import article_id, content_hash  # noqa: E402
from storyline.link import articles as la  # noqa: E402
from storyline.link import embed  # noqa: E402
from storyline.records import Article  # noqa: E402
from storyline.store import open_store, schema  # noqa: E402

log = logging.getLogger("bench.link")


def base_texts(gva: Path, t17: Path) -> list[dict]:
    out = []
    with (gva / "docs.jsonl").open() as fh:
        for line in fh:
            r = json.loads(line)
            if r["text"].strip():
                out.append({"title": r["title"], "text": r["text"], "date": r["date"]})
    for f in sorted(t17.glob("*/articles.jsonl")):
        with f.open() as fh:
            for line in fh:
                r = json.loads(line)
                if r["text"].strip():
                    out.append({"title": None, "text": r["text"], "date": r["time"]})
    return out


CAP = re.compile(r"\b([A-Z][a-z]+)\b")


def perturb(doc: dict, k: int, rng: random.Random) -> dict:
    if k == 0:
        return doc
    sents = [s for s in re.split(r"(?<=[.!?])\s+", doc["text"]) if s]
    keep = [s for s in sents if rng.random() > 0.2] or sents[:1]
    suffix = "abcdefghij"[k % 10] * (1 + k // 10)
    text = CAP.sub(lambda m: m.group(1) + suffix, " ".join(keep))
    y, rest = doc["date"][:4], doc["date"][4:]
    return {"title": doc["title"], "text": text, "date": f"{int(y) + 5 * k}{rest}"}


class StandInEmbedder:
    """Hashed word counts through a fixed random projection: fast, text-derived vectors."""

    def __init__(self, dim: int = embed.DIM, buckets: int = 2**15) -> None:
        from sklearn.feature_extraction.text import HashingVectorizer

        self.vec = HashingVectorizer(n_features=buckets, alternate_sign=False, norm="l2")
        rng = np.random.default_rng(0)
        self.proj = rng.standard_normal((buckets, dim)).astype(np.float32) / np.sqrt(dim)

    def __call__(self, texts):
        m = self.vec.transform(list(texts))
        v = np.asarray(m @ self.proj, dtype=np.float32)
        return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)


def make_articles(
    docs: list[dict], start: int, n: int, rng: random.Random, prefix: str = "bench"
) -> list[Article]:
    arts = []
    for i in range(start, start + n):
        d = perturb(docs[i % len(docs)], i // len(docs), rng)
        digest = content_hash(d["text"].encode())
        arts.append(
            Article(
                id=article_id(f"{prefix}/{i}", None, digest),
                source=f"{prefix}/{i}",
                content_hash=digest,
                text=d["text"],
                title=d["title"],
                pub_date=d["date"],
                pub_date_source="metadata",
                pub_date_precision="day",
            )
        )
    return arts


def bulk_load(store, arts: list[Article], embedder) -> None:
    """Store articles with vectors and blocking keys, without pairwise matching (fast path)."""
    with store.transaction() as conn:
        ids = store.add_articles(conn, [(a, None) for a in arts])
    keep = {i for i in ids}
    arts = [a for a in arts if a.id in keep]
    vecs = embedder([embed.passage(a.title, a.text) for a in arts])
    emb_rows, key_rows, names = [], [], []
    for a, v in zip(arts, vecs, strict=True):
        sh = la.shingles(a.text)
        mh = la.minhash_of(sh)
        emb_rows.append(
            {
                "article_id": a.id,
                "model": embed.MODEL_NAME,
                "vector": embed.to_blob(v),
                "minhash": mh.astype("<u8").tobytes(),
                "n_shingles": len(sh),
            }
        )
        key_rows += [{"kind": "lsh", "key": k, "article_id": a.id} for k in la.lsh_keys(mh)]
        names.append(la.names_of(a.title, a.text))
        emb_rows[-1].update(terms=la.terms_of(a.text), names=sorted(names[-1]))
        key_rows += [{"kind": "name", "key": n, "article_id": a.id} for n in names[-1]]
    with store.transaction() as conn:
        conn.execute(schema.embeddings.insert(), emb_rows)
        for i in range(0, len(key_rows), 20000):
            conn.execute(schema.link_keys.insert(), key_rows[i : i + 20000])
        la._count_keys(conn, store.dialect, names)  # the names' document frequencies
        la._count_terms(conn, store.dialect, [r["terms"] for r in emb_rows])


def model_rate(docs: list[dict], n: int = 64) -> float:
    texts = [embed.passage(d["title"], d["text"]) for d in docs[:n]]
    embed.embed_texts(texts[:2])  # load
    t = time.perf_counter()
    embed.embed_texts(texts)
    return n / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gva", type=Path, required=True)
    ap.add_argument("--timeline17", type=Path, required=True)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10000, 50000])
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--db", type=Path, default=None, help="Store path (default: a temp dir).")
    ap.add_argument("--no-model", action="store_true", help="Skip measuring the model's rate.")
    ap.add_argument(
        "--profile", action="store_true", help="Print where the last batch's time went."
    )
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    docs = base_texts(args.gva, args.timeline17)
    random.Random(1).shuffle(docs)
    # held-out texts for the measured batches: no copy of them is in the store, so a batch
    # meets a neighbourhood of related stories, not its own earlier copies
    held, docs = docs[: args.batch + 10], docs[args.batch + 10 :]
    rng = random.Random(0)
    print(f"base texts: {len(docs)} (gva-incidents + Timeline17)")
    emb = StandInEmbedder()
    tmp = tempfile.TemporaryDirectory()
    db = args.db or Path(tmp.name) / "bench.db"
    store = open_store(db)
    size = 0
    next_new = 0  # index into the held-out texts (copy k of them for the k-th measurement)
    results = []
    for target in sorted(args.sizes):
        t = time.perf_counter()
        while size < target:
            n = min(5000, target - size)
            bulk_load(store, make_articles(docs, size, n, rng), emb)
            size += n
        build = time.perf_counter() - t
        # warm-up: loads (or lazily rebuilds) the ANN index, as a long-running process would
        warm = make_articles(held, next_new, 10, rng, prefix="warm")
        with store.transaction() as conn:
            store.add_articles(conn, [(a, None) for a in warm])
        t = time.perf_counter()
        la.link_articles(store, [a.id for a in warm], embedder=emb)
        warm_s = time.perf_counter() - t
        batch = make_articles(held, next_new + 10, args.batch, rng, prefix="new")
        next_new += len(held)  # the next measurement uses the next perturbed copy
        with store.transaction() as conn:
            store.add_articles(conn, [(a, None) for a in batch])
        prof = None
        if args.profile and target == max(args.sizes):
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
        t = time.perf_counter()
        counts = la.link_articles(store, [a.id for a in batch], embedder=emb)
        secs = time.perf_counter() - t
        if prof is not None:
            import pstats

            prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(20)
        per_1000 = secs * 1000 / args.batch
        results.append((target, per_1000))
        print(
            f"store {target:>7} articles (built in {build:.0f} s, index load/rebuild "
            f"{warm_s:.1f} s): linking {args.batch} new articles took {secs:.1f} s "
            f"= {per_1000:.1f} s per 1,000; {counts.get('candidates', 0) / args.batch:.1f} "
            f"candidates per article; relations {{{', '.join(f'{k}: {v}' for k, v in counts.items() if k not in ('articles', 'candidates', 'clusters_joined'))}}}"
        )
        size += len(warm) + len(batch)
    if len(results) > 1:
        (s0, r0), (s1, r1) = results[0], results[-1]
        print(f"cost ratio {r1 / r0:.2f} for a {s1 / s0:.0f}x bigger store (1.0 = flat)")
    if not args.no_model:
        rate = model_rate(docs)
        print(
            f"embedding model (all-MiniLM-L6-v2, CPU, title+lead passages): {rate:.1f} passages/s "
            f"= {1000 / rate:.0f} s of CPU per 1,000 articles, spent in the ingest workers "
            "beside the parse, not in the linker"
        )
    store.close()


if __name__ == "__main__":
    main()
