"""Events: event mentions from all articles merged into events, each mention kept as evidence.

A mention joins an existing event when the type family matches, the actors overlap, the dates
are compatible and the places do not clash; blocking is by type family and date window, so a
batch is matched against the events near it, never against the whole store. A planned event
and its later happening are one event whose status moves from ``planned`` to ``happened``.
Event ids come from the first mention's id, so they stay put as batches arrive.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, or_, select, update

from ..store import schema
from .entities import EntityIndex, fold, resolve

log = logging.getLogger(__name__)

FAMILY = {
    "CONSULT": "consult",
    "AGREE": "agree",
    "COOPERATE": "agree",
    "SUPPORT": "agree",
    "AID": "agree",
    "ASSAULT": "fight",
    "FIGHT": "fight",
    "COERCE": "coerce",
    "SANCTION": "coerce",
    "MOBILIZE": "fight",
    "ACCUSE": "verbal",
    "THREATEN": "verbal",
    "REJECT": "verbal",
    "DEMAND": "verbal",
    "PROTEST": "protest",
}
VERBS = {  # type -> (plural, singular) verb for titles
    "CONSULT": ("meet", "meets"),
    "AGREE": ("agree", "agrees"),
    "COOPERATE": ("cooperate", "cooperates"),
    "SUPPORT": ("back", "backs"),
    "AID": ("aid", "aids"),
    "ASSAULT": ("attack", "attacks"),
    "FIGHT": ("fight", "fights"),
    "COERCE": ("pressure", "pressures"),
    "SANCTION": ("sanction", "sanctions"),
    "MOBILIZE": ("mobilize", "mobilizes"),
    "ACCUSE": ("accuse", "accuses"),
    "THREATEN": ("threaten", "threatens"),
    "REJECT": ("reject", "rejects"),
    "DEMAND": ("demand", "demands"),
    "PROTEST": ("protest", "protests"),
    "REQUEST": ("ask", "asks"),
    "CONCEDE": ("concede", "concedes"),
    "RETREAT": ("withdraw", "withdraws"),
}
MODE_VERBS = {"visit": ("visit", "visits"), "invasion": ("invade", "invades")}
WEAK_BACK = 7  # a reported event without a date: within a week before publication
WEAK_AHEAD = 60  # an announced event without a date: within two months after publication
NEAR_SENTENCES = 2  # an actor-less mention this close after a like one refers to it
EVENT_STATUSES = ("happened", "planned", "denied", "hypothetical", "unknown")


def family(event_type: str) -> str:
    return FAMILY.get(event_type, event_type.lower())


def parse_date(value: str | None) -> date | None:
    """The first day an ISO date, month or year stands for."""
    if not value:
        return None
    try:
        parts = [int(p) for p in value[:10].split("-")]
        if len(parts) == 3:
            return date(*parts)
        if len(parts) == 2:
            return date(parts[0], parts[1], 1)
        return date(parts[0], 1, 1)
    except (ValueError, TypeError):
        return None


def span(value: str | None, precision: str | None, end: str | None = None) -> tuple[date, date]:
    """The days a dated value may stand for, as an inclusive range."""
    d = parse_date(value)
    if d is None:
        return (date.min, date.max)
    prec = precision or {10: "day", 7: "month"}.get(len(value or ""), "year")
    if prec == "day":
        hi = parse_date(end) or d
        return (d - timedelta(days=1), max(hi, d) + timedelta(days=1))
    if prec == "month":
        nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        return (d, nxt - timedelta(days=1))
    return (date(d.year, 1, 1), date(d.year, 12, 31))


def mention_span(m: dict[str, Any]) -> tuple[date, date] | None:
    """Where a mention may lie in time; weak (publication-date) dates get a one-sided window."""
    if m["date"] and m["timex"] is not None:
        return span(m["date"], m["precision"], m["date_end"])
    pub = parse_date(m.get("pub_date") or m["date"])
    if pub is None or (m.get("pub_precision") not in (None, "day")):
        return None
    if m["status"] == "planned":
        return (pub, pub + timedelta(days=WEAK_AHEAD))
    return (pub - timedelta(days=WEAK_BACK), pub)


@dataclass
class Candidate:
    row: dict[str, Any]
    score: float


def _overlap(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def _place_clash(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    fa, fb = fold(a), fold(b)
    return fa not in fb and fb not in fa


def compatible(
    m: dict[str, Any],
    mspan: tuple[date, date] | None,
    ev: dict[str, Any],
    *,
    any_date: bool = False,
) -> float:
    """A score in (0, 1] when mention ``m`` may belong to event ``ev``, else 0."""
    if family(m["type"]) != family(ev["type"]):
        return 0.0
    if _place_clash(m["location"], ev["location"]):
        return 0.0
    if mspan is not None and ev["date"]:
        lo, hi = span(ev["date"], ev["precision"], ev["date_end"])
        if mspan[1] < lo or mspan[0] > hi:
            return 0.0
    if mspan is None and ev["date"] and not any_date and not m.get("related_ok", {}).get(ev["id"]):
        return 0.0  # an undated mention joins a dated event only through a related article
    ma, ea = set(m["actor_ids"]), set(ev["actors"] or [])
    if not ma and not ea:
        # no actors on either side: only the same kind of event at the same explicit day/place
        same_mode = (m["mode"] or "") == (ev["mode"] or "")
        dated = mspan is not None and m["timex"] is not None and ev["precision"] == "day"
        placed = bool(m["location"] and ev["location"])
        return 0.3 if same_mode and (dated or placed) and ev["date"] else 0.0
    ov = _overlap(ma, ea)
    if ov < 0.5 or (len(ma) >= 2 and len(ea) >= 2 and len(ma & ea) < 2):
        return 0.0  # "Xi met Erdogan" is not "Xi met Putin"
    bonus = 0.1 if m["location"] and ev["location"] else 0.0
    return min(1.0, ov * 0.8 + bonus + (0.1 if mspan is not None and ev["date"] else 0.0))


def _candidates(conn: Connection, m: dict[str, Any], mspan: tuple[date, date] | None) -> list:
    """Events of the same family near the mention's dates (blocking; never the whole store)."""
    ev = schema.events
    types = [t for t, f in FAMILY.items() if f == family(m["type"])] or [m["type"]]
    if m["type"] not in types:
        types.append(m["type"])
    q = select(ev).where(ev.c.type.in_(types))
    if mspan is not None and mspan[0] != date.min:
        lo = (mspan[0] - timedelta(days=31)).isoformat()[:4]
        hi = (mspan[1] + timedelta(days=1)).isoformat()
        q = q.where(or_(ev.c.date.is_(None), ev.c.date.between(lo, hi)))
    return [dict(r) for r in conn.execute(q.limit(500)).mappings()]


