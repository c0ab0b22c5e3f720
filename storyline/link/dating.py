"""Dating undated articles from what they report, then resolving their relative times.

An article says "met on Thursday" about a summit other articles date to 15 September: it was
published on or shortly after that Thursday. It says "will meet next week" about an event dated
15-16 September: it was published the week before. A dated report of the same story (a copy,
a rewrite, a ``same_story_as`` relation or the same-event cluster, from link/articles.py) that
names "Saturday night" as 7 May in a sentence telling the same thing as ours ("shot ... on Elm
Street Saturday") makes our "Saturday" 7 May too, so we were published 7-13 May.

Each such clue gives a set of possible publication dates; the article is dated only when the
clues agree (their sets intersect), no explicit past date in it lies after the result, and no
month or day it names in the past tense ("left rehab on June 13") would lie after it (nor one
in the future tense before it). A weekday clue dates to its earliest possible day (news is
reported at once). Otherwise the article stays unknown, with the reason. A wire copy takes
its original's date unless its clues put it more than a week away.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, select, update

from ..store import schema
from .entities import EntityIndex, fold
from .events import _actor_ids, _candidates, compatible, load_mentions, parse_date, span

log = logging.getLogger(__name__)

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
SEARCH = 21  # days either side of a known event date to look for a publication date
MONTHS = 31


@dataclass
class Clue:
    days: set[date]
    why: str
    weekday: bool = False  # a weekday clue: the earliest day is the likeliest


def relative_range(text: str, dct: date, status: str = "happened") -> tuple[date, date] | None:
    """The days a relative expression stands for when the article was published on ``dct``."""
    t = text.lower().strip()
    t = re.sub(r"^(on|by|until|since|from|in|during|at)\s+", "", t)
    if t in ("today", "tonight", "this morning", "this afternoon", "this evening", "now"):
        return (dct, dct)
    if t in ("yesterday", "last night"):
        d = dct - timedelta(days=1)
        return (d, d)
    if t in ("tomorrow", "tomorrow night"):
        d = dct + timedelta(days=1)
        return (d, d)
    m = re.match(
        r"(last|next|this|coming)?\s*(monday|tuesday|wednesday|thursday|friday|saturday|sunday)", t
    )
    if m:
        wd = WEEKDAYS.index(m.group(2))
        mod = m.group(1)
        future = mod in ("next", "coming") or (mod is None and status == "planned")
        if future:
            delta = (wd - dct.weekday()) % 7 or 7
            d = dct + timedelta(days=delta)
        else:
            delta = (dct.weekday() - wd) % 7
            if mod == "last" and delta == 0:
                delta = 7
            d = dct - timedelta(days=delta)
        return (d, d)
    m = re.match(r"(last|next|this|the coming|the past)\s+(week|month|year)$", t)
    if m:
        shift = {"last": -1, "the past": -1, "next": 1, "the coming": 1, "this": 0}[m.group(1)]
        unit = m.group(2)
        if unit == "week":
            start = dct - timedelta(days=dct.weekday()) + timedelta(weeks=shift)
            return (start, start + timedelta(days=6))
        if unit == "month":
            y, mo = dct.year, dct.month + shift
            y, mo = y + (mo - 1) // 12, (mo - 1) % 12 + 1
            nxt = date(y + (mo == 12), mo % 12 + 1, 1)
            return (date(y, mo, 1), nxt - timedelta(days=1))
        y = dct.year + shift
        return (date(y, 1, 1), date(y, 12, 31))
    m = re.match(r"(\d+|a|one|two|three|four|five|six|seven) (day|week)s? ago", t)
    if m:
        n = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}
        k = n.get(m.group(1)) or int(m.group(1))
        d = dct - timedelta(days=k * (7 if m.group(2) == "week" else 1))
        return (d, d)
    return None


def _timex_range(tx: dict[str, Any], dct: date, status: str) -> tuple[date, date] | None:
    """Resolve a stored unanchored timex against a candidate publication date."""
    got = _their_resolve(tx, dct)
    if got is not None:
        return got
    rng = relative_range(tx["text"], dct, status)
    if rng is None and tx.get("end_value") is None and " to " in tx["text"].lower():
        a, _, b = tx["text"].lower().partition(" to ")
        ra, rb = relative_range(a, dct, status), relative_range(b, dct, status)
        if ra and rb:
            rng = (ra[0], rb[1])
    return rng


def value_range(value: str | None) -> tuple[date, date] | None:
    """The days a TIMEX3 date value covers ("2022-09-15", "2022-W37", "2022-09", "2022")."""
    if not value:
        return None
    m = re.match(r"^(\d{4})-W(\d{2})$", value)
    if m:
        try:
            start = date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
        except ValueError:
            return None
        return (start, start + timedelta(days=6))
    if not re.match(r"^\d{4}(-\d{2}){0,2}$", value):
        return None
    lo, hi = span(value, None)
    if len(value) == 10:
        lo, hi = lo + timedelta(days=1), hi - timedelta(days=1)
    return (lo, hi)


def _their_resolve(tx: dict[str, Any], dct: date) -> tuple[date, date] | None:
    """Use the timex component's own resolver (``annotate.timex.resolve``) where it can."""
    if not tx.get("symbolic"):
        return None
    try:
        from ..annotate.timex import resolve
        from ..records import Timex

        rec = Timex(
            start=tx["start"],
            end=tx["end"],
            text=tx["text"],
            type=tx["type"],
            value=tx["value"],
            sentence=tx["sentence"],
            anchored=False,
            symbolic=tx["symbolic"],
            end_value=tx.get("end_value"),
        )
        got = resolve(rec, dct.isoformat())
    except Exception:  # their resolver may not know a form; fall back to ours
        return None
    lo = value_range(got.value)
    if lo is None:
        return None
    hi = value_range(got.end_value) if got.end_value else None
    return (lo[0], hi[1] if hi and hi[1] >= lo[0] else lo[1])


