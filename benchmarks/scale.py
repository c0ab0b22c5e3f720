"""Does adding a batch get slower as the store grows? Time adding 1,000 articles at 10k/100k/1M.

    pip install matplotlib   # benchmark-time only, not a package dependency
    python benchmarks/scale.py ../shared/benchmarks/gva-incidents \
        --timeline17 ../shared/benchmarks/timeline17 --work /tmp/scale \
        --sizes 10000,100000 [--db postgresql://...] [--plot docs/scale.png]

How the big stores are made (annotating 1M articles at ~20 articles/s is out of reach):

1. a *pool* of real articles (default 400 gva-incidents + 100 Timeline17) goes through the real
   pipeline (``ingest(..., link=True)``) into ``WORK/pool.db`` once (cached);
2. the store under test is grown to each size by bulk-inserting *generations* of copies of the
   pool with SQLAlchemy Core ``insert`` executemany, one transaction per ~10k articles. A copy
   gets a fresh id, source key and content hash, its pub_date (and its timexes, event mentions
   and events) shifted by one random number of days per generation (up to +-15 years), and
   names perturbed: entities get fresh ids and a generation suffix glued to their last word
   ("Smith" -> "Smithkalo": no longer a whole-word match for the surname look-up), so the store
   holds ever more distinct people and places, except countries and governments, which every
   generation shares (so the events of "country:us" pile up in every week as the store grows,
   as they would in reality, and the event blocking must cope with that density); multi-word ``name`` link keys and all MinHash
   LSH band keys are re-keyed per generation, single-word name keys that are common in the
   pool (>= 5% of it: "police", "chicago") are kept, so their document frequency grows with the
   store as it would in reality; vectors get Gaussian noise (cosine ~0.9 to the original).
   Copied: articles, mentions, timexes, quotes, event_mentions, embeddings, link_keys, entities,
   events, and the blocking rows the linker looks up (event_actors, re-bucketed for the shifted
   dates; person_keys of the renamed people; key_df counts of the name keys). Not copied:
   sentences, relations, utterances, stories, and the SQLite full-text index (none is read by
   the linker's candidate look-ups). Since copies share no entity with the new articles, the
   benchmark does not exercise stories that grow with the store (see docs/scaling.md);
3. after growing, the ANN index is synced once (a rebuild from the table, reported apart);
4. 1,000 NEW real articles (not in the pool; default 800 gva + 200 Timeline17), extracted and
   annotated once up front (that per-article work does not depend on the store; its time is
   printed once), are added to a *copy* of the grown store: ``Store.add_articles`` (write)
   then ``storyline.link.link_new`` (link), each timed. The copy is thrown away, so every size
   measures the same 1,000 articles against a store that has never seen them.
   Story grouping (``tell.stories.link_stories``, the last step of ``link_new``) is timed with
   the rest; ``--story-sample N`` runs it on a sample of N touched events and extrapolates
   (it was needed while its look-up scanned the events table).

Prints a table (size, write s, link s, link s per 1,000, ratio to the smallest size, store size
on disk, peak RSS) and writes it as JSON (``--json``) and the curve as a PNG (``--plot``,
needs matplotlib). Not a test: figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import pickle
import random
import re
import resource
import shutil
import sys
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger("scale")

PER_ARTICLE = ("mentions", "timexes", "quotes", "event_mentions", "embeddings", "link_keys")
PER_GENERATION = ("event_actors", "person_keys")
SHARED_TYPES = (
    "COUNTRY",
    "GOV",
)  # the same countries in every generation: their events pile up  # blocking rows of the copied events, people
SYLLABLES = ["ka", "lo", "mi", "ra", "ten", "vos", "dru", "pel", "sin", "gor", "ba", "zet"]
FULL_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
YEAR = re.compile(r"^(\d{4})")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_rows(gva: Path, t17: Path | None) -> tuple[list[dict], list[dict]]:
    """Benchmark articles as ingest-ready rows: gva-incidents ("ok" quality) and Timeline17."""
    g = []
    with open(gva / "docs.jsonl", encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            if d.get("quality") == "ok":
                g.append(
                    {
                        "text": d["text"],
                        "title": d["title"],
                        "date": d["date"],
                        "url": d["url"],
                        "outlet": d.get("outlet"),
                    }
                )
    t = []
    if t17 is not None:
        for topic in sorted(p for p in t17.iterdir() if p.is_dir()):
            with open(topic / "articles.jsonl", encoding="utf-8") as fh:
                for line in fh:
                    d = json.loads(line)
                    if d.get("text", "").strip():
                        t.append({"text": d["text"], "date": d["time"], "outlet": d.get("outlet")})
        random.Random(7).shuffle(t)  # every topic in any prefix
    return g, t


def write_jsonl(rows: list[dict], path: Path) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r) + "\n")


def build_pool(path: Path, data: Path) -> None:
    """The real pipeline, once: the template that the big stores are copied from."""
    from storyline.pipeline import ingest
    from storyline.store import open_store

    if path.exists():
        log.info("reusing pool %s", path)
        return
    tmp = path.with_suffix(".building.db")
    for p in tmp.parent.glob(tmp.name + "*"):
        p.unlink()
    store = open_store(tmp)
    t0 = time.perf_counter()
    rep = ingest(store, [str(data)], link=True, progress=False)
    store.close()
    log.info(
        "pool: %d articles annotated + linked in %.0f s", len(rep.added), time.perf_counter() - t0
    )
    tmp.rename(path)


def annotate_new(data: Path, cache: Path, workers: int) -> tuple[list, float]:
    """Extract + annotate the new articles once (store-independent work), cached on disk."""
    if cache.exists():
        with open(cache, "rb") as fh:
            return pickle.load(fh)
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    from storyline.pipeline import _init_worker, chunks, process_docs
    from storyline.read import Failure, iter_docs

    raws = [r for r in iter_docs([str(data)]) if not isinstance(r, Failure)]
    t0 = time.perf_counter()
    ctx = mp.get_context("forkserver")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker) as pool:
        parts = list(pool.map(process_docs, list(chunks(raws, 16))))
    secs = time.perf_counter() - t0
    items = [x for part in parts for x in part if not isinstance(x, Failure)]
    with open(cache, "wb") as fh:
        pickle.dump((items, secs), fh)
    return items, secs


# -- the template and its copies ---------------------------------------------------------------


def read_template(pool_db: Path) -> dict[str, Any]:
    """Everything the copies need from the pool store, in memory."""
    from sqlalchemy import select

    from storyline.store import open_store, schema

    store = open_store(pool_db, read_only=True)
    t: dict[str, Any] = {}
    with store.read() as conn:
        t["articles"] = [dict(r) for r in conn.execute(select(schema.articles)).mappings()]
        for name in PER_ARTICLE:
            by: dict[str, list[dict]] = defaultdict(list)
            for r in conn.execute(select(schema.TABLES[name])).mappings():
                row = dict(r)
                if name in ("mentions", "timexes"):
                    row.pop("id")  # autoincrement
                by[row["article_id"]].append(row)
            t[name] = by
        t["entities"] = [dict(r) for r in conn.execute(select(schema.entities)).mappings()]
        t["events"] = [dict(r) for r in conn.execute(select(schema.events)).mappings()]
        blocks: dict[str, set[tuple]] = defaultdict(set)  # event -> its blocking rows, less buckets
        ea = schema.event_actors
        for r in conn.execute(select(ea)):
            blocks[r.event_id].add((r.entity_id, r.family, r.dated, r.day_lo, r.day_hi))
        t["event_actors"] = blocks
    store.close()
    n = len(t["articles"])
    df: dict[str, int] = defaultdict(int)
    for rows in t["link_keys"].values():
        for r in rows:
            if r["kind"] == "name":
                df[r["key"]] += 1
    t["common"] = {k for k, c in df.items() if " " not in k and c >= max(2, 0.05 * n)}
    return t


def token(g: int) -> str:
    """A pronounceable, unique surname for generation ``g``."""
    out, x = "", g + 1
    while x:
        x, d = divmod(x, len(SYLLABLES))
        out += SYLLABLES[d]
    return out.capitalize()


def shift_value(value: str | None, days: int) -> str | None:
    """Shift an ISO-ish date value by ``days`` (a full date) or whole years (a year or month)."""
    if not value:
        return value
    m = FULL_DATE.match(value)
    if m:
        try:
            d = date(int(m[1]), int(m[2]), int(m[3])) + timedelta(days=days)
        except ValueError:
            return value
        return d.isoformat() + value[10:]
    m = YEAR.match(value)
    if m:
        return f"{int(m[1]) + days // 365:04d}{value[4:]}"
    return value


def new_id(old: str, g: int, width: int) -> str:
    return hashlib.md5(f"{g}\0{old}".encode()).hexdigest()[:width]


def generation(t: dict[str, Any], g: int, seq0: int, ev_seq0: int, rng: random.Random) -> dict:
    """Rows for one perturbed copy of the pool: {table: [row, ...]}."""
    days = rng.randint(-15 * 365, 15 * 365)
    tok = token(g)
    ent = {
        e["id"]: e["id"] if e["type"] in SHARED_TYPES else new_id(e["id"], g, 40)
        for e in t["entities"]
    }
    evm = {e["id"]: new_id(e["id"], g, 40) for e in t["events"]}
    out: dict[str, list[dict]] = defaultdict(list)
    for e in t["entities"]:
        if e["type"] in SHARED_TYPES:  # one United States for all generations (grow() adds it once)
            out["entities"].append({**e, "aliases": []})
            continue
        out["entities"].append(
            {**e, "id": ent[e["id"]], "name": e["name"] + tok.lower(), "aliases": []}
        )
    for i, e in enumerate(t["events"]):
        out["events"].append(
            {
                **e,
                "id": evm[e["id"]],
                "seq": ev_seq0 + i + 1,
                "date": shift_value(e["date"], days),
                "date_end": shift_value(e["date_end"], days),
                "actors": [ent.get(x, x) for x in e["actors"] or []],
                "story_id": None,
                "status_history": [],
            }
        )
    from storyline.link.entities import person_key_rows
    from storyline.link.events import WIDE_LO, buckets

    for e in out["entities"]:
        if e["type"] == "PERSON":
            out["person_keys"].extend(person_key_rows(e["id"], e["name"]))
    for eid, rows in t["event_actors"].items():
        for entity, fam, dated, lo, hi in rows:
            if lo != WIDE_LO:
                lo, hi = lo + days, hi + days
            for b in buckets(lo, hi):
                out["event_actors"].append(
                    {
                        "event_id": evm.get(eid, eid),
                        "entity_id": ent.get(entity, entity),
                        "bucket": b,
                        "family": fam,
                        "dated": dated,
                        "day_lo": lo,
                        "day_hi": hi,
                    }
                )
    nprng = np.random.default_rng(g)
    for i, a in enumerate(t["articles"]):
        old = a["id"]
        aid = new_id(old, g, len(old))
        out["articles"].append(
            {
                **a,
                "id": aid,
                "seq": seq0 + i + 1,
                "source": f"synthetic:{g}",
                "record": i,
                "source_key": f"synthetic:{g}#{i}",
                "content_hash": hashlib.sha256(f"{g}\0{a['content_hash']}".encode()).hexdigest(),
                "supersedes": None,
                "pub_date": shift_value(a["pub_date"], days),
                "batch_id": None,
                "cluster_id": aid,
            }
        )
        for m in t["mentions"].get(old, ()):
            out["mentions"].append(
                {**m, "article_id": aid, "entity_id": ent.get(m["entity_id"], m["entity_id"])}
            )
        for x in t["timexes"].get(old, ()):
            out["timexes"].append(
                {
                    **x,
                    "article_id": aid,
                    "value": shift_value(x["value"], days),
                    "end_value": shift_value(x["end_value"], days),
                }
            )
        for q in t["quotes"].get(old, ()):
            out["quotes"].append(
                {
                    **q,
                    "id": new_id(q["id"], g, 40),
                    "article_id": aid,
                    "speaker_id": ent.get(q["speaker_id"], q["speaker_id"]),
                    "utterance_id": None,
                }
            )
        for m in t["event_mentions"].get(old, ()):
            out["event_mentions"].append(
                {
                    **m,
                    "id": new_id(m["id"], g, 40),
                    "article_id": aid,
                    "date": shift_value(m["date"], days),
                    "date_end": shift_value(m["date_end"], days),
                    "event_id": evm.get(m["event_id"], m["event_id"]),
                }
            )
        for e in t["embeddings"].get(old, ()):
            v = np.frombuffer(e["vector"], dtype="<f4")
            v = v + nprng.normal(0, 0.5 / np.sqrt(len(v)), len(v)).astype(np.float32)
            v = (v / np.linalg.norm(v)).astype("<f4")
            out["embeddings"].append({**e, "article_id": aid, "vector": v.tobytes()})
        for k in t["link_keys"].get(old, ()):
            key = k["key"]
            if k["kind"] == "lsh":
                key = key[:2] + hashlib.blake2b(f"{g}{key}".encode(), digest_size=8).hexdigest()
            elif key not in t["common"]:
                key = f"{key} {tok.lower()}"[:80]
            out["link_keys"].append({"kind": k["kind"], "key": key, "article_id": aid})
    return out


def store_counts(store: Any) -> tuple[int, int]:
    from sqlalchemy import func, select

    from storyline.store import schema

    with store.read() as conn:
        seq = conn.execute(select(func.coalesce(func.max(schema.articles.c.seq), 0))).scalar_one()
        evs = conn.execute(select(func.coalesce(func.max(schema.events.c.seq), 0))).scalar_one()
    return int(seq), int(evs)


def grow(store: Any, t: dict[str, Any], target: int, per_tx: int = 10_000) -> float:
    """Bulk-insert generations of copies until the store holds ``target`` articles."""
    from sqlalchemy import insert, select

    from storyline.link.articles import _count_keys
    from storyline.store import schema

    n = store.count()
    t0 = time.perf_counter()
    rng = random.Random(n)
    shared = [e["id"] for e in t["entities"] if e["type"] in SHARED_TYPES]
    with store.read() as conn:
        et = schema.entities
        have_ids = {r.id for r in conn.execute(select(et.c.id).where(et.c.id.in_(shared)))}
    pool_n = len(t["articles"])
    while n < target:
        seq, ev_seq = store_counts(store)
        with store.transaction() as conn:
            done = 0
            while done < per_tx and n < target:
                g = seq // pool_n + 1 + done // pool_n
                rows = generation(t, g, seq + done, ev_seq, rng)
                ev_seq += len(rows["events"])
                if n + pool_n > target:  # the last generation: only as many as needed
                    keep = {a["id"] for a in rows["articles"][: target - n]}
                    for name in ("articles", *PER_ARTICLE):
                        rows[name] = [
                            r
                            for r in rows[name]
                            if r["article_id" if name != "articles" else "id"] in keep
                        ]
                rows["entities"] = [e for e in rows["entities"] if e["id"] not in have_ids]
                have_ids.update(e["id"] for e in rows["entities"] if e["type"] in SHARED_TYPES)
                for name in ("entities", "events", "articles", *PER_ARTICLE, *PER_GENERATION):
                    if rows[name]:
                        conn.execute(insert(schema.TABLES[name]), rows[name])
                names: dict[str, set[str]] = defaultdict(set)
                for k in rows["link_keys"]:
                    if k["kind"] == "name":
                        names[k["article_id"]].add(k["key"])
                _count_keys(conn, store.dialect, list(names.values()))
                done += len(rows["articles"])
                n += len(rows["articles"])
        log.info("  grown to %d articles (%.0f s)", n, time.perf_counter() - t0)
    return time.perf_counter() - t0


def sync_index(store: Any) -> float:
    """Bring the ANN index in line with the bulk-loaded vectors (a one-off rebuild)."""
    from sqlalchemy import func, select

    from storyline.link import embed
    from storyline.link.articles import _all_vectors
    from storyline.store import schema

    t0 = time.perf_counter()
    index = embed.index_for(store.location, store.dialect)
    with store.read() as conn:
        n = conn.execute(select(func.count()).select_from(schema.embeddings)).scalar_one()
        index.sync(int(n), lambda: _all_vectors(conn))
    index.save()
    return time.perf_counter() - t0


# -- backends: a throw-away copy of the grown store ---------------------------------------------


class SqliteBackend:
    name = "SQLite"

    def __init__(self, path: Path) -> None:
        self.path = path

    def files(self, p: Path) -> list[Path]:
        return [
            Path(str(p) + s) for s in ("", "-wal", "-shm", ".ann.usearch", ".ann.usearch.delta")
        ]

    def open(self) -> Any:
        from storyline.store import open_store

        return open_store(self.path)

    def copy(self) -> Any:
        from storyline.store import open_store

        dst = self.path.with_name("measure.db")
        for s, d in zip(self.files(self.path), self.files(dst), strict=True):
            if d.exists():
                d.unlink()
            if s.exists():
                shutil.copyfile(s, d)
        return open_store(dst)

    def drop_copy(self, store: Any) -> None:
        store.close()
        for d in self.files(self.path.with_name("measure.db")):
            if d.exists():
                d.unlink()

    def size_mb(self, store: Any) -> float:
        return sum(p.stat().st_size for p in self.files(self.path) if p.exists()) / 2**20


class PostgresBackend:
    name = "PostgreSQL"

    def __init__(self, url: str) -> None:
        self.url = url
        self.base = url.rsplit("/", 1)

    def open(self) -> Any:
        from storyline.store import open_store

        return open_store(self.url)

    def _admin(self, sql: str) -> None:
        from sqlalchemy import create_engine, text

        url = "postgresql+psycopg://" + self.base[0].split("://", 1)[1] + "/postgres"
        eng = create_engine(url, isolation_level="AUTOCOMMIT")
        with eng.connect() as c:
            c.execute(text(sql))
        eng.dispose()

    def copy(self, grown: Any = None) -> Any:
        from storyline.store import open_store

        if grown is not None:
            grown.engine.dispose()
        db = self.base[1]
        self._admin(f"DROP DATABASE IF EXISTS {db}_measure")
        self._admin(f"CREATE DATABASE {db}_measure TEMPLATE {db}")
        return open_store(f"{self.base[0]}/{db}_measure")

    def drop_copy(self, store: Any) -> None:
        store.close()
        store.engine.dispose()
        self._admin(f"DROP DATABASE IF EXISTS {self.base[1]}_measure")

    def size_mb(self, store: Any) -> float:
        from sqlalchemy import text

        with store.read() as conn:
            return (
                conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
                / 2**20
            )


def measure(backend: Any, grown: Any, items: list, sample: int) -> dict[str, Any]:
    """Add the new articles to a copy of the grown store: write, then link, each timed."""
    from storyline.link import link_new

    store = backend.copy(grown) if isinstance(backend, PostgresBackend) else backend.copy()
    try:
        sync_s = sync_index(store)  # a copied store's index is loaded once, outside the timing
        batch = store.start_batch(["scale-bench"])
        t0 = time.perf_counter()
        with store.transaction() as conn:
            added = store.add_articles(conn, items, batch)
        write_s = time.perf_counter() - t0
        stories = StorySampler(sample)
        t0 = time.perf_counter()
        if sample:
            with stories.patched():
                link_new(store, added)
        else:  # story grouping run whole, inside the timing
            link_new(store, added)
        link_s = time.perf_counter() - t0 - stories.sample_s
    finally:
        backend.drop_copy(store)
    return {
        "added": len(added),
        "write_s": write_s,
        "link_s": link_s,
        "load_index_s": sync_s,
        "story_events": stories.n_events,
        "story_sample": stories.n_sampled,
        "stories_est_s": stories.estimate_s(),
    }


class StorySampler:
    """Stand-in for ``tell.stories.link_stories`` that runs it on a sample of the events.

    Story grouping costs one ``_near`` query per touched event that returns every event within
    800 days (and every undated one): it grows with the store, so the full run would not finish
    at 100k+. We time it on ``sample`` events and extrapolate linearly to all touched events.
    """

    def __init__(self, sample: int) -> None:
        self.sample = sample
        self.n_events = self.n_sampled = 0
        self.sample_s = 0.0

    def estimate_s(self) -> float:
        return self.sample_s * self.n_events / self.n_sampled if self.n_sampled else 0.0

    def patched(self) -> Any:
        from contextlib import contextmanager

        import storyline.tell.stories as st

        real = st.link_stories

        def sampled(conn: Any, event_ids: Any) -> set[str]:
            ids = sorted(event_ids)
            some = random.Random(0).sample(ids, min(self.sample, len(ids)))
            t0 = time.perf_counter()
            out = real(conn, some)
            self.sample_s += time.perf_counter() - t0
            self.n_events += len(ids)
            self.n_sampled += len(some)
            return out

        @contextmanager
        def ctx() -> Any:
            st.link_stories = sampled
            try:
                yield
            finally:
                st.link_stories = real

        return ctx()


# -- report ---------------------------------------------------------------------------------


def print_table(results: list[dict]) -> str:
    head = (
        f"{'backend':10} {'articles':>9} {'batch':>5} {'write s':>8} {'link s':>8} "
        f"{'stories s*':>10} {'link/1k s':>9} {'x smallest':>10} {'grow s':>7} {'index s':>7} "
        f"{'disk MB':>8} {'RSS MB':>7} {'load':>5}"
    )
    lines = [head]
    base: dict[tuple[str, int], float] = {}  # per backend and batch size
    for r in results:
        per_k = r["link_s"] * 1000 / max(1, r["added"])
        key = (r["backend"], r["added"])
        base.setdefault(key, per_k)
        lines.append(
            f"{r['backend']:10} {r['size']:9,} {r['added']:5} {r['write_s']:8.1f} "
            f"{r['link_s']:8.1f} {r.get('stories_est_s', 0):10.1f} {per_k:9.1f} "
            f"{per_k / base[key]:10.2f} {r['grow_s']:7.0f} {r['index_s']:7.1f} "
            f"{r['disk_mb']:8.0f} {r['rss_mb']:7.0f} {r.get('load', 0):5.1f}"
        )
    lines.append(
        "link s: link_new whole (story grouping included, unless --story-sample: then without it, "
        "and stories s* is story grouping extrapolated from that sample); "
        "load: 1-min load average at the end"
    )
    return "\n".join(lines)


def plot(results: list[dict], png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, n in dict.fromkeys((r["backend"], r["added"]) for r in results):
        rs = [r for r in results if (r["backend"], r["added"]) == (name, n)]
        xs = [r["size"] for r in rs]
        k = 1000 / n
        ax.plot(xs, [k * r["link_s"] for r in rs], "o-", label=f"{name}, {n}/batch: link")
        sampled = any(r.get("stories_est_s") for r in rs)
        ax.plot(
            xs,
            [k * (r["write_s"] + r["link_s"] + r.get("stories_est_s", 0)) for r in rs],
            "s--",
            label=f"{name}, {n}/batch: write + link" + (" + stories (est.)" if sampled else ""),
        )
    ax.set_xscale("log")
    ax.set_xlabel("articles already in the store")
    ax.set_ylabel("seconds per 1,000 articles added")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Cost of adding a batch vs store size (2 cores)")
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("gva", type=Path, help="the gva-incidents folder (docs.jsonl)")
    ap.add_argument("--timeline17", type=Path, help="the Timeline17 folder (mixed in)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/storyline-scale"))
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--pool", type=int, default=500, help="real articles in the template")
    ap.add_argument("--new", type=int, default=1000, help="new real articles timed per size")
    ap.add_argument("--db", help="a postgresql:// URL (default: WORK/store.db, SQLite)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch", type=int, help="time only the first N of the new articles")
    ap.add_argument(
        "--story-sample",
        type=int,
        default=0,
        help="story-link only this many touched events and extrapolate (0: all, timed whole)",
    )
    ap.add_argument("--json", type=Path, help="append the results to this JSON file")
    ap.add_argument("--plot", type=Path, help="draw the curve (all results in --json) here")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    for name in ("storyline", "sentence_transformers", "httpx"):
        logging.getLogger(name).setLevel(logging.WARNING)

    args.work.mkdir(parents=True, exist_ok=True)
    g, t = load_rows(args.gva, args.timeline17)
    tshare = len(t) and args.pool // 5
    pool_rows = g[: args.pool - tshare] + t[:tshare]
    nshare = len(t) and args.new // 5
    new_rows = g[args.pool - tshare : args.pool - tshare + args.new - nshare]
    new_rows += t[tshare : tshare + nshare]
    write_jsonl(pool_rows, args.work / "pool.jsonl")
    write_jsonl(new_rows, args.work / "new.jsonl")
    build_pool(args.work / "pool.db", args.work / "pool.jsonl")
    items, ann_s = annotate_new(args.work / "new.jsonl", args.work / "new.pkl", args.workers)
    log.info("%d new articles; extract + annotate took %.0f s (once)", len(items), ann_s)
    items = items[: args.batch] if args.batch else items
    tmpl = read_template(args.work / "pool.db")
    log.info(
        "template: %d articles, %d mentions, %d entities, %d events",
        len(tmpl["articles"]),
        sum(map(len, tmpl["mentions"].values())),
        len(tmpl["entities"]),
        len(tmpl["events"]),
    )
    if args.db:
        backend: Any = PostgresBackend(args.db)
    else:
        backend = SqliteBackend(args.work / "store.db")
    results = json.loads(args.json.read_text()) if args.json and args.json.exists() else []
    for size in [int(s) for s in args.sizes.split(",")]:
        store = backend.open()
        have = store.count()
        if have > size:
            log.warning("store already holds %d > %d articles; skipping that size", have, size)
            store.close()
            continue
        grow_s = grow(store, tmpl, size)
        index_s = sync_index(store)
        disk = backend.size_mb(store)
        log.info("size %d: grown in %.0f s, ANN index synced in %.1f s", size, grow_s, index_s)
        r = measure(backend, store, items, args.story_sample)
        store.close()
        r.update(
            backend=backend.name,
            size=size,
            grow_s=grow_s,
            index_s=index_s,
            disk_mb=disk,
            rss_mb=peak_rss_mb(),
            annotate_s=ann_s,
            load=os.getloadavg()[0],
        )
        log.info("size %d: %s", size, r)
        same = (r["backend"], size, r["added"])
        results = [x for x in results if (x["backend"], x["size"], x["added"]) != same]
        results.append(r)
        results.sort(key=lambda x: (x["backend"], x["size"]))
        if args.json:
            args.json.write_text(json.dumps(results, indent=1))
        print(print_table(results), flush=True)
    if args.plot and results:
        plot(results, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
