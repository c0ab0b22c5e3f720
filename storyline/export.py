"""Exports: the JSON contract of DESIGN.md, and JSONL / CSV derived from the same data."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import IO, Any

from sqlalchemy import select

from .store import Store, schema

FORMATS: dict[str, Callable[[Store, IO[str]], None]] = {}
BINARY_FORMATS: dict[str, Callable[[Store, str], None]] = {}  # formats written to a file path


def exporter(
    name: str,
) -> Callable[[Callable[[Store, IO[str]], None]], Callable[[Store, IO[str]], None]]:
    def register(fn: Callable[[Store, IO[str]], None]) -> Callable[[Store, IO[str]], None]:
        FORMATS[name] = fn
        return fn

    return register


def article_record(
    row: dict[str, Any], relations: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "id": row["id"],
        "source": row["source"]
        if row.get("record") is None
        else f"{row['source']}#{row['record']}",
        "outlet": row["outlet"],
        "title": row["title"],
        "pub_date": row["pub_date"],
        "pub_date_source": row["pub_date_source"],
        "pub_date_precision": row["pub_date_precision"],
        "url": row["url"],
        "language": row["language"],
        "words": row["words"],
        "is_article": bool(row["is_article"]),
        "version": row["version"],
        "supersedes": row["supersedes"],
        "relations": [
            {"kind": r["kind"], "article": r["other_id"], "score": round(float(r["score"]), 3)}
            for r in (relations or [])
        ],
        "text": row["text"],
    }


def build_document(store: Store) -> dict[str, Any]:
    """The whole store as one JSON-ready document with stable keys and ISO dates."""
    t = schema
    with store.read() as conn:
        arts = [
            dict(r) for r in conn.execute(select(t.articles).order_by(t.articles.c.seq)).mappings()
        ]
        rels: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in conn.execute(select(t.relations)).mappings():
            rels[r["article_id"]].append(dict(r))
        ents = [
            dict(r) for r in conn.execute(select(t.entities).order_by(t.entities.c.id)).mappings()
        ]
        evs = [dict(r) for r in conn.execute(select(t.events).order_by(t.events.c.seq)).mappings()]
        ev_mentions: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for m in conn.execute(
            select(
                t.event_mentions.c.event_id,
                t.event_mentions.c.article_id,
                t.event_mentions.c.sentence,
            )
            .where(t.event_mentions.c.event_id.is_not(None))
            .order_by(t.event_mentions.c.article_id, t.event_mentions.c.sentence)
        ).mappings():
            ev_mentions[m["event_id"]].append(dict(m))
        sents = {
            (r.article_id, r.idx): r.text
            for r in conn.execute(
                select(t.sentences.c.article_id, t.sentences.c.idx, t.sentences.c.text)
            )
        }
        qts = [
            dict(r)
            for r in conn.execute(
                # ties (a partial quote inside a longer one) by end and id: the same order
                # on both backends
                select(t.quotes).order_by(
                    t.quotes.c.article_id, t.quotes.c.start, t.quotes.c.end, t.quotes.c.id
                )
            ).mappings()
        ]
        sts = [
            dict(r) for r in conn.execute(select(t.stories).order_by(t.stories.c.seq)).mappings()
        ]
    story_events: dict[str, list[str]] = defaultdict(list)
    for e in evs:
        if e["story_id"]:
            story_events[e["story_id"]].append(e["id"])
    events_out = []
    for e in evs:
        mentions = ev_mentions.get(e["id"], [])
        seen: set[tuple[str, int]] = set()
        evidence = []
        for m in mentions:
            key = (m["article_id"], m["sentence"])
            if key in seen:
                continue
            seen.add(key)
            evidence.append(
                {
                    "article": m["article_id"],
                    "sentence": sents.get(key, ""),
                    "sentence_index": m["sentence"],
                }
            )
        events_out.append(
            {
                "id": e["id"],
                "date": e["date"],
                "date_end": e["date_end"],
                "precision": e["precision"],
                "status": e["status"],
                "status_history": e["status_history"] or [],
                "type": e["type"],
                "mode": e["mode"],
                "title": e["title"],
                "actors": list(e["actors"] or []),
                "location": e["location"],
                "coordinates": [e["lat"], e["lon"]] if e["lat"] is not None else None,
                "articles": sorted({m["article_id"] for m in mentions}),
                "outlets": list(e["outlets"] or []),
                "story": e["story_id"],
                "evidence": evidence,
            }
        )
    return {
        "articles": [article_record(a, rels.get(a["id"])) for a in arts],
        "events": events_out,
        "quotes": [
            {
                "id": q["id"],
                "article": q["article_id"],
                "speaker": q["speaker_canonical"] or q["speaker"],
                "speaker_id": q["speaker_id"],
                "text": q["text"],
                "kind": q["kind"],
                "utterance": q["utterance_id"],
                "addressee": q["addressee"],
                "channel": q["channel"],
                "second_hand": bool(q["second_hand"]),
                "start": q["start"],
                "end": q["end"],
            }
            for q in qts
        ],
        "entities": [
            {
                "id": e["id"],
                "name": e["name"],
                "type": e["type"],
                "aliases": list(e["aliases"] or []),
                "country": e["country"],
                "mentions": e["mentions"],
            }
            for e in ents
        ],
        "stories": [
            {
                "id": s["id"],
                "title": s["title"],
                "date_start": s["date_start"],
                "date_end": s["date_end"],
                "events": story_events.get(s["id"], []),
            }
            for s in sts
        ],
    }


@exporter("json")
def export_json(store: Store, out: IO[str]) -> None:
    json.dump(build_document(store), out, ensure_ascii=False, indent=2)
    out.write("\n")


@exporter("jsonl")
def export_jsonl(store: Store, out: IO[str]) -> None:
    """One record a line, each tagged with its kind ("article", "event", ...)."""
    doc = build_document(store)
    for kind, rows in doc.items():
        for row in rows:
            out.write(
                json.dumps(
                    {"kind": kind[:-1] if kind != "stories" else "story", **row}, ensure_ascii=False
                )
            )
            out.write("\n")


@exporter("csv")
def export_csv(store: Store, out: IO[str]) -> None:
    """Articles as CSV (one row each; the text in the last column)."""
    doc = build_document(store)
    cols = [
        "id",
        "source",
        "outlet",
        "title",
        "pub_date",
        "pub_date_source",
        "pub_date_precision",
        "url",
        "language",
        "words",
        "relations",
        "text",
    ]
    writer = csv.DictWriter(out, fieldnames=cols, extrasaction="ignore")
    writer.writeheader()
    for a in doc["articles"]:
        row = dict(a)
        row["relations"] = ";".join(f"{r['kind']}:{r['article']}" for r in a["relations"])
        writer.writerow(row)


def export_parquet(store: Store, path: str) -> None:
    """Articles as a Parquet table (relations as JSON text), for pandas / Polars / DuckDB."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = build_document(store)["articles"]
    for r in rows:
        r["relations"] = json.dumps(r["relations"])
    pq.write_table(pa.Table.from_pylist(rows), path)


BINARY_FORMATS["parquet"] = export_parquet


def load_formats() -> None:
    """Import the modules that register more formats (html report, TimelineJS, ...)."""
    import importlib

    for name in ("storyline.serve.report", "storyline.tell.exports"):
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise


def export(store: Store, fmt: str, out: IO[str]) -> None:
    load_formats()
    if fmt not in FORMATS:
        from .errors import StorylineError

        raise StorylineError(
            f"unknown export format {fmt!r}; use one of {', '.join(sorted(FORMATS))}"
        )
    FORMATS[fmt](store, out)


def export_string(store: Store, fmt: str = "json") -> str:
    buf = io.StringIO()
    export(store, fmt, buf)
    return buf.getvalue()


def iter_formats() -> Iterator[str]:
    yield from sorted(FORMATS)


from .tell import exports as _tell_exports  # noqa: E402,F401  (registers timelinejs, events-csv)