ANAPHORIC = re.compile(r"\b(earlier|later|before|after|prior)\b", re.I)


def is_clue(tx: dict[str, Any]) -> bool:
    """Only day- and week-level relative times pin a publication date ("Sept. 15" only a year);
    "four days earlier" counts from another time, not from the publication date."""
    if ANAPHORIC.search(tx["text"]):
        return False
    sym = tx.get("symbolic") or ""
    if sym:
        return bool(re.search(r"WD\d|@[DW][+-]", sym))
    return relative_range(tx["text"], date(2000, 1, 3)) is not None


def _clue_days(tx: dict[str, Any], status: str, target: tuple[date, date], why: str) -> Clue | None:
    """The publication dates under which the timex would land on the target range."""
    days = set()
    for k in range(-SEARCH, SEARCH + 1):
        d = target[0] + timedelta(days=k)
        rng = _timex_range(tx, d, status)
        if rng and rng[0] <= target[1] and rng[1] >= target[0]:
            if status == "planned" and d > target[0]:
                continue  # an announcement comes before the event
            if status == "happened" and d < rng[0]:
                continue  # a report comes after the event
            days.add(d)
    if not days:
        return None
    weekday = any(w in tx["text"].lower() for w in WEEKDAYS) or tx["text"].lower() in (
        "yesterday",
        "today",
        "tomorrow",
    )
    return Clue(days, why, weekday)


CLOSE = 0.9  # relation score above which two articles report the same news


def related_articles(conn: Connection, article_id: str, min_score: float = CLOSE) -> set[str]:
    """Articles the article-linking step found to be copies or close reports of this one."""
    r = schema.relations
    q = select(r.c.article_id, r.c.other_id).where(
        (r.c.article_id == article_id) | (r.c.other_id == article_id), r.c.score >= min_score
    )
    return {x for row in conn.execute(q) for x in row if x != article_id}


def event_articles(conn: Connection, event_id: str) -> set[str]:
    em = schema.event_mentions
    return {
        x.article_id
        for x in conn.execute(select(em.c.article_id).where(em.c.event_id == event_id).distinct())
    }


COPY_KINDS = ("duplicate_of", "rewrite_of")
COPY_SPREAD = 2  # days: copies of one story dated further apart than this are no evidence


