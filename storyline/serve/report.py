"""``storyline export --format html``: one self-contained, offline HTML report.

Timeline (events by year and month, status at a glance), each event with its evidence
sentences per outlet, quotes by utterance, and the source list. No scripts, no external
assets: the CSS is inline and every untrusted string is escaped by Jinja2's autoescape.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from ..export import build_document, exporter
from ..store import Store
from .render import safe_url

HERE = Path(__file__).resolve().parent


def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(HERE / "templates")),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["safe_url"] = safe_url
    return env


def report_context(doc: dict[str, Any]) -> dict[str, Any]:
    """Shape the export document for the report: events by month, lookups by id."""
    arts = {a["id"]: a for a in doc["articles"]}
    ents = {e["id"]: e for e in doc["entities"]}
    months: dict[str, list[dict[str, Any]]] = defaultdict(list)
    undated = []
    for e in sorted(doc["events"], key=lambda e: (e["date"] or "9999", e["id"])):
        if e["date"]:
            months[e["date"][:7]].append(e)
        else:
            undated.append(e)
    utterances: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for q in doc["quotes"]:
        utterances[q["utterance"] or q["id"]].append(q)
    outlets = sorted({a["outlet"] for a in doc["articles"] if a["outlet"]})
    return {
        "doc": doc,
        "arts": arts,
        "ents": ents,
        "months": sorted(months.items()),
        "undated": undated,
        "utterances": list(utterances.values()),
        "outlets": outlets,
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "css": (HERE / "templates" / "report.css").read_text(encoding="utf-8"),
    }


def render_report(doc: dict[str, Any]) -> str:
    return _env().get_template("report.html").render(**report_context(doc))


@exporter("html")
def export_html(store: Store, out: IO[str]) -> None:
    """The store as one HTML file that opens offline in any browser."""
    out.write(render_report(build_document(store)))
