"""The timeline: one line per event, dated, with its status, sources and evidence.

A store holds many small events ("sanctions", "support"); a reader wants the ones the story is
about. Salience counts outlets and articles, an explicit date in the text, and the story's
central actors (those in most events); the default view keeps the salient ones, ``all=True``
keeps everything.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select

from ..errors import NotFound, StorylineError
from ..store import Store, schema
from .stories import story_id  # noqa: F401  (re-exported for callers)

DEFAULT_LIMIT = 25
CENTRAL = 5  # how many of the most frequent actors count as the story's central ones
CORE_TYPES = {"CONSULT", "AGREE", "COOPERATE"}  # what central actors do together


@dataclass
class TimelineEntry:
    id: str
    date: str | None
    date_end: str | None
    precision: str | None
    status: str
    type: str
    title: str
    location: str | None
    actors: list[str]
    outlets: list[str]
    n_articles: int
    n_outlets: int
    story: str | None
    salience: float
    explicit_date: bool
    recalled: bool = False  # a dated background event the reports look back on
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check_date(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    import re

    if not re.match(r"^\d{4}(-\d{2}(-\d{2})?)?$", value):
        raise StorylineError(f"{name} must be an ISO date (YYYY, YYYY-MM or YYYY-MM-DD): {value!r}")
    return value


def salience(ev: dict[str, Any], explicit: bool, central: set[str]) -> float:
    """How much an event matters to the story (higher first)."""
    actors = set(ev["actors"] or [])
    return (
        2.0 * (ev["n_outlets"] or 0)
        + 1.0 * (ev["n_articles"] or 0)
        + (1.5 if explicit else 0.0)
        + 1.0 * len(actors & central)
        + (0.5 if ev["status"] == "planned" else 0.0)
    )


def timeline(
    store: Store,
    *,
    story: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    actor: str | None = None,
    show_all: bool = False,
    evidence: bool = False,
    limit: int | None = DEFAULT_LIMIT,
) -> list[TimelineEntry]:
    """The events of the store (or one story), by date; the salient ones unless ``show_all``."""
    date_from = _check_date(date_from, "--from")
    date_to = _check_date(date_to, "--to")
    t, em, et, s, a = (
        schema.events,
        schema.event_mentions,
        schema.entities,
        schema.sentences,
        schema.articles,
    )
    with store.read() as conn:
        q = select(t)
        if story:
            found = conn.execute(
                select(schema.stories.c.id).where(schema.stories.c.id.startswith(story))
            ).all()
            if len(found) != 1:
                raise NotFound(f"no story with id {story!r}")
            q = q.where(t.c.story_id == found[0][0])
        if date_from:
            q = q.where(t.c.date >= date_from)
        if date_to:
            q = q.where(t.c.date <= date_to + "~")
        evs = [dict(r) for r in conn.execute(q).mappings()]
        ids = [e["id"] for e in evs]
        names = {r.id: r.name for r in conn.execute(select(et.c.id, et.c.name))}
        aliases = {r.id: r.aliases or [] for r in conn.execute(select(et.c.id, et.c.aliases))}
        explicit: set[str] = set()
        ev_rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in conn.execute(
            select(
                em.c.event_id, em.c.article_id, em.c.sentence, em.c.timex, a.c.outlet, a.c.pub_date
            )
            .join(a, a.c.id == em.c.article_id)
            .where(em.c.event_id.in_(ids))
            .order_by(em.c.article_id, em.c.sentence)
        ).mappings():
            if r["timex"] is not None:
                explicit.add(r["event_id"])
            ev_rows[r["event_id"]].append(dict(r))
        sentences: dict[tuple[str, int], str] = {}
        if evidence:
            arts = {r["article_id"] for rows in ev_rows.values() for r in rows}
            for r in conn.execute(
                select(s.c.article_id, s.c.idx, s.c.text).where(s.c.article_id.in_(arts))
            ):
                sentences[(r.article_id, r.idx)] = r.text
    if actor:
        want = actor.lower()
        hits = {
            eid
            for eid, nm in names.items()
            if want in nm.lower() or any(want in x.lower() for x in aliases.get(eid, []))
        }
        if not hits:
            raise NotFound(f"no entity matches {actor!r}")
        evs = [e for e in evs if hits & set(e["actors"] or [])]
    counts: Counter[str] = Counter()
    for e in evs:
        counts.update(set(e["actors"] or []))
    central = {x for x, _ in counts.most_common(CENTRAL)}
    out = []
    for e in evs:
        sal = salience(e, e["id"] in explicit, central)
        entry = TimelineEntry(
            id=e["id"],
            date=e["date"],
            date_end=e["date_end"],
            precision=e["precision"],
            status=e["status"],
            type=e["type"],
            title=e["title"],
            location=e["location"],
            actors=[names.get(x, x) for x in e["actors"] or []],
            outlets=list(e["outlets"] or []),
            n_articles=e["n_articles"],
            n_outlets=e["n_outlets"],
            story=e["story_id"],
            salience=round(sal, 2),
            explicit_date=e["id"] in explicit,
            recalled=is_recalled(e, ev_rows.get(e["id"], []), e["id"] in explicit),
        )
        if evidence:
            seen = set()
            for r in ev_rows.get(e["id"], []):
                key = (r["article_id"], r["sentence"])
                if key not in seen:
                    seen.add(key)
                    entry.evidence.append(
                        {
                            "article": r["article_id"],
                            "outlet": r["outlet"],
                            "sentence": sentences.get(key, ""),
                        }
                    )
        if show_all or keep(entry, central, set(e["actors"] or [])):
            out.append(entry)
    if not show_all and limit is not None and len(out) > limit:
        out = sorted(out, key=lambda x: -x.salience)[:limit]
    out.sort(key=lambda x: (x.date or "9999", -x.salience))
    return out


RECALL_DAYS = 30


def is_recalled(ev: dict[str, Any], mentions: list[dict[str, Any]], explicit: bool) -> bool:
    """An explicitly dated event well before every report of it: background the story recalls."""
    from datetime import timedelta

    from ..link.events import parse_date

    d = parse_date(ev["date"])
    pubs = [parse_date(m["pub_date"]) for m in mentions if m.get("pub_date")]
    pubs = [p for p in pubs if p]
    if not explicit or d is None or not pubs:
        return False
    return d + timedelta(days=RECALL_DAYS) < min(pubs)


def keep(entry: TimelineEntry, central: set[str], actor_ids: set[str]) -> bool:
    """The default view: dated, real (happened or planned) and reported or clearly placed."""
    if not entry.date or entry.status not in ("happened", "planned"):
        return False
    if entry.recalled and (actor_ids or entry.location or entry.precision == "day"):
        return True  # background the reports look back on, to the day ("on February 24, 2022")
    if not actor_ids:
        return entry.n_articles >= 3
    if entry.n_articles >= 2:
        return True
    if entry.explicit_date and bool(actor_ids & central):
        return True
    return len(actor_ids & central) >= 2 and entry.type in CORE_TYPES


def format_date(e: TimelineEntry) -> str:
    d = e.date or "undated"
    if e.date_end and e.date_end != e.date:
        d += f"..{e.date_end[5:] if e.date_end[:4] == (e.date or '')[:4] else e.date_end}"
    return d


def format_line(e: TimelineEntry) -> str:
    """One line: date (precision), status, title, who reports it."""
    outlets = ", ".join(e.outlets) if e.outlets else "unknown outlet"
    n = f"{e.n_articles} article{'s' if e.n_articles != 1 else ''}"
    prec = f"({e.precision})" if e.precision else ""
    return f"{format_date(e):<22} {prec:<8} {e.status:<9} {e.title} — {outlets}; {n}"