def copy_date(conn: Connection, article_id: str) -> tuple[str, str] | None:
    """A wire copy or rewrite is published when its original is: (date, evidence) or None."""
    r, a = schema.relations, schema.articles
    q = select(r.c.article_id, r.c.other_id, r.c.kind).where(
        (r.c.article_id == article_id) | (r.c.other_id == article_id), r.c.kind.in_(COPY_KINDS)
    )
    rels = conn.execute(q).all()
    others = {x for row in rels for x in row[:2] if x != article_id}
    if not others:
        return None
    exact = any(row.kind == "duplicate_of" for row in rels)
    rows = conn.execute(
        select(a.c.id, a.c.pub_date).where(
            a.c.id.in_(others), a.c.pub_date_precision == "day", a.c.pub_date_source != "inferred"
        )
    ).all()
    days = sorted((date.fromisoformat(x.pub_date), x.id) for x in rows if x.pub_date)
    if not days or (days[-1][0] - days[0][0]).days > COPY_SPREAD:
        return None
    if len(days) < 2 and not exact:
        return None  # one rewrite may be a later re-publication: two must agree
    first, src = days[0]
    return first.isoformat(), f"copy of {src} published {first.isoformat()}"


def strong_match(m: dict[str, Any], ev: dict[str, Any]) -> bool:
    """A match good enough to date an article by: same kind, same mode, the same actors
    (at least two shared, or one set inside the other), and no clash of places."""
    if compatible(m, None, ev, any_date=True) <= 0:
        return False
    if m["mode"] and ev["mode"] and m["mode"] != ev["mode"]:
        return False
    mine, theirs = set(m["actor_ids"]), set(ev["actors"] or [])
    shared = mine & theirs
    return len(shared) >= 2 or (bool(shared) and (mine <= theirs or theirs <= mine))


def has_explicit_date(conn: Connection, event_id: str) -> bool:
    em = schema.event_mentions
    return (
        conn.execute(
            select(em.c.id).where(em.c.event_id == event_id, em.c.timex.is_not(None)).limit(1)
        ).first()
        is not None
    )


PLACE_LABELS = ("GPE", "LOC", "FAC")


def article_places(conn: Connection, article_id: str) -> set[str]:
    """The places an article names (folded): where its events happen and its place mentions."""
    em, mt = schema.event_mentions, schema.mentions
    out = {
        fold(r.location)
        for r in conn.execute(
            select(em.c.location).where(em.c.article_id == article_id, em.c.location.is_not(None))
        )
    }
    out |= {
        fold(r.text)
        for r in conn.execute(
            select(mt.c.text).where(mt.c.article_id == article_id, mt.c.label.in_(PLACE_LABELS))
        )
    }
    return {p for p in out if p}


def same_place(location: str | None, places: set[str]) -> bool:
    """The event's place is one the article names ("Samarkand" in both)."""
    if not location:
        return False
    f = fold(location)
    return any(f == p or (len(p) > 3 and (p in f or f in p)) for p in places)


def target_rank(explicit: bool, related: bool, placed: bool) -> int:
    """How far a strongly matching dated event may date an article (0: not at all).

    The same place counts most (same kind, same actors, same place: the same event, not another
    meeting of the same people), then a date a text gives, then a close report of this article
    carrying it. A day-dated report alone, with none of these, does not say which of several
    meetings of the same people this one is.
    """
    return 4 * placed + 2 * explicit + related


def _event_target(row: dict[str, Any]) -> tuple[date, date] | None:
    if row["precision"] != "day" or not row["date"]:
        return None
    d = parse_date(row["date"])
    end = parse_date(row["date_end"]) or d
    return (d, end) if d else None


# -- same-story reports: "Saturday" here is the Saturday a dated report of the story names ------

