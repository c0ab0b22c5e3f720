"""Does adding a batch get slower as the store grows? Time adding 1,000 articles at 10k/100k/1M.

    pip install matplotlib   # benchmark-time only, not a package dependency
    python benchmarks/scale.py ../shared/benchmarks/gva-incidents \
        --timeline17 ../shared/benchmarks/timeline17 --work /tmp/scale \
        --sizes 10000,100000,1000000 [--db postgresql://...] [--plot docs/scale.png]

How the big stores are made (annotating 1M articles at ~20 articles/s is out of reach):

1. a *pool* of real articles (default 400 gva-incidents + 100 Timeline17) goes through the real
   pipeline (``ingest(..., link=True)``) into ``WORK/pool.db`` once (cached);
2. the store under test is grown to each size by inserting *generations* of copies of the
   pool. A copy gets a fresh id, source key and content hash, its pub_date (and its timexes,
   event mentions and events) shifted by one random number of days per generation (up to
   +-15 years), and names perturbed: entities get fresh ids and a generation suffix glued to
   their last word ("Smith" -> "Smithkalo": no longer a whole-word match for the surname
   look-up), so the store holds ever more distinct people and places, except countries and
   governments, which every generation shares (so the events of "country:us" pile up in every
   week as the store grows, as they would in reality, and the event blocking must cope with
   that density); multi-word ``name`` link keys and all MinHash LSH band keys are re-keyed per
   generation, single-word name keys that are common in the pool (>= 5% of it: "police",
   "chicago") are kept, so their document frequency grows with the store as it would in
   reality; vectors get Gaussian noise (cosine ~0.9 to the original).
   Copied: articles (text cut to its first 500 characters: the linker reads a stored
   article's features from ``embeddings``, never its text), mentions, timexes, event_mentions,
   embeddings, link_keys, entities, events, and the blocking rows the linker looks up
   (event_actors, re-bucketed for the shifted dates; person_keys of the renamed people;
   key_df counts of the name keys). Not copied: quotes (the linker reads only the batch's own;
   utterances are matched in the ``utterances`` table), sentences, relations, utterances,
   stories, and the SQLite full-text index (none is read by the linker's candidate look-ups);
   that keeps a copy at ~46 KB on SQLite. Since copies share no entity with the new articles,
   the benchmark does not exercise stories that grow with the store (see docs/scaling.md).
   On SQLite (``--grow sql``, the default) the copies are made inside SQLite by ``grow_sql``:
   one ``INSERT INTO t SELECT ... FROM gens CROSS JOIN tpl_t`` per table per ~25k articles,
   with the id, seq, date and name changes as SQL expressions (``SQL_OVERRIDES``,
   ``sql_shift``), journaling off, secondary indexes dropped during growth and rebuilt after
   it. Row layout (``--layout``): ``time`` (default) writes the dated tables (articles and
   their per-article rows, events) in day order within each growth transaction, as a store fed
   chronologically lays them out (SQLite keeps a table in rowid order, which is creation
   order); ``key`` writes every table in primary-key order (random hex ids: the rows of one
   week land on as many pages as there are generations, the worst case, as if the archive had
   been loaded in random order). 4.6x faster than the Python rows it replaces at 100k
   (164 s against 749 s; 1M in ~47 min on 2 loaded cores, 18 min of it CREATE INDEX)
   (``grow``/``generation``, SQLAlchemy executemany: ~150 articles/s; still used for
   PostgreSQL, ``--grow rows``). Checked on a 5k store grown both ways from the same pool
   (same generation dates): identical row counts in every table and per generation for every
   per-article table, identical pub_dates/seqs/titles, event dates and seqs, timex values,
   event-mention dates, event_actors (bucket, family, dated, day_lo, day_hi) rows, entity
   names, non-LSH link keys, key_df counts and person_keys, and identical joins (mentions ->
   entity name, event mentions -> event date, event_actors -> event date and entity name);
   vectors at cosine 0.895 (mean) to the pool's. Growth and the ANN rebuild run in a forked
   child, so their memory is not in the peak RSS reported for the measurement;
3. after growing, the ANN index is rebuilt once from the table (reported apart);
4. ``--batches`` (default 2) batches of 1,000 NEW real articles each (not in the pool; each
   800 gva + 200 Timeline17), extracted and annotated once up front (that per-article work
   does not depend on the store; its time is printed once), are added one after the other to
   a *copy* of the grown store: ``Store.add_articles`` (write) then ``storyline.link.link_new``
   (link), each timed, one result per batch. Batch 1 meets the page cache that the growth left
   behind; batch 2 a store already in use (the pages batch 1 read are cached, as in a store
   that takes batches all day). The copy is thrown away, so every size measures the same
   batches against a store that has never seen them. The LAST size
   is measured IN PLACE (on the grown store itself; nothing is measured after it) when a copy
   would leave under 6 GB of disk free (``--in-place auto``, the default; ``last``: always;
   ``never``); the table and JSON say which (``measured``).
   Story grouping (``tell.stories.link_stories``, the last step of ``link_new``) is timed with
   the rest; ``--story-sample N`` runs it on a sample of N touched events and extrapolates
   (it was needed while its look-up scanned the events table);
5. ``--replay``: one more batch is held out and, after the others, added twice inside a
   transaction that is rolled back (``replay``; the store is left as it was): r1 reads what
   it needs from the store as it stands, r2 finds every page it reads cached. r1 - r2 is the
   time spent waiting for the disk; r2 is the link code's own cost at that size. Each batch's
   MB read from disk during linking is in the JSON (``read_mb``, from /proc/self/io).

Prints a table (size, batch, write s, link s, link s per 1,000, ratio to the same batch at the
smallest size, growth s,
store size on disk, peak RSS) and writes it as JSON (``--json``) and the curve as a PNG
(``--plot``, needs matplotlib). Not a test: figures depend on the machine and its load.
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
# per-article rows the copies get: not quotes (the linker reads only the batch's own quotes;
# utterances are matched in the utterances table, which copies do not fill either)
COPIED = ("mentions", "timexes", "event_mentions", "embeddings", "link_keys")
TEXT_KEPT = 500  # characters of a copy's text: the linker never reads a stored article's text
SHARED_TYPES = (
    "COUNTRY",
    "GOV",
)  # the same countries in every generation: their events pile up  # blocking rows of the copied events, people
RESERVE_MB = 6 * 1024  # disk to keep free: the last size is measured in place below this
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
                "text": a["text"][:TEXT_KEPT],
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
                for name in ("entities", "events", "articles", *COPIED, *PER_GENERATION):
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


# -- growing in SQL (SQLite) ------------------------------------------------------------------

# Every column is copied as is unless listed here (template row X, generation G, id maps A/E/V).
SQL_OVERRIDES: dict[str, dict[str, str]] = {
    "articles": {
        "id": "A.new",
        "seq": "G.seq0 + X.rn",
        "source": "'synthetic:' || G.g",
        "record": "X.rn - 1",
        "source_key": "'synthetic:' || G.g || '#' || (X.rn - 1)",
        "content_hash": "hid(G.g, X.content_hash, 64)",
        "supersedes": "NULL",
        "pub_date": "{shift:X.pub_date}",
        "batch_id": "NULL",
        "cluster_id": "A.new",
        "text": f"substr(X.text, 1, {TEXT_KEPT})",
    },
    "mentions": {"id": None, "article_id": "A.new", "entity_id": "coalesce(E.new, X.entity_id)"},
    "timexes": {
        "id": None,
        "article_id": "A.new",
        "value": "{shift:X.value}",
        "end_value": "{shift:X.end_value}",
    },
    "quotes": {
        "id": "hid(G.g, X.id, 40)",
        "article_id": "A.new",
        "speaker_id": "coalesce(E.new, X.speaker_id)",
        "utterance_id": "NULL",
    },
    "event_mentions": {
        "id": "hid(G.g, X.id, 40)",
        "article_id": "A.new",
        "date": "{shift:X.date}",
        "date_end": "{shift:X.date_end}",
        "event_id": "coalesce(V.new, X.event_id)",
    },
    "embeddings": {"article_id": "A.new", "vector": "noisy(X.vector)"},
    "link_keys": {
        "article_id": "A.new",
        "key": "CASE WHEN X.kind = 'lsh' THEN substr(X.key, 1, 2) || hid(G.g, X.key, 16)"
        " WHEN X.key IN (SELECT key FROM tpl_common) THEN X.key"
        " ELSE substr(X.key || ' ' || G.tok, 1, 80) END",
    },
    "entities": {"id": "E.new", "name": "X.name || G.tok", "aliases": "'[]'"},
    "events": {
        "id": "V.new",
        "seq": "G.ev_seq0 + X.rn",
        "date": "{shift:X.date}",
        "date_end": "{shift:X.date_end}",
        "actors": "actors(G.g, X.actors)",
        "story_id": "NULL",
        "status_history": "'[]'",
    },
}
# which id maps a table's rows join (LEFT JOIN: ids the map lacks, like shared countries, stay)
SQL_JOINS = {
    "articles": "JOIN amap A ON A.g = G.g AND A.old = X.id",
    "mentions": "JOIN amap A ON A.g = G.g AND A.old = X.article_id"
    " LEFT JOIN emap E ON E.g = G.g AND E.old = X.entity_id",
    "timexes": "JOIN amap A ON A.g = G.g AND A.old = X.article_id",
    "quotes": "JOIN amap A ON A.g = G.g AND A.old = X.article_id"
    " LEFT JOIN emap E ON E.g = G.g AND E.old = X.speaker_id",
    "event_mentions": "JOIN amap A ON A.g = G.g AND A.old = X.article_id"
    " LEFT JOIN vmap V ON V.g = G.g AND V.old = X.event_id",
    "embeddings": "JOIN amap A ON A.g = G.g AND A.old = X.article_id",
    "link_keys": "JOIN amap A ON A.g = G.g AND A.old = X.article_id",
    "entities": "JOIN emap E ON E.g = G.g AND E.old = X.id",
    "events": "JOIN vmap V ON V.g = G.g AND V.old = X.id",
}


def sql_shift(col: str) -> str:
    """``shift_value`` in SQLite: a full date moves by G.days, a year (or month) by G.years.

    Checked against ``shift_value`` on every timex, event and article date of the pool
    (``check_grown``): the same values, except that SQLite's ``date()`` reads an impossible
    day ("2011-02-30") as the next month where Python keeps the value as it was.
    """
    d8 = "[0-9]" * 4 + "-[0-9][0-9]-[0-9][0-9]*"
    return (
        f"CASE WHEN {col} GLOB '{d8}' THEN coalesce(date(substr({col}, 1, 10), G.dmod)"
        f" || substr({col}, 11), {col})"
        f" WHEN {col} GLOB '[0-9][0-9][0-9][0-9]*' THEN"
        f" printf('%04d', CAST(substr({col}, 1, 4) AS INTEGER) + G.years) || substr({col}, 5)"
        f" ELSE {col} END"
    )


def sql_select(conn: Any, table: str, over: dict[str, str | None] | None = None) -> tuple[str, str]:
    """(column list, select list) for copying ``table`` from its template ``tpl_<table>``."""
    cols = [r[1] for r in conn.execute(f"PRAGMA main.table_info({table})")]
    over = SQL_OVERRIDES.get(table, {}) if over is None else over
    names, exprs = [], []
    for c in cols:
        e = over.get(c, f"X.{c}")
        if e is None:
            continue
        m = re.fullmatch(r"\{shift:(.+)\}", e)
        names.append(f'"{c}"')
        exprs.append(sql_shift(m[1]) if m else e)
    return ", ".join(names), ", ".join(exprs)


def _hid(g: int, s: str | None, width: int) -> str | None:
    if s is None:
        return None
    return hashlib.blake2b(f"{g}\0{s}".encode(), digest_size=32).hexdigest()[:width]


class _Udfs:
    """Python functions the growth SQL calls: vector noise and the events' actor lists."""

    def __init__(self, private: set[str], seed: int) -> None:
        self.private = private
        self.rng = np.random.default_rng(seed)

    def noisy(self, blob: bytes) -> bytes:
        v = np.frombuffer(blob, dtype="<f4")
        v = v + self.rng.normal(0, 0.5 / np.sqrt(len(v)), len(v)).astype(np.float32)
        return (v / np.linalg.norm(v)).astype("<f4").tobytes()

    def actors(self, g: int, s: str | None) -> str:
        ids = json.loads(s) if s else []
        if not ids:
            return "[]"
        return json.dumps([_hid(g, x, 40) if x in self.private else x for x in ids])


