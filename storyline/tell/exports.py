"""Timeline exports: TimelineJS JSON and one CSV row per event, from the export document."""

from __future__ import annotations

import csv
import json
from typing import IO, Any

from ..export import build_document, exporter
from ..store import Store


def _tl_date(value: str | None) -> dict[str, str] | None:
    if not value:
        return None
    parts = value.split("-")
    out = {"year": parts[0]}
    if len(parts) > 1:
        out["month"] = str(int(parts[1]))
    if len(parts) > 2:
        out["day"] = str(int(parts[2]))
    return out


def timelinejs_document(doc: dict[str, Any]) -> dict[str, Any]:
    """The TimelineJS 3 JSON format: one slide per dated event, sources in the text."""
    titles = {a["id"]: (a["outlet"] or a["title"] or a["id"]) for a in doc["articles"]}
    events = []
    for e in doc["events"]:
        start = _tl_date(e["date"])
        if start is None:
            continue
        sources = ", ".join(e["outlets"]) or ", ".join(titles.get(a, a) for a in e["articles"])
        quotes = "".join(
            f"<blockquote>{_esc(ev['sentence'])}</blockquote>" for ev in e["evidence"][:3]
        )
        slide: dict[str, Any] = {
            "unique_id": e["id"],
            "start_date": start,
            "text": {
                "headline": _esc(e["title"]),
                "text": f"<p>{e['status']}; reported by {_esc(sources)}</p>{quotes}",
            },
            "group": e["story"] or "",
        }
        end = _tl_date(e["date_end"])
        if end:
            slide["end_date"] = end
        events.append(slide)
    title = doc["stories"][0]["title"] if doc["stories"] else "Storyline"
    return {"title": {"text": {"headline": _esc(title), "text": ""}}, "events": events}


def _esc(text: str | None) -> str:
    import html

    return html.escape(text or "")


@exporter("timelinejs")
def export_timelinejs(store: Store, out: IO[str]) -> None:
    """TimelineJS 3 JSON (load it with ``new TL.Timeline(id, data)``)."""
    json.dump(timelinejs_document(build_document(store)), out, ensure_ascii=False, indent=2)
    out.write("\n")


EVENT_COLUMNS = [
    "id",
    "date",
    "date_end",
    "precision",
    "status",
    "type",
    "title",
    "location",
    "actors",
    "outlets",
    "n_articles",
    "story",
    "articles",
]


@exporter("events-csv")
def export_events_csv(store: Store, out: IO[str]) -> None:
    """Events as CSV, one row each (lists joined with ';'), in date order."""
    doc = build_document(store)
    writer = csv.DictWriter(out, fieldnames=EVENT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for e in sorted(doc["events"], key=lambda e: (e["date"] or "9999", e["id"])):
        row = dict(e)
        row["n_articles"] = len(e["articles"])
        for k in ("actors", "outlets", "articles"):
            row[k] = ";".join(e[k])
        writer.writerow(row)