def event_id(mention_id: str) -> str:
    return "ev-" + hashlib.sha1(mention_id.encode()).hexdigest()[:12]


def load_mentions(
    conn: Connection, article_ids: Sequence[str], only_unlinked: bool = True
) -> list[dict[str, Any]]:
    em, a = schema.event_mentions, schema.articles
    q = (
        select(
            em,
            a.c.pub_date.label("pub_date"),
            a.c.pub_date_precision.label("pub_precision"),
            a.c.seq.label("seq"),
        )
        .join(a, a.c.id == em.c.article_id)
        .where(em.c.article_id.in_(list(article_ids)))
    )
    if only_unlinked:
        q = q.where(em.c.event_id.is_(None))
    rows = [dict(r) for r in conn.execute(q).mappings()]
    rows.sort(key=lambda r: (r["pub_date"] or "9999", r["seq"], r["sentence"], r["start"]))
    return rows


def link_events(
    conn: Connection, article_ids: Sequence[str], index: EntityIndex, *, need_date: bool = False
) -> set[str]:
    """Merge the unlinked event mentions of these articles into events; return touched ids.

    With ``need_date``, mentions of articles that have no publication date yet are left for
    later (the dating step may still date them).
    """
    em = schema.event_mentions
    touched: set[str] = set()
    related: dict[str, set[str]] = {}
    recent: dict[tuple[str, str, str | None], tuple[str, int]] = {}
    for m in load_mentions(conn, article_ids):
        if need_date and not m["pub_date"] and not m["date"]:
            continue
        m["actor_ids"] = _actor_ids(conn, index, m)
        slot = (m["article_id"], family(m["type"]), m["mode"])
        near = recent.get(slot)
        if not m["actor_ids"] and near and 0 <= m["sentence"] - near[1] <= NEAR_SENTENCES:
            # "the meeting" right after "Putin and Xi met": the same event, actors left implicit
            conn.execute(update(em).where(em.c.id == m["id"]).values(event_id=near[0]))
            refresh_event(conn, near[0])
            continue
        mspan = mention_span(m)
        best: Candidate | None = None
        cands = _candidates(conn, m, mspan)
        if mspan is None:
            from .dating import event_articles, related_articles

            rel = related.setdefault(m["article_id"], related_articles(conn, m["article_id"]))
            m["related_ok"] = {ev["id"]: bool(event_articles(conn, ev["id"]) & rel) for ev in cands}
        for ev in cands:
            s = compatible(m, mspan, ev)
            if s > 0 and (best is None or s > best.score):
                best = Candidate(ev, s)
        if best is None and m["timex"] is None and m["status"] == "happened" and mspan:
            best = _recalled(conn, m, mspan)
        if best is None:
            eid = _create(conn, m)
        else:
            eid = best.row["id"]
            _absorb(conn, best.row, m)
        conn.execute(update(em).where(em.c.id == m["id"]).values(event_id=eid))
        refresh_event(conn, eid)  # later mentions of the batch see its date and place
        recent[slot] = (eid, m["sentence"])
        touched.add(eid)
    return touched


