"""Render one article for the terminal, with its annotations marked in the text."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy import select

from ..store import Store, schema

STYLES = {
    "entity": {"fg": "cyan"},
    "timex": {"fg": "green"},
    "quote": {"fg": "yellow"},
    "event": {"fg": "magenta", "bold": True},
}
MARKS = {"entity": ("[", "]"), "timex": ("{", "}"), "quote": ("«", "»"), "event": ("<", ">")}


def article_annotations(store: Store, article_id: str) -> dict[str, list[dict[str, Any]]]:
    t = schema
    out: dict[str, list[dict[str, Any]]] = {}
    with store.read() as conn:
        for name, table in (
            ("mentions", t.mentions),
            ("timexes", t.timexes),
            ("quotes", t.quotes),
            ("events", t.event_mentions),
        ):
            out[name] = [
                dict(r)
                for r in conn.execute(
                    select(table).where(table.c.article_id == article_id).order_by(table.c.start)
                ).mappings()
            ]
    return out


def article_json(store: Store, row: dict[str, Any]) -> dict[str, Any]:
    ann = article_annotations(store, row["id"])
    return {**row, **ann}


def spans(ann: dict[str, list[dict[str, Any]]]) -> list[tuple[int, int, str, str]]:
    """(start, end, kind, label) for every annotation, outermost first at equal starts."""
    out = []
    for m in ann["mentions"]:
        out.append((m["start"], m["end"], "entity", m["label"]))
    for t in ann["timexes"]:
        out.append((t["start"], t["end"], "timex", t["value"]))
    for q in ann["quotes"]:
        out.append((q["start"], q["end"], "quote", q["speaker_canonical"] or q["speaker"] or "?"))
    for e in ann["events"]:
        out.append((e["start"], e["end"], "event", f"{e['type']}/{e['status']}"))
    return sorted(out, key=lambda s: (s[0], -s[1]))


def mark_text(text: str, items: list[tuple[int, int, str, str]], color: bool) -> str:
    """Insert open/close marks; labels of timexes and events follow their span."""
    inserts: list[tuple[int, int, str]] = []
    for start, end, kind, label in items:
        o, c = MARKS[kind]
        closing = c + (f"={label}" if kind in ("timex", "event") else "")
        if color:
            o, closing = click.style(o, **STYLES[kind]), click.style(closing, **STYLES[kind])
        inserts.append((start, 1, o + ("" if color else "")))
        inserts.append((end, 0, closing))
    inserts.sort(key=lambda x: (x[0], x[1]))
    out, pos = [], 0
    for at, _, mark in inserts:
        out.append(text[pos:at])
        out.append(mark)
        pos = at
    out.append(text[pos:])
    return "".join(out)


def render_article(store: Store, row: dict[str, Any], color: bool = True) -> str:
    ann = article_annotations(store, row["id"])
    head = [
        click.style(row["title"] or "(no title)", bold=True)
        if color
        else (row["title"] or "(no title)"),
        f"id {row['id']}  ·  {row['outlet'] or 'outlet unknown'} ({row['outlet_source']})  ·  "
        f"{row['pub_date'] or 'undated'} ({row['pub_date_source']})  ·  {row['words']} words  ·  "
        f"lang {row['language'] or '?'}",
        f"source {row['source']}" + (f" #{row['record']}" if row["record"] is not None else ""),
    ]
    if row["version"] > 1:
        head.append(f"version {row['version']}, supersedes {row['supersedes']}")
    for note in row["notes"] or []:
        head.append(f"note: {note}")
    legend = "marks: [entity] {time}=value «quote» <event>=TYPE/status"
    body = mark_text(row["text"], spans(ann), color)
    removed = row["removed"] or []
    tail = [f"\n--- removed boilerplate ({len(removed)}) ---"]
    for r in removed:
        tail.append(f"[{r['reason']} @ {r['position']}] {r['text']}")
    return "\n".join(head + ["", legend, "", body] + tail)