def _template(conn: Any, pool_n: int) -> dict[str, Any]:
    """Temp copies of the pool's tables with their row numbers; the pool's ids for the maps."""
    from storyline.link.events import BUCKET_DAYS

    x = conn.execute
    x(
        "CREATE TEMP TABLE tpl_articles AS SELECT row_number() OVER (ORDER BY rowid) AS rn, *"
        " FROM pool.articles"
    )
    x("CREATE UNIQUE INDEX temp.ix_tpl_articles ON tpl_articles(id)")
    for name in PER_ARTICLE:
        x(
            f"CREATE TEMP TABLE tpl_{name} AS SELECT a.rn AS arn, julianday(a.pub_date) AS aday,"
            f" t.* FROM pool.{name} t"
            f" JOIN tpl_articles a ON a.id = t.article_id ORDER BY t.rowid"
        )
    x("CREATE TEMP TABLE tpl_entities AS SELECT * FROM pool.entities ORDER BY rowid")
    x(  # eday: the event's day (its date, else its first report's): the time layout's key
        "CREATE TEMP TABLE tpl_events AS SELECT row_number() OVER (ORDER BY rowid) AS rn, *,"
        " coalesce(julianday(substr(e.date || '-01-01', 1, 10)), (SELECT min(julianday(a.pub_date))"
        " FROM pool.event_mentions m JOIN pool.articles a ON a.id = m.article_id"
        " WHERE m.event_id = e.id), 0) AS eday FROM pool.events e"
    )
    # the blocking rows less their buckets (re-bucketed per generation)
    x(
        "CREATE TEMP TABLE tpl_event_actors AS SELECT DISTINCT event_id, entity_id, family, dated,"
        " day_lo, day_hi FROM pool.event_actors ORDER BY event_id, entity_id, day_lo"
    )
    span = x(
        f"SELECT coalesce(max(day_hi / {BUCKET_DAYS} - day_lo / {BUCKET_DAYS}), 0) + 2"
        " FROM tpl_event_actors WHERE day_lo != 0"
    ).fetchone()[0]
    x("CREATE TEMP TABLE nums (k INTEGER PRIMARY KEY)")
    conn.executemany("INSERT INTO nums VALUES (?)", [(k,) for k in range(span + 1)])
    x("CREATE TEMP TABLE tpl_common (key TEXT PRIMARY KEY)")
    for t in ("amap", "emap", "vmap"):
        x(f"CREATE TEMP TABLE {t} (g INTEGER, old TEXT, new TEXT, PRIMARY KEY (g, old))")
    x(
        "CREATE TEMP TABLE gens (g INTEGER PRIMARY KEY, days INTEGER, dmod TEXT, years INTEGER,"
        " tok TEXT, seq0 INTEGER, ev_seq0 INTEGER, keep INTEGER)"
    )
    ph = ", ".join("?" * len(SHARED_TYPES))
    ents = x("SELECT id, name, type FROM tpl_entities").fetchall()
    return {
        "articles": [r[0] for r in x("SELECT id FROM tpl_articles ORDER BY rn")],
        "events": [r[0] for r in x("SELECT id FROM tpl_events ORDER BY rn")],
        "private": [e[0] for e in ents if e[2] not in SHARED_TYPES],
        "persons": [(e[0], e[1]) for e in ents if e[2] == "PERSON"],
        "shared_sql": f"type IN ({ph})",
    }