WEEKDAY_SYM = re.compile(r"^DCT[<>+~?-]WD\d(\|(?!WE$)[^/]*)?$")
WEEKDAY_WORD = re.compile(r"\b(mon|tues|wednes|thurs|fri|satur|sun)days?\b", re.I)
MONTH_WORD = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?(\s+\d|$|\s*,)", re.I
)
DAY_WORD = re.compile(
    r"\b(today|tonight|yesterday|tomorrow|last night|this (morning|afternoon|evening))\b", re.I
)
CLOCK_ONLY = re.compile(r"^DCT@D\+0\|T\d")
DAY_OFFSET = re.compile(r"^DCT@D([+-]\d+)(\|T(MO|AF|EV|NI))?$")
STORY_MIN = 0.4  # same_story_as score (link/articles.py's story_threshold) that counts
# shared content words (and their sum weighted by 1 / sentences holding the word) needed to
# tie a weekday here to a named day in a report of the same story ...
SIM_MIN, WSIM_MIN = 1, 0.3
SPREAD = 14  # ... in a story whose dated reports lie within this many days; above, more:
SIM_MIN_WIDE, WSIM_MIN_WIDE = 2, 0.3
DAY_SIM_MIN, DAY_WSIM_MIN = 4, 3.0  # "yesterday", "today": no weekday to check, so much more
_STOP_WORDS = """the and that with for was were has have had from this said says his her their they them
    who whom when where what which about after before into over been will would could also than
    then there here police officers officer man woman men women people monday tuesday wednesday
    thursday friday saturday sunday morning afternoon evening night today tonight yesterday week
    weekend last early late around just year years old not but are its our out one two three
    told according reported near more most other some any all"""
_STOP = set(_STOP_WORDS.split())
_WORD = re.compile(r"[a-z][a-z'\-]{2,}")


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def weekday_clue(tx: dict[str, Any]) -> bool:
    """An unanchored weekday ("Saturday night", "on Tuesday"), not a dated day ("Tuesday, May 2")."""
    sym = tx.get("symbolic") or ""
    return (
        not tx["anchored"]
        and bool(WEEKDAY_SYM.match(sym))
        and bool(WEEKDAY_WORD.search(tx["text"]))
        and not MONTH_WORD.search(tx["text"])
    )


def named_day(tx: dict[str, Any]) -> date | None:
    """The day an anchored timex names, when it names one (a weekday, a date, "yesterday");
    not a bare clock time or "an hour later", which only repeat the publication day."""
    if not tx["anchored"] or not re.match(r"^\d{4}-\d{2}-\d{2}", tx["value"] or ""):
        return None
    sym, text = tx.get("symbolic") or "", tx["text"]
    if CLOCK_ONLY.match(sym) or ANAPHORIC.search(text):
        return None
    if not (WEEKDAY_WORD.search(text) or DAY_WORD.search(text) or re.search(r"\d", text)):
        return None
    if sym and not (WEEKDAY_WORD.search(text) or DAY_WORD.search(text) or MONTH_WORD.search(text)):
        return None
    return parse_date(tx["value"][:10])


def weekday_days(tx: dict[str, Any], day: date) -> set[date]:
    """The publication dates under which the weekday expression would mean ``day``."""
    from ..annotate.timex import resolve_symbolic

    form = tx["symbolic"].split(" / ")[0]
    out = set()
    for k in range(-7, 8):
        d = day + timedelta(days=k)
        try:
            v = resolve_symbolic(form, d)
        except ValueError:
            return set()
        if v[:10] == day.isoformat():
            out.add(d)
    return out


def story_neighbours(conn: Connection, article_id: str) -> dict[str, tuple[str, float, date]]:
    """Dated reports of the same story: article id -> (relation kind, score, publication day).

    From ``relations`` (copies, rewrites, same-story pairs, both directions; indexed lookups)
    and the article's same-event cluster. Inferred dates are not used: no chains of guesses.
    """
    r, a = schema.relations, schema.articles
    found: dict[str, tuple[str, float]] = {}
    for col, other in ((r.c.article_id, r.c.other_id), (r.c.other_id, r.c.article_id)):
        for row in conn.execute(select(other, r.c.kind, r.c.score).where(col == article_id)):
            oid, kind, score = row
            if kind == "same_story_as" and score < STORY_MIN:
                continue
            if oid not in found or score > found[oid][1]:
                found[oid] = (kind, float(score))
    cid = conn.execute(select(a.c.cluster_id).where(a.c.id == article_id)).scalar()
    if cid:
        q = select(a.c.id).where(a.c.cluster_id == cid, a.c.id != article_id).limit(50)
        for (oid,) in conn.execute(q):
            found.setdefault(oid, ("same_cluster", STORY_MIN))
    if not found:
        return {}
    rows = conn.execute(
        select(a.c.id, a.c.pub_date).where(
            a.c.id.in_(list(found)),
            a.c.pub_date_precision == "day",
            a.c.pub_date_source != "inferred",
        )
    ).all()
    return {x.id: (*found[x.id], d) for x in rows if (d := parse_date(x.pub_date)) is not None}


