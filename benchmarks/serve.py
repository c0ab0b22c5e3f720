"""Latency of the web app under concurrent clients, on a store of 10,000+ articles.

The articles are real (gva-incidents ``docs.jsonl``, ingested with the fast path: no annotate,
no link; ``--copies 2`` ingests every document twice, the second copy with a marker line, to
pass 10,000). Entities, events, stories, quotes and relations are SYNTHETIC rows inserted
straight into the store's tables (random dates, actors and sources drawn from the real
articles): the link stage's own output is not what is measured here, the serving is.

Then the real ``storyline serve`` runs in a subprocess (uvicorn on 127.0.0.1) and
``--concurrency`` httpx async clients send ``--requests`` requests over the main API endpoints
and pages; p50/p95/max per endpoint are printed.

    python benchmarks/serve.py --gva /work/shared/benchmarks/gva-incidents/docs.jsonl \\
        --db /tmp/serve-bench.db --events 2000 --requests 3000 --concurrency 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

from proctree import tree_cpu  # benchmarks/proctree.py
from sqlalchemy import func, insert, select

from storyline.pipeline import ingest
from storyline.store import open_store, schema

log = logging.getLogger("bench.serve")

TYPES = ["CONSULT", "AGREE", "ACCUSE", "ASSAULT", "PROTEST", "SUPPORT", "REJECT", "INVESTIGATE"]
WORDS = ["shooting", "police", "victim", "suspect", "Chicago", "arrested", "hospital", "night"]


def build_store(db: Path, gva: Path, copies: int) -> int:
    """Ingest the GVA articles ``copies`` times (fast path), returns the article count."""
    store = open_store(db)
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(copies):
            path = Path(tmp) / f"gva-copy{k}.jsonl"
            with open(gva, encoding="utf-8") as src, open(path, "w", encoding="utf-8") as out:
                for line in src:
                    doc = json.loads(line)
                    if k:
                        doc["text"] = doc["text"] + f"\n\n(Republished, copy {k}.)"
                    out.write(json.dumps(doc) + "\n")
            t0 = time.perf_counter()
            report = ingest(store, [str(path)], annotate=False, link=False, progress=False)
            log.info("copy %d: %s in %.0f s", k, report.summary(), time.perf_counter() - t0)
    n = store.count()
    store.close()
    return n


def add_synthetic_links(db: Path, n_events: int, n_stories: int, seed: int = 7) -> None:
    """Entities, stories, events (+ mentions and evidence sentences), quotes, relations."""
    rnd = random.Random(seed)
    store = open_store(db)
    t = schema
    with store.transaction() as conn:
        for table in (t.events, t.stories, t.entities, t.utterances, t.relations):
            conn.execute(table.delete())
        conn.execute(t.event_mentions.delete())
        conn.execute(t.quotes.delete())
        arts = conn.execute(
            select(t.articles.c.id, t.articles.c.outlet, t.articles.c.pub_date, t.articles.c.text)
        ).all()
        ents = [
            {
                "id": f"syn-e{i}",
                "name": f"Actor {i}",
                "type": rnd.choice(["PERSON", "ORG", "GPE"]),
                "country": "US",
                "aliases": [f"A{i}"],
                "mentions": rnd.randint(1, 500),
            }
            for i in range(300)
        ]
        conn.execute(insert(t.entities), ents)
        stories = [
            {
                "id": f"syn-s{i}",
                "seq": i + 1,
                "title": f"Synthetic story {i}",
                "date_start": "2013-01-01",
                "date_end": "2017-12-31",
                "n_events": 0,
                "n_articles": 0,
                "n_outlets": 0,
            }
            for i in range(n_stories)
        ]
        events, mentions, sents = [], [], {}
        for i in range(n_events):
            y, m, d = rnd.randint(2013, 2017), rnd.randint(1, 12), rnd.randint(1, 28)
            srcs = rnd.sample(arts, rnd.randint(1, 4))
            outlets = sorted({a.outlet for a in srcs if a.outlet})
            actors = [e["id"] for e in rnd.sample(ents, rnd.randint(1, 3))]
            sid = f"syn-s{i % n_stories}" if i % 5 else f"syn-s{0}"  # story 0 is the big one
            events.append(
                {
                    "id": f"syn-ev{i}",
                    "seq": i + 1,
                    "type": rnd.choice(TYPES),
                    "mode": None,
                    "title": f"{rnd.choice(WORDS).title()} event {i}",
                    "date": f"{y}-{m:02d}-{d:02d}",
                    "date_end": None,
                    "precision": "day",
                    "status": rnd.choice(["happened"] * 4 + ["planned"]),
                    "status_history": [],
                    "location": None,
                    "lat": None,
                    "lon": None,
                    "actors": actors,
                    "story_id": sid,
                    "n_articles": len(srcs),
                    "n_outlets": len(outlets),
                    "outlets": outlets,
                }
            )
            for a in srcs:
                first = a.text.split("\n", 1)[0][:300] or a.text[:300]
                sents[a.id] = {
                    "article_id": a.id,
                    "idx": 0,
                    "start": 0,
                    "end": len(first),
                    "text": first,
                }
                word = first.split(" ", 1)[0] or "x"
                mentions.append(
                    {
                        "id": f"syn-m{i}-{a.id}",
                        "article_id": a.id,
                        "sentence": 0,
                        "trigger": word,
                        "start": 0,
                        "end": len(word),
                        "type": events[-1]["type"],
                        "mode": None,
                        "status": events[-1]["status"],
                        "actors": [],
                        "targets": [],
                        "location": None,
                        "date": events[-1]["date"],
                        "date_end": None,
                        "precision": "day",
                        "timex": None,
                        "confidence": 1.0,
                        "event_id": f"syn-ev{i}",
                    }
                )
        for s in stories:
            s["n_events"] = sum(1 for e in events if e["story_id"] == s["id"])
        conn.execute(insert(t.stories), stories)
        conn.execute(insert(t.events), events)
        conn.execute(insert(t.event_mentions), mentions)
        conn.execute(t.sentences.delete().where(t.sentences.c.article_id.in_(list(sents))))
        conn.execute(insert(t.sentences), list(sents.values()))
        quotes, utts = [], []
        for u in range(1000):
            ent = rnd.choice(ents)
            utts.append(
                {
                    "id": f"syn-u{u}",
                    "speaker_id": ent["id"],
                    "speaker": ent["name"],
                    "text": f"Statement {u}",
                    "n_quotes": 2,
                }
            )
            for j, a in enumerate(rnd.sample(arts, 2)):
                quotes.append(
                    {
                        "id": f"syn-q{u}-{j}",
                        "article_id": a.id,
                        "sentence": 0,
                        "start": 0,
                        "end": min(40, len(a.text)),
                        "text": a.text[:40],
                        "kind": "direct",
                        "speaker": ent["name"],
                        "speaker_canonical": ent["name"],
                        "speaker_start": None,
                        "speaker_end": None,
                        "addressee": None,
                        "channel": "said",
                        "second_hand": False,
                        "speaker_id": ent["id"],
                        "utterance_id": f"syn-u{u}",
                    }
                )
        conn.execute(insert(t.utterances), utts)
        conn.execute(insert(t.quotes), quotes)
        rels = [
            {
                "article_id": arts[i + len(arts) // 2].id,
                "other_id": arts[i].id,
                "kind": "rewrite_of",
                "score": 0.95,
            }
            for i in range(0, len(arts) // 2, 3)
        ]
        conn.execute(insert(t.relations), rels)
    store.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "storyline",
            "serve",
            "--db",
            str(db),
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(1200):
        try:
            urllib.request.urlopen(url + "/api/stats", timeout=2).read()
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start")


def tree_cpu_seconds(pid: int) -> float | None:
    """User+system CPU of a process and its live descendants (Linux /proc), else None."""
    try:
        return sum(tree_cpu(pid).values())
    except (OSError, ValueError, AttributeError):
        return None


def request_plan(db: Path, n: int, seed: int = 11) -> list[tuple[str, str]]:
    """(label, path) pairs: a fixed mix over the main endpoints and pages."""
    rnd = random.Random(seed)
    store = open_store(db, read_only=True)
    t = schema
    with store.read() as conn:
        art_ids = [r[0] for r in conn.execute(select(t.articles.c.id))]
        ev_ids = [r[0] for r in conn.execute(select(t.events.c.id))]
        ent_ids = [r[0] for r in conn.execute(select(t.entities.c.id))]
        story_ids = [r[0] for r in conn.execute(select(t.stories.c.id))]
        n_art = conn.execute(select(func.count()).select_from(t.articles)).scalar_one()
    store.close()
    makers = [
        ("api/stories", lambda: "/api/stories"),
        ("api/timeline(story)", lambda: f"/api/stories/{rnd.choice(story_ids[1:])}/timeline"),
        ("api/timeline(all,agg)", lambda: "/api/stories/all/timeline"),
        (
            "api/timeline(zoom)",
            lambda: (
                f"/api/stories/all/timeline?since={rnd.randint(2013, 2017)}-0{rnd.randint(1, 9)}-01&until={rnd.randint(2013, 2017)}-12-31"
            ),
        ),
        ("api/events", lambda: f"/api/events?limit=50&offset={rnd.randrange(0, len(ev_ids))}"),
        ("api/events?actor", lambda: f"/api/events?actor={rnd.choice(ent_ids)}"),
        ("api/events/{id}", lambda: f"/api/events/{rnd.choice(ev_ids)}"),
        ("api/articles", lambda: f"/api/articles?limit=50&offset={rnd.randrange(0, n_art)}"),
        ("api/articles/{id}", lambda: f"/api/articles/{rnd.choice(art_ids)}"),
        ("api/quotes", lambda: f"/api/quotes?offset={rnd.randrange(0, 900)}"),
        ("api/entities", lambda: "/api/entities"),
        ("api/entities/{id}", lambda: f"/api/entities/{rnd.choice(ent_ids)}"),
        ("api/search", lambda: f"/api/search?q={rnd.choice(WORDS)}"),
        ("page /", lambda: "/"),
        ("page story", lambda: f"/stories/{rnd.choice(story_ids)}"),
        ("page event", lambda: f"/events/{rnd.choice(ev_ids)}"),
        ("page article", lambda: f"/articles/{rnd.choice(art_ids)}"),
        ("page search", lambda: f"/search?q={rnd.choice(WORDS)}"),
    ]
    return [(label, make()) for label, make in (makers[i % len(makers)] for i in range(n))]


async def run_load(url: str, plan: list[tuple[str, str]], concurrency: int) -> tuple[dict, float]:
    import httpx

    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    for item in plan:
        queue.put_nowait(item)
    times: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            label, path = queue.get_nowait()
            t0 = time.perf_counter()
            try:
                r = await client.get(path)
            except httpx.HTTPError as exc:
                log.warning("%s: %s", path, type(exc).__name__)
                errors[label] += 1
                continue
            times[label].append(time.perf_counter() - t0)
            if r.status_code != 200:
                errors[label] += 1

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        wall = time.perf_counter() - t0
    for label, n in errors.items():
        log.warning("%s: %d failed or non-200 responses", label, n)
    return times, wall


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gva", required=True, type=Path, help="gva-incidents docs.jsonl")
    ap.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) / "serve-bench.db")
    ap.add_argument("--copies", type=int, default=2, help="ingest the corpus this many times")
    ap.add_argument("--events", type=int, default=2000, help="synthetic events")
    ap.add_argument("--stories", type=int, default=20)
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--workers", type=int, default=1, help="server processes (storyline serve)")
    ap.add_argument("--rebuild", action="store_true", help="build the store again")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if not args.gva.exists():
        raise SystemExit(f"no such file: {args.gva}")
    if args.rebuild or not args.db.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(str(args.db) + suffix).unlink(missing_ok=True)
        t0 = time.perf_counter()
        n = build_store(args.db, args.gva, args.copies)
        log.info("built %s: %d articles in %.0f s", args.db, n, time.perf_counter() - t0)
        add_synthetic_links(args.db, args.events, args.stories)
    store = open_store(args.db, read_only=True)
    stats = {k: store.count(k) for k in ("articles", "events", "stories", "quotes", "entities")}
    store.close()
    print(f"store: {args.db} {stats} (events/stories/quotes/entities are synthetic rows)")
    plan = request_plan(args.db, args.requests)
    proc, url = start_server(args.db, args.workers)
    try:
        asyncio.run(run_load(url, plan[: min(200, len(plan))], args.concurrency))  # warm-up
        load_before = os.getloadavg()[0]
        cpu0 = tree_cpu_seconds(proc.pid)
        times, wall = asyncio.run(run_load(url, plan, args.concurrency))
        cpu1 = tree_cpu_seconds(proc.pid)
        load_after = os.getloadavg()[0]
    finally:
        proc.terminate()
        proc.wait(10)
    print(
        f"{len(plan)} requests, {args.concurrency} concurrent clients, "
        f"{args.workers} server worker(s), {wall:.1f} s, "
        f"{len(plan) / wall:.0f} req/s, cpus={os.cpu_count()}"
    )
    if cpu0 is not None and cpu1 is not None:
        print(
            f"server CPU: {1000 * (cpu1 - cpu0) / len(plan):.1f} ms per request "
            f"(all server processes; the load-independent figure)"
        )
    print(
        f"machine load average: {load_before:.1f} before, {load_after:.1f} after "
        f"(other work on the machine inflates latencies)"
    )
    print(f"{'endpoint':24} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    every: list[float] = []
    for label, ts in times.items():
        every += ts
        print(
            f"{label:24} {len(ts):5d} {1000 * statistics.median(ts):8.1f} "
            f"{1000 * pct(ts, 95):8.1f} {1000 * max(ts):8.1f}"
        )
    print(
        f"{'ALL':24} {len(every):5d} {1000 * statistics.median(every):8.1f} "
        f"{1000 * pct(every, 95):8.1f} {1000 * max(every):8.1f}"
    )


if __name__ == "__main__":
    main()