# ``--layout time``: the rows of these tables are written in the order of their (shifted) day,
# as a store fed chronologically lays them out (rowid order is creation order), instead of in
# primary-key order (random hex ids: every generation's rows of one week on distinct pages)
_ARTICLE_DAY = "G.days + coalesce(X.aday, 0), G.g, X.arn, X.rowid"
TIME_ORDER = {
    "articles": "G.days + coalesce(julianday(X.pub_date), 0), G.g, X.rn",
    "mentions": _ARTICLE_DAY,
    "timexes": _ARTICLE_DAY,
    "event_mentions": _ARTICLE_DAY,
    "embeddings": _ARTICLE_DAY,
    "events": "G.days + X.eday, G.g, X.rn",
}


def _row_order(conn: Any, table: str, cols: str, layout: str) -> str:
    if layout == "time" and table in TIME_ORDER:
        return f" ORDER BY {TIME_ORDER[table]}"
    return _pk_order(conn, table, cols)


def _pk_order(conn: Any, table: str, cols: str) -> str:
    """``ORDER BY`` the primary key's positions in the insert's column list ("" if rowid)."""
    names = [c.strip('"') for c in cols.split(", ")]
    info = sorted((r[5], r[1]) for r in conn.execute(f"PRAGMA main.table_info({table})") if r[5])
    pos = [str(names.index(c) + 1) for _, c in info if c in names]
    return f" ORDER BY {', '.join(pos)}" if pos else ""