def day_clue(tx: dict[str, Any]) -> int | None:
    """Days before the publication date of an unanchored "today", "yesterday", "last night",
    "this morning" (0, 1, 1, 0); None for anything else."""
    m = DAY_OFFSET.match(tx.get("symbolic") or "")
    if tx["anchored"] or not m or not DAY_WORD.search(tx["text"]):
        return None
    if WEEKDAY_WORD.search(tx["text"]) or ANAPHORIC.search(tx["text"]):
        return None
    return -int(m.group(1))


def clue_days(tx: dict[str, Any], day: date) -> set[date]:
    """The publication dates under which the clue would mean ``day``."""
    back = day_clue(tx)
    if back is not None:
        return {day + timedelta(days=back)}
    return weekday_days(tx, day)


def story_clues(
    conn: Connection, article_id: str, txs: dict[int, dict[str, Any]]
) -> tuple[list[Clue], str]:
    """Clues from dated reports of the same story: a weekday here and a named day there, in
    sentences that tell the same thing (shared content words), fix the weekday's date, and
    so the publication date within a week; "yesterday" likewise, but only on much stronger
    agreement (it has no weekday to check). (clues, reason when there are none)."""
    hs = [tx for tx in txs.values() if weekday_clue(tx) or day_clue(tx) is not None]
    if not hs:
        return [], "no weekday, today or yesterday to tie to a report of the same story"
    nbs = story_neighbours(conn, article_id)
    if not nbs:
        return [], "no dated report of the same story"
    tt, st = schema.timexes, schema.sentences
    anchors = []
    for row in conn.execute(
        select(tt).where(tt.c.article_id.in_(list(nbs)), tt.c.anchored.is_(True))
    ).mappings():
        day = named_day(dict(row))
        if day is not None:
            anchors.append((row["article_id"], dict(row), day))
    if not anchors:
        return [], "no named day in the dated reports of the same story"
    words: dict[tuple[str, int], set[str]] = {}
    freq: dict[str, Counter[str]] = {}  # per article: in how many sentences a word occurs
    for row in conn.execute(
        select(st.c.article_id, st.c.idx, st.c.text).where(st.c.article_id.in_([article_id, *nbs]))
    ):
        ws = content_words(row.text)
        words[(row.article_id, row.idx)] = ws
        freq.setdefault(row.article_id, Counter()).update(ws)
    pubs = [v[2] for v in nbs.values()]
    wide = (max(pubs) - min(pubs)).days > SPREAD
    # a story of several episodes (shooting, arrest, trial): its weekdays recur, so the
    # words around them must agree more before "Tuesday" here is a Tuesday there
    min_n, min_w = (SIM_MIN_WIDE, WSIM_MIN_WIDE) if wide else (SIM_MIN, WSIM_MIN)
    clues: list[Clue] = []
    ambiguous = []
    for h in sorted(hs, key=lambda t: t["idx"]):
        by_day = day_clue(h) is not None
        if by_day and wide:
            continue  # "yesterday" in a story of several episodes: which one?
        need_n, need_w = (DAY_SIM_MIN, DAY_WSIM_MIN) if by_day else (min_n, min_w)
        hw = words.get((article_id, h["sentence"]), set())
        past = not re.match(r"^DCT[>+]", h["symbolic"])
        support: dict[date, list[tuple[float, str, dict[str, Any]]]] = {}
        for oid, ntx, day in anchors:
            if past and day > nbs[oid][2]:
                continue  # our past Tuesday is not a Tuesday that report still looks forward to
            shared = hw & words.get((oid, ntx["sentence"]), set())
            # a word in every sentence of either article (the story's names) tells little
            sim = sum(1 / max(freq[article_id][w], freq[oid][w], 1) for w in shared)
            if len(shared) < need_n or sim < need_w or not clue_days(h, day):
                continue
            support.setdefault(day, []).append((sim, oid, ntx))
        if not support:
            continue
        ranked = sorted(
            support.items(),
            key=lambda kv: (-len({x[1] for x in kv[1]}), -max(x[0] for x in kv[1]), kv[0]),
        )
        if len(ranked) > 1:
            n0 = len({x[1] for x in ranked[0][1]})
            n1 = len({x[1] for x in ranked[1][1]})
            if n1 * 2 > n0:  # no clear majority of reports for one day
                ambiguous.append(h["text"])
                continue
        day, sup = ranked[0]
        sim, oid, ntx = max(sup, key=lambda x: x[0])
        why = (
            f"{h['text']!r} = {ntx['text']!r} ({day.isoformat()}) in {oid}, "
            f"a report of the same story"
        )
        clues.append(Clue(clue_days(h, day), why, not by_day))
    if clues:
        return clues, ""
    if ambiguous:
        return [], "ambiguous: reports of the same story name different days for " + ", ".join(
            repr(x) for x in ambiguous[:3]
        )
    return [], "no weekday here matches a named day in a dated report of the same story"