def _recalled(conn: Connection, m: dict[str, Any], mspan: tuple[date, date]) -> Candidate | None:
    """A past event recalled without a date ("since the invasion of Ukraine"): an explicitly
    dated earlier event of the same kind, mode and actors."""
    from .dating import has_explicit_date, strong_match

    if not m["mode"] or not m["actor_ids"]:
        return None
    best: Candidate | None = None
    for ev in _candidates(conn, m, (date(1900, 1, 1), mspan[1])):
        if ev["mode"] != m["mode"] or not ev["date"] or ev["date"] > mspan[1].isoformat():
            continue
        if strong_match(m, ev) and has_explicit_date(conn, ev["id"]):
            s = compatible(m, None, ev, any_date=True)
            if best is None or s > best.score:
                best = Candidate(ev, s)
    return best


def _actor_ids(conn: Connection, index: EntityIndex, m: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for name in list(m["actors"] or []) + list(m["targets"] or []):
        eid = resolve(conn, index, m["article_id"], name)
        if eid and eid not in out:
            out.append(eid)
    return out


def _create(conn: Connection, m: dict[str, Any]) -> str:
    ev = schema.events
    eid = event_id(m["id"])
    seq = int(conn.execute(select(func.coalesce(func.max(ev.c.seq), 0))).scalar_one()) + 1
    status = m["status"] if m["status"] in EVENT_STATUSES else "unknown"
    conn.execute(
        insert(ev).values(
            id=eid,
            seq=seq,
            type=m["type"],
            mode=m["mode"],
            title=m["trigger"],
            date=m["date"] if m["timex"] is not None else None,
            date_end=m["date_end"] if m["timex"] is not None else None,
            precision=m["precision"] if m["timex"] is not None else None,
            status=status,
            status_history=[{"status": status, "article": m["article_id"], "date": m["pub_date"]}],
            location=m["location"],
            actors=m["actor_ids"],
        )
    )
    return eid


def _absorb(conn: Connection, row: dict[str, Any], m: dict[str, Any]) -> None:
    """Add a mention's actors and status change to an event row."""
    ev = schema.events
    actors = list(row["actors"] or [])
    for a in m["actor_ids"]:
        if a not in actors:
            actors.append(a)
    history = list(row["status_history"] or [])
    status = row["status"]
    new = m["status"]
    if new == "happened" and status != "happened":
        status = "happened"
        history.append({"status": "happened", "article": m["article_id"], "date": m["pub_date"]})
    conn.execute(
        update(ev)
        .where(ev.c.id == row["id"])
        .values(actors=actors, status=status, status_history=history)
    )
    row.update(actors=actors, status=status, status_history=history)


def _day(value: str | None) -> str | None:
    return value if value and len(value) == 10 else None


def _vote_date(ms: list[dict[str, Any]]) -> tuple[str | None, str | None, str | None]:
    """The event's date: the most supported explicit date at the finest precision."""
    rank = {"day": 0, "month": 1, "year": 2}
    dated = [m for m in ms if m["date"] and m["timex"] is not None]
    if not dated:
        pool = [
            m["date"] or m["pub_date"]
            for m in ms
            if m["status"] == "happened" and (m["date"] or _day(m["pub_date"]))
        ]
        if not pool:
            return None, None, None
        per_article = Counter(pool)  # the day most reports agree on; ties: the earliest
        first = min(per_article, key=lambda d: (-per_article[d], d))
        return first, None, "day" if len(first) == 10 else ("month" if len(first) == 7 else "year")
    dated.sort(key=lambda m: rank.get(m["precision"] or "year", 3))
    best_prec = dated[0]["precision"]
    same = [m for m in dated if m["precision"] == best_prec]
    exact = [m for m in same if not m["date_end"] or m["date_end"] == m["date"]]
    if exact and best_prec == "day":
        same = exact  # "on Thursday" beats "next week" (a seven-day range)
    votes = Counter(m["date"] for m in same)
    top = max(votes.items(), key=lambda kv: (kv[1], -int(kv[0].replace("-", "") or 0)))[0]
    ends = Counter(m["date_end"] for m in same if m["date"] == top and m["date_end"])
    end = ends.most_common(1)[0][0] if ends else None
    return top, end, best_prec


def refresh_event(conn: Connection, eid: str) -> None:
    """Recompute an event's date, place, outlets and title from all its mentions."""
    ev, em, a, et = schema.events, schema.event_mentions, schema.articles, schema.entities
    ms = [
        dict(r)
        for r in conn.execute(
            select(em, a.c.outlet.label("outlet"), a.c.pub_date.label("pub_date"))
            .join(a, a.c.id == em.c.article_id)
            .where(em.c.event_id == eid)
        ).mappings()
    ]
    row = conn.execute(select(ev).where(ev.c.id == eid)).mappings().first()
    if row is None or not ms:
        return
    d, d_end, prec = _vote_date(ms)
    places = Counter(m["location"] for m in ms if m["location"])
    location = places.most_common(1)[0][0] if places else None
    outlets = sorted({m["outlet"] for m in ms if m["outlet"]})
    n_articles = len({m["article_id"] for m in ms})
    actor_count: Counter[str] = Counter()
    actors = list(row["actors"] or [])
    names = {
        r.id: (short_name(r.name, r.type, r.aliases or []), r.type)
        for r in conn.execute(
            select(et.c.id, et.c.name, et.c.type, et.c.aliases).where(et.c.id.in_(actors))
        )
    }
    for i, aid in enumerate(actors):
        actor_count[aid] = len(actors) - i
    types = Counter(m["type"] for m in ms)
    modes = Counter(m["mode"] for m in ms if m["mode"])
    triggers = Counter(fold(m["trigger"]) for m in ms)
    title = make_title(
        types.most_common(1)[0][0],
        modes.most_common(1)[0][0] if modes else None,
        sorted(
            (names[x] for x in actors if x in names),
            key=lambda nt: nt[1] not in ("PERSON", "COUNTRY", "GOV"),
        ),
        location,
        triggers.most_common(1)[0][0],
    )
    conn.execute(
        update(ev)
        .where(ev.c.id == eid)
        .values(
            date=d,
            date_end=d_end if d_end and d_end != d else None,
            precision=prec,
            location=location,
            outlets=outlets,
            n_outlets=len(outlets),
            n_articles=n_articles,
            title=title,
            type=types.most_common(1)[0][0],
            mode=modes.most_common(1)[0][0] if modes else None,
        )
    )


def short_name(name: str, etype: str, aliases: Sequence[str] = ()) -> str:
    """Surname for people ("Putin"; "Xi" where the texts call Xi Jinping "Xi"), else the name."""
    if etype == "PERSON" and " " in name:
        toks = name.split()
        singles = {a.strip() for a in aliases if " " not in a.strip()}
        for tok in (toks[-1], toks[0]):
            if tok in singles:
                return tok
        return toks[-1]
    if etype == "GOV" and name.startswith("Government of "):
        return name[len("Government of ") :]
    return name


def make_title(
    etype: str,
    mode: str | None,
    actors: list[tuple[str, str]],
    location: str | None,
    trigger: str,
) -> str:
    """A short headline: actors + verb + place, e.g. "Putin and Xi meet in Samarkand"."""
    names: list[str] = []
    for name, t in actors:
        s = short_name(name, t)
        if s not in names:
            names.append(s)
    names = names[:2]
    plural, singular = MODE_VERBS.get(mode or "", VERBS.get(etype, (trigger, trigger)))
    if not names:
        subject, verb = "", trigger
    elif len(names) == 1:
        subject, verb = names[0], singular
    elif mode in MODE_VERBS or etype not in ("CONSULT", "AGREE", "COOPERATE", "FIGHT"):
        subject, verb = names[0], f"{singular} {' and '.join(names[1:])}"
    else:
        subject, verb = " and ".join([", ".join(names[:-1]), names[-1]]), plural
    title = f"{subject} {verb}".strip()
    if location and fold(location) not in fold(title):
        title += f" in {location}"
    return title[:1].upper() + title[1:]