def grow_sql(
    path: Path,
    pool_db: Path,
    t: dict[str, Any],
    target: int,
    per_tx: int = 125_000,
    layout: str = "time",
) -> float:
    """``grow`` done inside SQLite: ``INSERT INTO t SELECT ... FROM template x generations``.

    The same rows as ``grow`` (``generation``), per table and generation, with the same
    perturbations: ids fresh per generation (blake2b of generation and pool id, through small
    per-transaction id maps, so that every table refers to the same new ids), dates shifted in
    SQL (``sql_shift``), and only three things done in Python: vector noise and the events'
    JSON actor lists (SQL functions), and the renamed people's ``person_keys`` rows
    (``person_key_rows``, executemany). Growth runs with ``journal_mode=OFF`` and
    ``synchronous=OFF`` (a crash mid-growth leaves a broken store: throw it away) and a 4 GB
    page cache; the secondary indexes of the grown tables are dropped while it runs and made
    again (``CREATE INDEX``, by sorting) before it returns, and rows are inserted in primary-key
    order (``layout="key"``): random-key inserts into big indexes were what made growth slow
    down with the size; ``layout="time"`` writes the dated tables (``TIME_ORDER``) in day order
    within each transaction instead, as a chronologically fed store lays them out.
    The primary keys (random hex ids) stay, so each transaction still merges into every page
    of them: a transaction's cost grows with the store, hence big ones (``per_tx`` articles).
    The store goes back to WAL afterwards. Time includes the index rebuild.
    """
    import sqlite3

    from storyline.link.entities import person_key_rows
    from storyline.link.events import BUCKET_DAYS, WIDE, WIDE_LO

    t0 = time.perf_counter()
    conn = sqlite3.connect(str(path), isolation_level=None)
    x = conn.execute
    x("PRAGMA journal_mode=OFF")
    x("PRAGMA synchronous=OFF")
    x("PRAGMA cache_size=-4000000")  # 4 GB
    x("PRAGMA temp_store=MEMORY")
    x(f"ATTACH DATABASE '{pool_db}' AS pool")
    pool_n = x("SELECT count(*) FROM pool.articles").fetchone()[0]
    tpl = _template(conn, pool_n)
    udf = _Udfs(set(tpl["private"]), seed=target)
    conn.create_function("hid", 3, _hid, deterministic=True)
    conn.create_function("noisy", 1, udf.noisy)
    conn.create_function("actors", 2, udf.actors, deterministic=True)
    conn.executemany("INSERT INTO tpl_common VALUES (?)", [(k,) for k in sorted(t["common"])])
    sql = {}
    for name in ("articles", *COPIED):
        cols, sel = sql_select(conn, name)
        where = "X.rn <= G.keep" if name == "articles" else "X.arn <= G.keep"
        sql[name] = (
            f"INSERT INTO main.{name} ({cols}) SELECT {sel} FROM gens G CROSS JOIN tpl_{name} X"
            f" {SQL_JOINS[name]} WHERE {where}{_row_order(conn, name, cols, layout)}"
        )
    for name in ("entities", "events"):
        cols, sel = sql_select(conn, name)
        sql[name] = (
            f"INSERT INTO main.{name} ({cols}) SELECT {sel} FROM gens G CROSS JOIN tpl_{name} X"
            f" {SQL_JOINS[name]}{_row_order(conn, name, cols, layout)}"
        )
    lo, hi = "(X.day_lo + G.days)", "(X.day_hi + G.days)"
    wide = f"X.day_lo = {WIDE_LO}"
    sql["event_actors"] = (
        "INSERT OR IGNORE INTO main.event_actors (event_id, entity_id, bucket, family, dated,"
        " day_lo, day_hi) SELECT coalesce(V.new, X.event_id), coalesce(E.new, X.entity_id),"
        f" CASE WHEN {wide} THEN {WIDE} ELSE {lo} / {BUCKET_DAYS} + N.k END, X.family, X.dated,"
        f" CASE WHEN {wide} THEN X.day_lo ELSE {lo} END,"
        f" CASE WHEN {wide} THEN X.day_hi ELSE {hi} END"
        " FROM gens G CROSS JOIN tpl_event_actors X"
        " LEFT JOIN vmap V ON V.g = G.g AND V.old = X.event_id"
        " LEFT JOIN emap E ON E.g = G.g AND E.old = X.entity_id"
        f" JOIN nums N ON N.k <= CASE WHEN {wide} THEN 0"
        f" ELSE {hi} / {BUCKET_DAYS} - {lo} / {BUCKET_DAYS} END ORDER BY 1, 2, 3"
    )
    # key_df: df += the number of new articles that carry each (re-keyed) name key
    key = SQL_OVERRIDES["link_keys"]["key"]
    sql["key_df"] = (
        f"INSERT INTO main.key_df (kind, key, df) SELECT 'name', {key},"
        " count(DISTINCT G.g * 1000000 + X.arn) FROM gens G CROSS JOIN tpl_link_keys X"
        " WHERE X.kind = 'name' AND X.arn <= G.keep GROUP BY 2 ORDER BY 2"
        " ON CONFLICT (kind, key) DO UPDATE SET df = df + excluded.df"
    )
    cols, sel = sql_select(conn, "entities", {"aliases": "'[]'"})
    x(  # one United States for all generations
        f"INSERT OR IGNORE INTO main.entities ({cols}) SELECT {sel} FROM tpl_entities X"
        f" WHERE {tpl['shared_sql']}",
        SHARED_TYPES,
    )
    grown = ("articles", *COPIED, "entities", "events", "event_actors", "person_keys", "key_df")
    ph = ", ".join("?" * len(grown))
    indexes = x(  # the pool's schema, so that a run stopped during growth gets them back too
        "SELECT name, sql FROM pool.sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        f" AND tbl_name IN ({ph})",
        grown,
    ).fetchall()
    for name, _ in indexes:
        x(f"DROP INDEX IF EXISTS main.{name}")
    n = x("SELECT count(*) FROM main.articles").fetchone()[0]
    rng = random.Random(n)
    spent: dict[str, float] = defaultdict(float)
    while n < target:
        t1 = time.perf_counter()
        seq = x("SELECT coalesce(max(seq), 0) FROM main.articles").fetchone()[0]
        ev_seq = x("SELECT coalesce(max(seq), 0) FROM main.events").fetchone()[0]
        x("BEGIN")
        for m in ("gens", "amap", "emap", "vmap"):
            x(f"DELETE FROM {m}")
        gens, maps, pkeys = [], {"amap": [], "emap": [], "vmap": []}, []
        done = 0
        while done < per_tx and n + done < target:
            g = seq // pool_n + 1 + done // pool_n
            days = rng.randint(-15 * 365, 15 * 365)
            tok = token(g).lower()
            keep = min(pool_n, target - n - done)
            gens.append((g, days, f"{days:+d} days", days // 365, tok, seq + done, ev_seq, keep))
            ev_seq += len(tpl["events"])
            maps["amap"] += [(g, a, _hid(g, a, len(a))) for a in tpl["articles"]]
            maps["emap"] += [(g, e, _hid(g, e, 40)) for e in tpl["private"]]
            maps["vmap"] += [(g, e, _hid(g, e, 40)) for e in tpl["events"]]
            for eid, name in tpl["persons"]:
                rows = person_key_rows(_hid(g, eid, 40), name + tok)
                pkeys += [(r["key"], r["entity_id"], r["name"]) for r in rows]
            done += keep
        x_many = conn.executemany
        x_many("INSERT INTO gens VALUES (?, ?, ?, ?, ?, ?, ?, ?)", gens)
        for m, rows in maps.items():
            x_many(f"INSERT INTO {m} VALUES (?, ?, ?)", rows)
        spent["python"] += time.perf_counter() - t1
        for name in ("entities", "events", "articles", *COPIED, "event_actors", "key_df"):
            t1 = time.perf_counter()
            x(sql[name])
            spent[name] += time.perf_counter() - t1
        t1 = time.perf_counter()
        pkeys.sort()
        x_many("INSERT INTO main.person_keys (key, entity_id, name) VALUES (?, ?, ?)", pkeys)
        x("COMMIT")
        spent["person_keys"] += time.perf_counter() - t1
        n += done
        log.info("  grown to %d articles (%.0f s, in SQL)", n, time.perf_counter() - t0)
    t1 = time.perf_counter()
    for _, ddl in indexes:
        x(ddl)
    spent["indexes"] += time.perf_counter() - t1
    log.info("  growth seconds by step: %s", {k: round(v) for k, v in spent.items()})
    x("DETACH DATABASE pool")
    x("PRAGMA journal_mode=WAL")
    conn.close()
    return time.perf_counter() - t0


def sync_index(store: Any) -> float:
    """Bring the ANN index in line with the bulk-loaded vectors (a one-off rebuild; with
    pgvector, filling its table)."""
    from storyline.link.articles import vector_index

    t0 = time.perf_counter()
    with store.transaction() as conn:
        index, _n = vector_index(store, conn)
    index.save()
    return time.perf_counter() - t0


def grow_and_sync(
    backend: Any, pool_db: Path, t: dict[str, Any], size: int, sql: bool, layout: str = "time"
) -> tuple:
    """Grow the store to ``size`` and rebuild its ANN index file: (grow s, index s)."""
    if sql:
        grow_s = grow_sql(backend.path, pool_db, t, size, layout=layout)
        store = backend.open()
    else:
        store = backend.open()
        grow_s = grow(store, t, size)
    index_s = sync_index(store)
    store.close()
    return grow_s, index_s


def in_child(fn: Any, *args: Any) -> Any:
    """Run ``fn(*args)`` in a forked process, so that its memory (the growth's 4 GB page cache,
    the ANN rebuild's vectors) does not count in the peak RSS reported for the measurement."""
    import multiprocessing as mp
    import traceback

    ctx = mp.get_context("fork")
    q = ctx.Queue()

    def run() -> None:
        try:
            q.put(("ok", fn(*args)))
        except BaseException:
            q.put(("error", traceback.format_exc()))

    p = ctx.Process(target=run)
    p.start()
    how, out = q.get()
    p.join()
    if how != "ok":
        raise RuntimeError(f"{fn.__name__} failed in its child process:\n{out}")
    return out


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
        from sqlalchemy.engine import make_url

        self.url = url
        self.parsed = make_url(url)  # a URL may carry a query (?host=/socket/dir)
        self.db = self.parsed.database

    def _url(self, database: str, driver: str = "postgresql") -> str:
        url = self.parsed.set(drivername=driver, database=database)
        return url.render_as_string(hide_password=False)

    def open(self) -> Any:
        from storyline.store import open_store

        return open_store(self.url)

    def _admin(self, sql: str) -> None:
        from sqlalchemy import create_engine, text

        eng = create_engine(
            self._url("postgres", "postgresql+psycopg"), isolation_level="AUTOCOMMIT"
        )
        with eng.connect() as c:
            c.execute(text(sql))
        eng.dispose()

    def copy(self, grown: Any = None) -> Any:
        from storyline.store import open_store

        if grown is not None:
            grown.engine.dispose()
        db = self.db
        self._admin(f"DROP DATABASE IF EXISTS {db}_measure")
        self._admin(f"CREATE DATABASE {db}_measure TEMPLATE {db}")
        return open_store(self._url(f"{db}_measure"))

    def drop_copy(self, store: Any) -> None:
        store.close()
        store.engine.dispose()
        self._admin(f"DROP DATABASE IF EXISTS {self.db}_measure")

    def size_mb(self, store: Any) -> float:
        from sqlalchemy import text

        with store.read() as conn:
            return (
                conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
                / 2**20
            )


def measure(
    backend: Any,
    grown: Any,
    batches: list[list],
    sample: int,
    in_place: bool = False,
    held_out: list | None = None,
) -> list[dict[str, Any]]:
    """Add the batches of new articles one after the other to a copy of the grown store (or to
    the store itself, ``in_place``: the last size, when nothing is measured after it): write,
    then link, each timed, one result per batch. The first batch meets the page cache the
    growth left; the next ones the pages their predecessors read, as in a running store.
    ``held_out``: one more batch, then added twice by :func:`replay` (left out of the store)."""
    from storyline.link import link_new

    if in_place:
        store = grown
    elif isinstance(backend, PostgresBackend):
        store = backend.copy(grown)
    else:
        store = backend.copy()
    out = []
    try:
        sync_s = sync_index(store)  # a copied store's index is loaded once, outside the timing
        for rnd, items in enumerate(batches, 1):
            vectors = passage_vectors(items)
            added, write_s = timed_write(store, items, f"scale-bench-{rnd}")
            stories = StorySampler(sample)
            steps, mb0 = StepTimer(), read_mb()
            t0 = time.perf_counter()
            with steps.patched():
                if sample:
                    with stories.patched():
                        link_new(store, added, vectors=vectors)
                else:  # story grouping run whole, inside the timing
                    link_new(store, added, vectors=vectors)
            link_s = time.perf_counter() - t0 - stories.sample_s
            out.append(
                {
                    "round": rnd,
                    "added": len(added),
                    "write_s": write_s,
                    "link_s": link_s,
                    "read_mb": read_mb() - mb0,
                    "load_index_s": sync_s,
                    "story_events": stories.n_events,
                    "story_sample": stories.n_sampled,
                    "stories_est_s": stories.estimate_s(),
                    "steps": {k: round(v, 2) for k, v in steps.spent.items()},
                }
            )
            log.info(
                "  batch %d: write %.1f s, link %.1f s %s", rnd, write_s, link_s, out[-1]["steps"]
            )
        for k in (1, 2) if held_out else ():
            out.append({"round": len(batches) + k, "replay": k, **replay(store, held_out)})
            log.info("  replay %d: link %.1f s %s", k, out[-1]["link_s"], out[-1]["steps"])
    finally:
        if not in_place:
            backend.drop_copy(store)
    return out


def passage_vectors(items: list) -> dict[str, Any]:
    """The batch's passage vectors, as the ingest's workers hand them to the linker (computed
    outside the timing)."""
    from storyline.link import embed

    arts = [a for a, _ann in items]
    vecs = embed.passage_vectors([embed.passage(a.title, a.text) for a in arts])
    return {a.id: v for a, v in zip(arts, vecs, strict=True)}


def timed_write(store: Any, items: list, name: str) -> tuple[list[str], float]:
    """``Store.add_articles`` in one transaction: (ids added, seconds)."""
    batch = store.start_batch([name])
    t0 = time.perf_counter()
    with store.transaction() as conn:
        added = store.add_articles(conn, items, batch)
    return added, time.perf_counter() - t0


def read_mb() -> float:
    """Bytes this process has read from disk so far (Linux), in MB; 0 where unknown."""
    try:
        with open("/proc/self/io") as f:
            return next(int(x.split()[1]) for x in f if x.startswith("read_bytes")) / 2**20
    except (OSError, StopIteration):
        return 0.0


def replay(store: Any, items: list) -> dict[str, Any]:
    """Add and link a batch inside one transaction that is then rolled back, so that the
    store is left as it was and the same batch can be added again (``--replay``).

    The first replay reads what it needs from the store as it stands (like any new batch);
    the second finds every page it reads cached: the gap between them is disk reads, and
    the second is what the link code itself costs at that size. Each of the link stage's
    transactions becomes a savepoint of the outer one; the ANN index file is not written,
    and the replayed vectors are taken out of the in-memory index afterwards."""
    from contextlib import contextmanager, nullcontext

    from sqlalchemy import select

    from storyline.link import embed, link_new
    from storyline.store import BATCH_CACHE, schema

    vectors = passage_vectors(items)
    conn = store.engine.connect()
    outer = conn.begin()
    if store.dialect == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    @contextmanager
    def savepoint() -> Any:
        with conn.begin_nested():
            conn.info.pop(BATCH_CACHE, None)
            yield conn

    save = embed.VectorIndex.save
    store.transaction, store.read = savepoint, lambda: nullcontext(conn)
    embed.VectorIndex.save = lambda self: None
    seqs: list[int] = []
    try:
        added, write_s = timed_write(store, items, "scale-bench-replay")
        steps, mb0 = StepTimer(), read_mb()
        t0 = time.perf_counter()
        with steps.patched():
            link_new(store, added, vectors=vectors)
        link_s = time.perf_counter() - t0
        mb = read_mb() - mb0
        a = schema.articles
        seqs = [r.seq for r in conn.execute(select(a.c.seq).where(a.c.id.in_(added)))]
    finally:
        outer.rollback()
        conn.close()
        del store.transaction, store.read  # the class's methods again
        embed.VectorIndex.save = save
        embed.index_for(store.location, store.dialect).remove(seqs)
    return {
        "added": len(added),
        "write_s": write_s,
        "link_s": link_s,
        "read_mb": mb,
        "steps": {k: round(v, 2) for k, v in steps.spent.items()},
    }


class StepTimer:
    """Seconds per step of ``link_new`` (articles, entities, events, dating, utterances,
    stories), by wrapping the functions it calls; the JSON keeps them as ``steps``."""

    STEPS = {
        "storyline.link": ("link_articles",),
        "storyline.link.entities": ("link_entities",),
        "storyline.link.events": ("link_events",),
        "storyline.link.dating": ("date_articles",),
        "storyline.link.utterances": ("link_utterances",),
        "storyline.tell.stories": ("link_stories",),
    }

    def __init__(self) -> None:
        self.spent: dict[str, float] = defaultdict(float)

    def patched(self) -> Any:
        import importlib
        from contextlib import contextmanager

        def timed(name: str, fn: Any) -> Any:
            def run(*a: Any, **k: Any) -> Any:
                t0 = time.perf_counter()
                try:
                    return fn(*a, **k)
                finally:
                    self.spent[name] += time.perf_counter() - t0

            return run

        @contextmanager
        def ctx() -> Any:
            saved = []
            for mod, names in self.STEPS.items():
                m = importlib.import_module(mod)
                for n in names:
                    saved.append((m, n, getattr(m, n)))
                    setattr(m, n, timed(n, getattr(m, n)))
            try:
                yield
            finally:
                for m, n, fn in saved:
                    setattr(m, n, fn)

        return ctx()


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


def _series(r: dict) -> tuple[str, int, int, int]:
    """What a result is compared with across sizes: backend, batch size, batch number, replay."""
    return r["backend"], r["added"], r.get("round", 1), r.get("replay", 0)


def _result_key(r: dict) -> tuple:
    return (*_series(r), r["size"])


def _batch_label(r: dict) -> str:
    return f"r{r['replay']}" if r.get("replay") else str(r.get("round", 1))


def print_table(results: list[dict]) -> str:
    head = (
        f"{'backend':10} {'articles':>9} {'batch':>5} {'#':>2} {'write s':>8} {'link s':>8} "
        f"{'stories s*':>10} {'link/1k s':>9} {'x smallest':>10} {'grow s':>7} {'index s':>7} "
        f"{'disk MB':>8} {'RSS MB':>7} {'load':>5} measured"
    )
    lines = [head]
    base: dict[tuple, float] = {}  # per backend, batch size, batch number and replay
    for r in results:
        per_k = r["link_s"] * 1000 / max(1, r["added"])
        key = _series(r)
        base.setdefault(key, per_k)
        lines.append(
            f"{r['backend']:10} {r['size']:9,} {r['added']:5} {_batch_label(r):>2} "
            f"{r['write_s']:8.1f} "
            f"{r['link_s']:8.1f} {r.get('stories_est_s', 0):10.1f} {per_k:9.1f} "
            f"{per_k / base[key]:10.2f} {r['grow_s']:7.0f} {r['index_s']:7.1f} "
            f"{r['disk_mb']:8.0f} {r['rss_mb']:7.0f} {r.get('load', 0):5.1f} "
            f"{r.get('measured', 'copy')}"
        )
    lines.append(
        "#: the batch's place in the sequence added at that size (1: the first after growth; "
        "r1, r2: --replay, as the store stands and with every page cached); "
        "link s: link_new whole (story grouping included, unless --story-sample: then without it, "
        "and stories s* is story grouping extrapolated from that sample); "
        "grow s: growth from the previous size; load: 1-min load average at the end; "
        "measured: on a copy of the grown store, or in place (the grown store itself)"
    )
    return "\n".join(lines)


def plot(results: list[dict], png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, n, rnd, rep in dict.fromkeys(map(_series, results)):
        rs = [r for r in results if _series(r) == (name, n, rnd, rep)]
        xs = [r["size"] for r in rs]
        k = 1000 / n
        tag = f"{name}, batch {rnd}"
        if rep:
            tag = f"{name}, replay {rep}" + (" (all cached)" if rep == 2 else "")
        ax.plot(xs, [k * r["link_s"] for r in rs], "o-", label=f"{tag}: link")
        sampled = any(r.get("stories_est_s") for r in rs)
        ax.plot(
            xs,
            [k * (r["write_s"] + r["link_s"] + r.get("stories_est_s", 0)) for r in rs],
            "s--",
            label=f"{tag}: write + link" + (" + stories (est.)" if sampled else ""),
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
    ap.add_argument(
        "--grow",
        choices=("sql", "rows"),
        default="sql",
        help="sql: grow a SQLite store inside SQLite (grow_sql); rows: Python rows + executemany"
        " (grow; always used for PostgreSQL)",
    )
    ap.add_argument(
        "--in-place",
        choices=("auto", "last", "never"),
        default="auto",
        help="measure the last size on the grown store itself instead of a copy: auto (when a"
        " copy would leave under 6 GB free), last (always), never",
    )
    ap.add_argument(
        "--batches",
        type=int,
        default=2,
        help="batches of --new articles added one after the other at each size (the first"
        " meets the cache the growth left, the next ones a store already in use)",
    )
    ap.add_argument(
        "--layout",
        choices=("time", "key"),
        default="time",
        help="SQLite growth: write the dated tables in day order (time: as a chronologically"
        " fed store) or in primary-key order (key: random hex ids)",
    )
    ap.add_argument(
        "--replay",
        action="store_true",
        help="hold out one more batch and add it twice at each size inside a transaction that"
        " is rolled back: the first time as the store stands, the second with every page it"
        " reads cached (the link code's own cost, disk reads apart)",
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
    g_new, t_new = g[args.pool - tshare :], t[tshare:]
    new_rows = []
    n_batches = args.batches + args.replay  # the replayed batch is held out from the others
    for k in range(n_batches):  # each batch: the same mix (800 gva + 200 Timeline17)
        new_rows += g_new[k * (args.new - nshare) : (k + 1) * (args.new - nshare)]
        new_rows += t_new[k * nshare : (k + 1) * nshare]
    write_jsonl(pool_rows, args.work / "pool.jsonl")
    write_jsonl(new_rows, args.work / "new.jsonl")
    build_pool(args.work / "pool.db", args.work / "pool.jsonl")
    cache = args.work / ("new.pkl" if n_batches == 1 else f"new-x{n_batches}.pkl")
    items, ann_s = annotate_new(args.work / "new.jsonl", cache, args.workers)
    log.info("%d new articles; extract + annotate took %.0f s (once)", len(items), ann_s)
    per = len(items) // n_batches
    batches = [items[k * per : (k + 1) * per] for k in range(n_batches)]
    batches = [b[: args.batch] for b in batches] if args.batch else batches
    held_out = batches.pop() if args.replay else None
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
    sizes = [int(s) for s in args.sizes.split(",")]
    grow_total = 0.0
    for size in sizes:
        store = backend.open()
        have = store.count()
        if have > size:
            log.warning("store already holds %d > %d articles; skipping that size", have, size)
            store.close()
            continue
        store.close()
        sql = isinstance(backend, SqliteBackend) and args.grow == "sql"
        grow_s, index_s = in_child(
            grow_and_sync, backend, args.work / "pool.db", tmpl, size, sql, args.layout
        )
        grow_total += grow_s
        store = backend.open()
        disk = backend.size_mb(store)
        log.info("size %d: grown in %.0f s, ANN index synced in %.1f s", size, grow_s, index_s)
        last = size == sizes[-1]
        free_mb = shutil.disk_usage(args.work).free / 2**20
        fits = free_mb - disk > RESERVE_MB
        in_place = last and (args.in_place == "last" or (args.in_place == "auto" and not fits))
        if not fits and not in_place:
            log.warning(
                "a copy of %.0f MB leaves under %d MB free; measuring anyway", disk, RESERVE_MB
            )
        log.info(
            "size %d: measuring %s (%.0f MB free, store %.0f MB)",
            size,
            "IN PLACE (the grown store itself, not a copy)" if in_place else "on a copy",
            free_mb,
            disk,
        )
        rounds = measure(backend, store, batches, args.story_sample, in_place, held_out)
        store.close()
        for r in rounds:
            r.update(
                backend=backend.name,
                size=size,
                grow_s=grow_s,
                grow_total_s=grow_total,
                grow_method="sql" if sql else "rows",
                layout=args.layout if sql else "insertion",
                measured="in place" if in_place else "copy",
                index_s=index_s,
                disk_mb=disk,
                rss_mb=peak_rss_mb(),
                grow_rss_mb=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                annotate_s=ann_s,
                load=os.getloadavg()[0],
            )
            log.info("size %d: %s", size, r)
            results = [x for x in results if _result_key(x) != _result_key(r)]
            results.append(r)
        results.sort(key=lambda x: (x["backend"], x.get("round", 1), x["size"]))
        if args.json:
            args.json.write_text(json.dumps(results, indent=1))
        print(print_table(results), flush=True)
    if args.plot and results:
        plot(results, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