TENSED = re.compile(r"^DCT([pf])M\d\d(-\d\d)?(\|.*)?$")


def tense_conflict(tx: dict[str, Any], d: date) -> bool:
    """A month (and day) named in the past tense that would lie after ``d`` ("left rehab on
    June 13" cannot be in an article of 5 May), or in the future tense before it."""
    if tx["anchored"]:
        return False
    form = (tx.get("symbolic") or "").split(" / ")[0]
    m = TENSED.match(form)
    if not m:
        return False
    from ..annotate.timex import resolve_symbolic

    try:
        rng = value_range(resolve_symbolic(form, d)[:10].rstrip("T"))
    except ValueError:
        return False
    if rng is None:
        return False
    return rng[0] > d if m.group(1) == "p" else rng[1] < d


def infer_date(conn: Connection, article_id: str, index: EntityIndex) -> tuple[str | None, str]:
    """(ISO date or None, evidence or reason) for one undated article."""
    tt = schema.timexes
    txs = {
        r["idx"]: dict(r)
        for r in conn.execute(select(tt).where(tt.c.article_id == article_id)).mappings()
    }
    clues: list[Clue] = []
    floor: tuple[date, str] | None = None
    by_sentence: dict[int, list[dict[str, Any]]] = {}
    for tx in txs.values():
        if not tx["anchored"] and is_clue(tx):
            by_sentence.setdefault(tx["sentence"], []).append(tx)
    related = related_articles(conn, article_id)
    places: set[str] | None = None
    used: set[int] = set()
    for m in load_mentions(conn, [article_id], only_unlinked=False):
        tx = txs.get(m["timex"]) if m["timex"] is not None else None
        if tx is not None and tx["anchored"] and m["status"] == "happened":
            d = parse_date(tx["value"])
            if d and len(tx["value"]) == 10 and (floor is None or d > floor[0]):
                floor = (d, f"reports {tx['text']!r} as past")
        if tx is None:  # the event annotator may leave an undated article's times unattached
            near = by_sentence.get(m["sentence"], [])
            tx = min(near, key=lambda t: abs(t["start"] - m["start"])) if near else None
        if tx is None or tx["anchored"] or not is_clue(tx) or tx["idx"] in used:
            continue
        m["actor_ids"] = _actor_ids(conn, index, m)
        if places is None:
            places = article_places(conn, article_id)
        targets: dict[tuple[date, date], tuple[int, str]] = {}
        for ev in _candidates(conn, m, None):
            tgt = _event_target(ev)
            if tgt and strong_match(m, ev):
                rank = target_rank(
                    has_explicit_date(conn, ev["id"]),
                    bool(event_articles(conn, ev["id"]) & related),
                    same_place(ev["location"], places),
                )
                if rank and (tgt not in targets or rank > targets[tgt][0]):
                    targets[tgt] = (rank, ev["title"])
        if targets:  # dates given in a text beat publication dates; a shared place beats none
            top = max(v[0] for v in targets.values())
            targets = {k: v for k, v in targets.items() if v[0] == top}
        if not targets:
            continue
        used.add(tx["idx"])
        days: set[date] = set()
        whys = []
        weekday = False
        for tgt, (_, title) in sorted(targets.items()):
            why = f"{tx['text']!r} ({m['status']}) = {title} on {tgt[0].isoformat()}"
            clue = _clue_days(tx, m["status"], tgt, why)
            if clue:
                days |= clue.days
                whys.append(why)
                weekday = weekday or clue.weekday
        if days:
            clues.append(Clue(days, " or ".join(whys), weekday))
    story, story_reason = story_clues(conn, article_id, txs)
    clues += story
    copy = copy_date(conn, article_id)
    if copy and floor is not None and date.fromisoformat(copy[0]) < floor[0]:
        copy = None
    if not clues:
        if copy:
            return copy
        reason = f"no relative time tied to a dated event; {story_reason}"
        if floor:
            reason += f"; not before {floor[0].isoformat()} ({floor[1]})"
        return None, reason
    st = schema.sentences
    future = {
        r.idx
        for r in conn.execute(select(st.c.idx, st.c.text).where(st.c.article_id == article_id))
        if FUTURE_WORDS.search(r.text)
    }
    tensed = [tx for tx in txs.values() if tx["sentence"] not in future]
    days, why = combine(clues, floor, tensed)
    if copy:
        day = date.fromisoformat(copy[0])
        if days and min(abs((d - day).days) for d in days) > 7:
            return None, f"conflicting evidence: {copy[1]} vs {why}"
        return copy
    if not days:
        return None, why
    ordered = sorted(days)
    pick = ordered[0] if any(c.weekday for c in clues) else ordered[len(ordered) // 2]
    span_txt = (
        f"{ordered[0].isoformat()}..{ordered[-1].isoformat()}" if len(ordered) > 1 else "exact"
    )
    return pick.isoformat(), f"{why} (possible: {span_txt})"


FUTURE_WORDS = re.compile(
    r"\b(will|scheduled|set (for|to)|expected|due (to|on|in|back)|plans? to|planned|slated"
    r"|upcoming|to be)\b",
    re.I,
)  # a sentence about what is to come: its months and days are not reported as past


def combine(
    clues: list[Clue], floor: tuple[date, str] | None, tensed: list[dict[str, Any]]
) -> tuple[set[date], str]:
    """The publication days all clues allow, at or after the floor, that no tensed month or
    day contradicts: (days, evidence), or (empty, the reason) when they disagree."""
    days = set(clues[0].days)
    for c in clues[1:]:
        if not days & c.days:
            return set(), f"conflicting evidence: {clues[0].why} vs {c.why}"
        days &= c.days
    if floor:
        days = {d for d in days if d >= floor[0]}
        if not days:
            return set(), f"conflicting evidence: {clues[0].why} vs {floor[1]}"
    for tx in tensed:
        kept = {d for d in days if not tense_conflict(tx, d)}
        if not kept:
            return set(), f"conflicting evidence: {clues[0].why} vs {tx['text']!r} (tense)"
        days = kept
    ordered = sorted(days)
    if (ordered[-1] - ordered[0]).days > 7:
        return set(), "ambiguous: " + "; ".join(c.why for c in clues)
    return days, "; ".join(dict.fromkeys(c.why for c in clues))


def date_articles(
    conn: Connection, article_ids: Sequence[str], index: EntityIndex
) -> dict[str, dict[str, Any]]:
    """Infer publication dates for the undated articles among these; resolve their times."""
    a = schema.articles
    rows = conn.execute(
        select(a.c.id)
        .where(a.c.id.in_(list(article_ids)), a.c.pub_date.is_(None))
        .order_by(a.c.content_hash, a.c.id)  # by content: never by path-derived ids
    ).all()
    out: dict[str, dict[str, Any]] = {}
    for (aid,) in rows:
        value, evidence = infer_date(conn, aid, index)
        out[aid] = {"date": value, "evidence": evidence}
        if value is None:
            conn.execute(update(a).where(a.c.id == aid).values(pub_date_evidence=evidence))
            log.info("left %s undated: %s", aid, evidence)
            continue
        conn.execute(
            update(a)
            .where(a.c.id == aid)
            .values(
                pub_date=value,
                pub_date_source="inferred",
                pub_date_precision="day",
                pub_date_evidence=evidence,
            )
        )
        resolve_times(conn, aid, parse_date(value))  # type: ignore[arg-type]
        log.info("dated %s to %s: %s", aid, value, evidence)
    return out


def resolve_times(conn: Connection, article_id: str, dct: date) -> int:
    """Anchor an article's relative times to its (new) date; update dependent event dates."""
    tt, em = schema.timexes, schema.event_mentions
    txs = [
        dict(r)
        for r in conn.execute(
            select(tt).where(tt.c.article_id == article_id, tt.c.anchored.is_(False))
        ).mappings()
    ]
    status_of = {
        r.timex: r.status
        for r in conn.execute(
            select(em.c.timex, em.c.status).where(
                em.c.article_id == article_id, em.c.timex.is_not(None)
            )
        )
    }
    n = 0
    values: dict[int, tuple[str, str | None, str]] = {}
    for tx in txs:
        status = status_of.get(tx["idx"], "happened")
        rng = _timex_range(tx, dct, status)
        if rng is None:
            continue
        tx_value, tx_end = timex3_values(tx, dct, status, rng)
        conn.execute(
            update(tt)
            .where(tt.c.id == tx["id"])
            .values(value=tx_value, end_value=tx_end, anchored=True)
        )
        values[tx["idx"]] = _as_value(rng)  # events store day ranges; the timex row TIMEX3
        n += 1
    for idx, (value, end, prec) in values.items():
        conn.execute(
            update(em)
            .where(em.c.article_id == article_id, em.c.timex == idx)
            .values(date=value, date_end=end, precision=prec)
        )
    # Mentions without a time of their own stay undated: the annotator gives the publication
    # day only to simple-past news of the day, which it cannot tell apart here without the parse;
    # linking still places them by the (now known) publication date.
    return n


def timex3_values(
    tx: dict[str, Any], dct: date, status: str, rng: tuple[date, date]
) -> tuple[str, str | None]:
    """The TIMEX3 value (and end value) of a relative time anchored at ``dct``: the timex
    component's own resolution where it has one, else the range written as a TIMEX3 value
    ("2022-09-15", "2022-W37", "2022-09", "2022"), never a made-up day range."""
    if tx.get("symbolic"):
        try:
            from ..annotate.timex import resolve
            from ..records import Timex

            got = resolve(
                Timex(
                    start=tx["start"],
                    end=tx["end"],
                    text=tx["text"],
                    type=tx["type"],
                    value=tx["value"],
                    sentence=tx["sentence"],
                    anchored=False,
                    symbolic=tx["symbolic"],
                    end_value=tx.get("end_value"),
                ),
                dct.isoformat(),
            )
            if got.anchored and value_range(got.value) is not None:
                return got.value, got.end_value
        except Exception:  # their resolver may not know a form; write the range ourselves
            pass
    return range_timex3(rng)


def range_timex3(rng: tuple[date, date]) -> tuple[str, str | None]:
    """A day range as a TIMEX3 value: a day, an ISO week, a month or a year; else two days."""
    lo, hi = rng
    if lo == hi:
        return lo.isoformat(), None
    if lo.weekday() == 0 and (hi - lo).days == 6:
        y, w, _ = lo.isocalendar()
        return f"{y}-W{w:02d}", None
    if lo.day == 1 and (hi + timedelta(days=1)).day == 1 and lo.month == hi.month:
        return lo.isoformat()[:7], None
    if (lo.month, lo.day, hi.month, hi.day) == (1, 1, 12, 31) and lo.year == hi.year:
        return str(lo.year), None
    return lo.isoformat(), hi.isoformat()


def _as_value(rng: tuple[date, date]) -> tuple[str, str | None, str]:
    lo, hi = rng
    if lo == hi:
        return lo.isoformat(), None, "day"
    if lo.day == 1 and (hi + timedelta(days=1)).day == 1 and lo.month == hi.month:
        return lo.isoformat()[:7], None, "month"
    if (lo.month, lo.day, hi.month, hi.day) == (1, 1, 12, 31) and lo.year == hi.year:
        return str(lo.year), None, "year"  # "two years ago": a year, not 365 days
    return lo.isoformat(), hi.isoformat(), "day"
