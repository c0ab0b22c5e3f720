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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache, lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Integer, bindparam, func, insert, select, text, update

from ..store import in_chunks, schema
from .entities import EntityIndex, fold, prefetch_names, resolve

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


@lru_cache(maxsize=1 << 16)
def span(value: str | None, precision: str | None, end: str | None = None) -> tuple[date, date]:
    """The days a dated value may stand for, as an inclusive range (cached: a batch scores
    ~200k candidate events, and their dates repeat)."""
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


def _explicit_day(m: dict[str, Any]) -> bool:
    """The mention's text names its day ("on March 16, 2013"; not "in 2013", not the
    publication date)."""
    return m["timex"] is not None and m["date"] is not None and m["precision"] == "day"


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
    pubs = ev.get("pub_span")
    if mspan is not None and not ev["date"] and pubs and (mspan[1] < pubs[0] or mspan[0] > pubs[1]):
        return 0.0  # an undated event lies near its reports: not a story two years apart
    if mspan is None and ev["date"] and not any_date and not m.get("related_ok", {}).get(ev["id"]):
        return 0.0  # an undated mention joins a dated event only through a related article
    ma, ea = set(m["actor_ids"]), set(ev["actors"] or [])
    if not ma and not ea:
        # no actors on either side: only the same kind of event at the same explicit day/place
        same_mode = (m["mode"] or "") == (ev["mode"] or "")
        dated = _explicit_day(m) and ev["precision"] == "day"
        placed = bool(m["location"] and ev["location"])
        return 0.3 if same_mode and (dated or placed) and ev["date"] else 0.0
    ov = _overlap(ma, ea)
    if ov < 0.5 or (len(ma) >= 2 and len(ea) >= 2 and len(ma & ea) < 2):
        return 0.0  # "Xi met Erdogan" is not "Xi met Putin"
    bonus = 0.1 if m["location"] and ev["location"] else 0.0
    return min(1.0, ov * 0.8 + bonus + (0.1 if mspan is not None and ev["date"] else 0.0))


WIDE_LO, WIDE_HI = 0, 10**7  # day range of an event that may lie anywhere in time
WIDE = -1  # its bucket
BUCKET_DAYS = 16  # time buckets of the blocking rows
MAX_SPAN = 400  # days: a longer span (reports far apart) is stored as WIDE
MAX_CANDIDATES = 300  # blocking rows read per mention at most: the nearest in time win


def day_range(lo: date, hi: date) -> tuple[int, int]:
    """A span as stored in ``event_actors`` (WIDE when it is too long to block on)."""
    if lo == date.min or hi == date.max or (hi - lo).days > MAX_SPAN:
        return WIDE_LO, WIDE_HI
    return lo.toordinal(), hi.toordinal()


def range_span(lo: int, hi: int) -> tuple[date, date] | None:
    """A stored day range as dates (None for WIDE): the inverse of :func:`day_range`."""
    if lo == WIDE_LO:
        return None
    return date.fromordinal(lo), date.fromordinal(hi)


def stored_span(conn: Connection, eid: str) -> tuple[date, date] | None:
    """Where an event's blocking rows say it may lie (None: anywhere, or no rows)."""
    r = conn.execute(STORED_SPAN, {"eid": eid}).first()
    return range_span(r.day_lo, r.day_hi) if r is not None else None


def buckets(lo: int, hi: int) -> list[int]:
    if lo == WIDE_LO:
        return [WIDE]
    return list(range(lo // BUCKET_DAYS, hi // BUCKET_DAYS + 1))


def event_span(row: dict[str, Any], pubs: Sequence[date]) -> tuple[date, date] | None:
    """Where an event may lie: its date's span, else around its reports' publication dates."""
    if row.get("date"):
        return span(row["date"], row.get("precision"), row.get("date_end"))
    if pubs:
        return (min(pubs) - timedelta(days=WEAK_AHEAD), max(pubs) + timedelta(days=WEAK_AHEAD))
    return None


BLOCKS_WRITTEN = "event_blocks"  # blocking rows written in this transaction
NEW_EVENT = ("new",)  # BLOCKS_WRITTEN's mark of an event created in it (events are never deleted)
BATCH_SEQS = "seqs"  # the last seq given per table in this transaction
BATCH_ENTITIES = "entities"  # entity names read in this transaction


def batch_cache(conn: Connection, key: str) -> dict[Any, Any]:
    """A cache that lives as long as the write transaction (``Store.transaction`` clears it)."""
    from ..store import BATCH_CACHE

    return conn.info.setdefault(BATCH_CACHE, {}).setdefault(key, {})


BIG_EVENT = 20  # reports: an event this big is refreshed once per batch, not once per mention
ASSIGNED = "event_assignments"  # event id -> its mentions linked but not yet written
ASSIGNED_BY_ARTICLE = "event_assignments_by_article"  # article id -> those events
CREATED = "new_events"  # event id -> the row of an event made in this batch, not yet written

# The linker's per-mention statements, built once: building and cache-keying a SQLAlchemy
# expression costs several times what SQLite takes to run these look-ups.
_em, _ev, _ea, _a = schema.event_mentions, schema.events, schema.event_actors, schema.articles
SET_EVENT = update(_em).where(_em.c.id == bindparam("mid")).values(event_id=bindparam("eid"))
EVENT_MENTIONS = (
    select(
        _em,
        _a.c.outlet.label("outlet"),
        _a.c.pub_date.label("pub_date"),
        _a.c.content_hash.label("content_hash"),
    )
    .join(_a, _a.c.id == _em.c.article_id)
    .where(_em.c.event_id == bindparam("eid"))
    .order_by(_a.c.content_hash, _em.c.sentence, _em.c.start)  # ties: by content
)
EVENT_ACTORS = select(_ev.c.actors).where(_ev.c.id == bindparam("eid"))
UPDATE_EVENT = update(_ev).where(_ev.c.id == bindparam("eid_"))  # SET: the keys passed
DROP_BLOCKS = _ea.delete().where(_ea.c.event_id == bindparam("eid"))
STORED_SPAN = select(_ea.c.day_lo, _ea.c.day_hi).where(_ea.c.event_id == bindparam("eid")).limit(1)


def assign_mention(conn: Connection, m: dict[str, Any], eid: str) -> None:
    """Link a mention to an event; written with the others in one statement at the end of
    :func:`link_events` (:func:`write_pending`). Until then the readers of mentions by
    event add the unwritten ones (:func:`_unwritten`): on PostgreSQL one UPDATE per mention
    is one round trip."""
    batch_cache(conn, ASSIGNED).setdefault(eid, []).append(m)
    batch_cache(conn, ASSIGNED_BY_ARTICLE).setdefault(m["article_id"], set()).add(eid)


def _unwritten(conn: Connection, eid: str) -> list[dict[str, Any]]:
    """An event's mentions linked in this batch but not yet written."""
    return batch_cache(conn, ASSIGNED).get(eid, [])


def write_pending(conn: Connection) -> None:
    """Write the batch's new events and its pending mention -> event links."""
    created = batch_cache(conn, CREATED)
    if created:
        conn.execute(insert(schema.events), list(created.values()))
        created.clear()
    pending = batch_cache(conn, ASSIGNED)
    rows = [{"mid": m["id"], "eid": eid} for eid, ms in pending.items() for m in ms]
    if rows:
        conn.execute(SET_EVENT, rows)
    pending.clear()
    batch_cache(conn, ASSIGNED_BY_ARTICLE).clear()


def update_event(conn: Connection, eid: str, values: dict[str, Any]) -> None:
    """Change an event's columns: in memory while it is new to this batch, else in the store."""
    created = batch_cache(conn, CREATED)
    if eid in created:
        created[eid].update(values)
    else:
        forget_event(conn, eid)
        conn.execute(UPDATE_EVENT, {"eid_": eid, **values})


BLOCK_COLUMNS = ("event_id", "entity_id", "bucket", "family", "dated", "day_lo", "day_hi")


def index_event(
    conn: Connection,
    eid: str,
    etype: str,
    actors: Sequence[str],
    where: tuple[date, date] | None,
    dated: bool,
) -> None:
    """Rewrite an event's blocking rows (``event_actors``) after its date or actors changed."""
    lo, hi = day_range(*where) if where else (WIDE_LO, WIDE_HI)
    fam = family(etype)
    written = batch_cache(conn, BLOCKS_WRITTEN)
    state = (fam, tuple(actors), lo, hi, dated)
    before = written.get(eid)
    if before == state:
        return  # unchanged since this batch last wrote it
    written[eid] = state
    if before is not NEW_EVENT:  # an event created in this transaction has no rows yet
        conn.execute(DROP_BLOCKS, {"eid": eid})
    keys = list(dict.fromkeys(actors)) or [""]
    rows = [(eid, k, b, fam, dated, lo, hi) for k in keys for b in buckets(lo, hi)]
    # one multi-row INSERT: an executemany costs a pipeline sync per event on PostgreSQL
    params = {
        f"{c}_{i}": v for i, row in enumerate(rows) for c, v in zip(BLOCK_COLUMNS, row, strict=True)
    }
    conn.execute(_insert_blocks(len(rows)), params)


@lru_cache(maxsize=256)
def _insert_blocks(n: int) -> Any:
    """INSERT of ``n`` blocking rows, parameters named ``<column>_<row>``: built and compiled
    once per ``n`` (SQLAlchemy compiles a multi-row ``insert().values()`` on every call)."""
    rows = (", ".join(f":{c}_{i}" for c in BLOCK_COLUMNS) for i in range(n))
    values = ", ".join(f"({r})" for r in rows)
    return text(f"INSERT INTO event_actors ({', '.join(BLOCK_COLUMNS)}) VALUES {values}")


def blocked_events(
    conn: Connection,
    keys: Sequence[str],
    where: tuple[date, date] | None,
    *,
    fam: str | None = None,
    dated_only: bool = False,
    limit: int = MAX_CANDIDATES,
) -> dict[str, tuple[int, int]]:
    """Event id -> stored day range, for events with one of these actors ("" = no actors)
    whose range meets ``where`` (any time when None or open-ended: then the latest ones)."""
    args: dict[str, Any] = {"keys": list(dict.fromkeys(keys)), "fam": fam, "lim": limit}

    def run(kind: str, ordered: bool = True, **more: Any) -> list[Any]:
        q = _blocked_query(kind, fam is not None, dated_only, ordered)
        return conn.execute(q, {**args, **more}).all()  # one fetchall, not a fetch per row

    def nearest(b_lo: int, b_hi: int, wide: bool) -> list[Any]:
        """The ``limit`` rows of the highest buckets in b_lo..b_hi (then the wide bucket):
        first one unordered probe that reads at most limit + 1 rows; only where more match
        (a busy actor's weeks in a big store), one backward index scan per actor, each
        stopping at ``limit``, so the rows read stay capped too, not only those returned."""
        bks = [WIDE, *range(b_lo, b_hi + 1)] if wide else None
        probe = (
            run("buckets", False, bks=bks, lim=limit + 1)
            if wide
            else run("range", False, b_lo=b_lo, b_hi=b_hi, lim=limit + 1)
        )
        if len(probe) <= limit:
            got = probe
        else:
            got = []
            for key in args["keys"]:
                got += run("key_range", key=key, b_lo=b_lo, b_hi=b_hi)
                if wide:
                    got += run("key_wide", key=key)
        return sorted(got, key=itemgetter(3), reverse=True)[:limit]  # (stable) by bucket

    out: dict[str, tuple[int, int]] = {}
    if where is None or where[0].year <= 1900:  # "since the invasion": the latest before hi
        hi = WIDE_HI if where is None else where[1].toordinal()
        rows = []
        for key in args["keys"]:  # one backward index scan per actor
            rows += run("latest", key=key, b_hi=hi // BUCKET_DAYS)
    else:
        # rows whose day range misses ``where`` are skipped inside the (covering) index scan,
        # so the limit counts only events that may be the same, not the bucket's crowd
        args["lo"], args["hi"] = where[0].toordinal(), where[1].toordinal()
        b_lo, b_hi = args["lo"] // BUCKET_DAYS, args["hi"] // BUCKET_DAYS
        if b_hi - b_lo < 64:  # the wide bucket with these: one probe in the common case
            rows = nearest(b_lo, b_hi, wide=True)
        else:
            rows = nearest(b_lo, b_hi, wide=False) + run("wide")
    for eid, lo, hi, _bucket in rows:
        out.setdefault(eid, (lo, hi))
    return out


@cache
def _blocked_query(kind: str, by_family: bool, dated_only: bool, ordered: bool = True) -> Any:
    """The look-ups of :func:`blocked_events`, built once: ``latest`` (one actor's latest
    rows before a bucket), ``buckets`` (these buckets), ``range`` (a bucket range), ``wide``;
    ``key_range`` and ``key_wide``: one actor's rows of a range / of the wide bucket.
    Unordered: a probe that may stop at the limit without sorting."""
    ea = schema.event_actors
    q = select(ea.c.event_id, ea.c.day_lo, ea.c.day_hi, ea.c.bucket)
    if kind in ("latest", "key_range", "key_wide"):
        q = q.where(ea.c.entity_id == bindparam("key"))
    else:
        q = q.where(ea.c.entity_id.in_(bindparam("keys", expanding=True)))
    if by_family:
        q = q.where(ea.c.family == bindparam("fam"))
    if dated_only:
        q = q.where(ea.c.dated.is_(True))
    if kind == "latest":
        q = q.where(ea.c.bucket <= bindparam("b_hi"))
    elif kind == "buckets":
        q = q.where(ea.c.bucket.in_(bindparam("bks", expanding=True)))
    elif kind in ("range", "key_range"):
        q = q.where(ea.c.bucket.between(bindparam("b_lo"), bindparam("b_hi")))
    elif kind in ("wide", "key_wide"):
        q = q.where(ea.c.bucket == WIDE)
    if kind in ("buckets", "range", "key_range"):  # overlapping lo..hi (wide rows always do)
        q = q.where(ea.c.day_lo <= bindparam("hi"), ea.c.day_hi >= bindparam("lo"))
    if ordered and kind not in ("wide", "key_wide"):
        q = q.order_by(ea.c.bucket.desc())
    return q.limit(bindparam("lim", type_=Integer))


# what matching reads of a candidate event (not its history or outlets: JSON decoding was the cost)
CANDIDATE_COLUMNS = (
    "id",
    "seq",
    "type",
    "mode",
    "title",
    "date",
    "date_end",
    "precision",
    "status",
    "location",
    "actors",
    "n_articles",
    "status_history",  # (two entries at most: a status changes to "happened" once)
)


def _candidates(
    conn: Connection,
    m: dict[str, Any],
    mspan: tuple[date, date] | None,
    *,
    extra: Sequence[str] = (),
    keep: Callable[[dict[str, Any]], bool] | None = None,
) -> list[dict[str, Any]]:
    """Events of the same family that share an actor with the mention (or, for a mention
    without actors, that have none) and may lie in its time span, oldest first.

    ``extra`` adds events found another way (those reported by a related article); ``keep``
    filters them further. Undated candidates carry ``pub_span``, the stored range around
    their reports.
    """
    fam = family(m["type"])
    found = blocked_events(
        conn, m["actor_ids"] or [""], mspan, fam=fam, dated_only=not m["actor_ids"]
    )
    ids = set(found) | set(extra)
    if not ids:
        return []
    rows = candidate_rows(
        conn, ids, lambda r: family(r["type"]) == fam and (keep is None or keep(r))
    )
    exact = [
        r["id"] for r in rows if not r["date"] and found.get(r["id"], (WIDE_LO, 0))[0] == WIDE_LO
    ]
    spans = event_pub_spans(conn, exact)  # far-apart reports, or found through ``extra``
    for r in rows:
        if not r["date"]:
            r["pub_span"] = spans[r["id"]] if r["id"] in spans else range_span(*found[r["id"]])
    return rows


BATCH_EVENTS = "event_rows"  # candidate events read in this transaction (dropped on write)
CANDIDATE_ROWS = select(*[_ev.c[c] for c in CANDIDATE_COLUMNS]).where(
    _ev.c.id.in_(bindparam("ids", expanding=True))
)


def candidate_rows(
    conn: Connection, ids: set[str], keep: Callable[[dict[str, Any]], bool] | None = None
) -> list[dict[str, Any]]:
    """The events' :data:`CANDIDATE_COLUMNS` as fresh dicts, oldest first, those ``keep``
    passes only (copied after the test: a busy actor's week has 300 events, few of them of
    the mention's kind); each row is read once per transaction (the mentions of that week
    meet the same events) and forgotten when the linker writes it (:func:`forget_event`)."""
    cache, created = batch_cache(conn, BATCH_EVENTS), batch_cache(conn, CREATED)
    for part in in_chunks(sorted(i for i in ids if i not in cache and i not in created)):
        for r in conn.execute(CANDIDATE_ROWS, {"ids": list(part)}).mappings():
            cache[r["id"]] = dict(r)
    rows = []
    for i in ids:
        if (r := cache.get(i)) is not None:
            if keep is None or keep(r):
                rows.append(r.copy())  # read with exactly these columns
        elif (r := created.get(i)) is not None and (keep is None or keep(r)):
            rows.append({c: r[c] for c in CANDIDATE_COLUMNS})
    return sorted(rows, key=itemgetter("seq"))


def forget_event(conn: Connection, eid: str) -> None:
    batch_cache(conn, BATCH_EVENTS).pop(eid, None)


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
            a.c.content_hash.label("content_hash"),
            a.c.outlet.label("outlet"),
        )
        .join(a, a.c.id == em.c.article_id)
        .where(em.c.article_id.in_(list(article_ids)))
    )
    if only_unlinked:
        q = q.where(em.c.event_id.is_(None))
    rows = [dict(r) for r in conn.execute(q).mappings()]
    # by date, then content: linking must not depend on article ids, paths or ingest order;
    # exact copies (one content hash) are taken in id order, not in the order of a query plan
    rows.sort(
        key=lambda r: (
            r["pub_date"] or "9999",
            r["content_hash"],
            r["sentence"],
            r["start"],
            r["article_id"],
        )
    )
    return rows


def link_events(
    conn: Connection, article_ids: Sequence[str], index: EntityIndex, *, need_date: bool = False
) -> set[str]:
    """Merge the unlinked event mentions of these articles into events; return touched ids.

    With ``need_date``, mentions of articles that have no publication date yet are left for
    later (the dating step may still date them).
    """
    touched: set[str] = set()
    related: dict[str, set[str]] = {}  # article -> events of its related articles
    dirty: set[str] = set()  # big events to refresh once, at the end
    recent: dict[tuple[str, str, str | None], tuple[str, int]] = {}
    slot_events: dict[tuple[str, str, str | None], Counter[tuple[str, str]]] = {}
    mentions = load_mentions(conn, article_ids)
    names = [(m["article_id"], n) for m in mentions for n in _party_names(m)]
    prefetch_names(conn, index, names)  # in one look-up, not one per name
    for m in mentions:
        m["actor_ids"] = _actor_ids(conn, index, m)
    entity_info(conn, sorted({a for m in mentions for a in m["actor_ids"]}))  # in one look-up
    parties = article_parties(mentions)
    for m in mentions:
        if need_date and not m["pub_date"] and not m["date"]:
            continue
        slot = (m["article_id"], family(m["type"]), m["mode"])
        if not m["actor_ids"] and m["mode"] and m["timex"] is not None and slot in parties:
            # "the invasion on February 24, 2022" in an article whose only invasion is
            # "Russia's invasion of Ukraine": the same parties, so the dated event has them
            m["actor_ids"] = list(parties[slot])
        near = recent.get(slot)
        sole = main_event(slot_events.get(slot, Counter()), m["status"])
        if not m["actor_ids"] and near and 0 <= m["sentence"] - near[1] <= NEAR_SENTENCES:
            # "the meeting" right after "Putin and Xi met": the same event, actors left implicit
            assign_mention(conn, m, near[0])
            refresh_event(conn, near[0])
            continue
        if not m["actor_ids"] and sole:
            # "Thursday's meeting" later in an article about one meeting of named people: that
            # meeting (its explicit time then dates it)
            assign_mention(conn, m, sole)
            refresh_event(conn, sole)
            touched.add(sole)
            continue
        mspan = mention_span(m)
        best: Candidate | None = None
        extra: set[str] = set()
        if mspan is None:  # an undated report: dated events only through a related article
            if m["article_id"] not in related:
                related[m["article_id"]] = related_events(conn, m["article_id"])
            extra = related[m["article_id"]]
            m["related_ok"] = dict.fromkeys(extra, True)
        if not m["actor_ids"] and not _explicit_day(m) and not m["location"]:
            cands = []  # no actors, explicit day or place: compatible() can match nothing
        else:
            cands = _candidates(
                conn, m, mspan, extra=sorted(extra), keep=lambda ev, m=m: _viable(m, ev)
            )
        for ev in cands:
            s = compatible(m, mspan, ev)
            if s > 0 and (best is None or s > best.score):
                best = Candidate(ev, s)
        if best is None and m["timex"] is None and m["status"] == "happened" and mspan:
            best = _recalled(conn, m, mspan)
        if best is None:
            eid = _create(conn, m)  # written whole, from this mention: nothing to refresh
            assign_mention(conn, m, eid)
        else:
            eid = best.row["id"]
            changed = _absorb(best.row, m)
            assign_mention(conn, m, eid)
            if (best.row.get("n_articles") or 0) >= BIG_EVENT:
                # 5,000 wire copies: one vote more changes little until the end
                update_event(conn, eid, changed)
                dirty.add(eid)
            else:
                refresh_event(conn, eid, changed)  # later mentions see its date and place
        if m["actor_ids"]:  # only a mention naming its actors can stand for "the meeting"
            recent[slot] = (eid, m["sentence"])
            slot_events.setdefault(slot, Counter())[(eid, m["status"])] += 1
        touched.add(eid)
    for eid in sorted(dirty):
        refresh_event(conn, eid)
    write_pending(conn)
    return touched


def related_events(conn: Connection, article_id: str) -> set[str]:
    """The events that the close reports and copies of an article report."""
    from .dating import related_articles

    rel = related_articles(conn, article_id)
    if not rel:
        return set()
    em = schema.event_mentions
    q = select(em.c.event_id).where(em.c.article_id.in_(sorted(rel)), em.c.event_id.is_not(None))
    out = {r.event_id for r in conn.execute(q.distinct())}
    unwritten = batch_cache(conn, ASSIGNED_BY_ARTICLE)
    return out.union(*(unwritten.get(a, ()) for a in rel))


def _viable(m: dict[str, Any], ev: dict[str, Any]) -> bool:
    """Whether :func:`compatible` can score ``ev`` above 0 on actors alone (a cheap prefilter
    that keeps the per-candidate lookups to the few events that share an actor)."""
    ma, ea = m["actor_ids"], ev["actors"] or ()
    if not ma and not ea:
        return bool(ev["date"])
    return not set(ma).isdisjoint(ea)


def event_pub_spans(conn: Connection, eids: Sequence[str]) -> dict[str, tuple[date, date] | None]:
    """Where undated events may lie: around the publication dates of their reports."""
    em, a = schema.event_mentions, schema.articles
    out: dict[str, tuple[date, date] | None] = {e: None for e in eids}
    if not eids:
        return out
    pubs: dict[str, list[date]] = {}
    stored = conn.execute(
        select(em.c.event_id, a.c.pub_date)
        .join(em, em.c.article_id == a.c.id)
        .where(em.c.event_id.in_(list(eids)))
    )
    unwritten = [(eid, m["pub_date"]) for eid in eids for m in _unwritten(conn, eid)]
    for eid, v in [*stored, *unwritten]:
        if d := parse_date(v):
            pubs.setdefault(eid, []).append(d)
    for eid, ds in pubs.items():
        out[eid] = event_span({}, ds)
    return out


def article_parties(mentions: list[dict[str, Any]]) -> dict[tuple, tuple[str, ...]]:
    """Per (article, family, mode): the parties, where every mention naming them names the
    same ones (one invasion, by one country of another); absent where they differ."""
    seen: dict[tuple, set[tuple[str, ...]]] = {}
    for m in mentions:
        if m["actor_ids"] and m["mode"]:
            slot = (m["article_id"], family(m["type"]), m["mode"])
            seen.setdefault(slot, set()).add(tuple(m["actor_ids"]))
    return {k: next(iter(v)) for k, v in seen.items() if len(v) == 1}


def main_event(counts: Counter[tuple[str, str]], status: str) -> str | None:
    """The article's main event of a kind: the one its named-actor mentions of that status
    mostly refer to (two or more, more than any other), else None."""
    if status not in ("happened", "planned"):
        return None
    per = Counter({eid: n for (eid, st), n in counts.items() if st == status})
    top = per.most_common(2)
    if not top or top[0][1] < 2 or (len(top) > 1 and top[1][1] == top[0][1]):
        return None
    return top[0][0]


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
        explicit = any(x["timex"] is not None for x in _unwritten(conn, ev["id"]))
        if strong_match(m, ev) and (explicit or has_explicit_date(conn, ev["id"])):
            s = compatible(m, None, ev, any_date=True)
            if best is None or s > best.score:
                best = Candidate(ev, s)
    return best


def _party_names(m: dict[str, Any]) -> list[str]:
    return [*(m["actors"] or []), *(m["targets"] or [])]


def _actor_ids(conn: Connection, index: EntityIndex, m: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for name in _party_names(m):
        eid = resolve(conn, index, m["article_id"], name)
        if eid and eid not in out:
            out.append(eid)
    return out


def next_seq(conn: Connection, table: Any) -> int:
    """The next ``seq`` of a table: read once per transaction, then counted."""
    seqs = batch_cache(conn, BATCH_SEQS)
    if table.name not in seqs:
        seqs[table.name] = int(
            conn.execute(select(func.coalesce(func.max(table.c.seq), 0))).scalar_one()
        )
    seqs[table.name] += 1
    return seqs[table.name]


def entity_info(conn: Connection, ids: Sequence[str]) -> dict[str, tuple[str, str, list[str]]]:
    """Entity id -> (name, type, aliases), cached for the batch (entities are written before
    events are linked)."""
    cache = batch_cache(conn, BATCH_ENTITIES)
    need = [x for x in ids if x not in cache]
    if need:
        et = schema.entities
        cache.update(dict.fromkeys(need))  # ids with no row ("country:fr" never mentioned)
        for part in in_chunks(need):
            for r in conn.execute(
                select(et.c.id, et.c.name, et.c.type, et.c.aliases).where(et.c.id.in_(part))
            ):
                cache[r.id] = (r.name, r.type, list(r.aliases or []))
    return {x: v for x in ids if (v := cache[x]) is not None}


def _create(conn: Connection, m: dict[str, Any]) -> str:
    """A new event from one mention (its date, place and title are the mention's), kept in
    memory until :func:`write_pending` inserts the batch's new events in one statement."""
    eid = event_id(m["id"])
    status = m["status"] if m["status"] in EVENT_STATUSES else "unknown"
    values, where = summarise(conn, [m], m["actor_ids"])
    forget_event(conn, eid)
    batch_cache(conn, BLOCKS_WRITTEN)[eid] = NEW_EVENT
    batch_cache(conn, CREATED)[eid] = {
        "id": eid,
        "seq": next_seq(conn, schema.events),
        "status": status,
        "status_history": [{"status": status, "article": m["article_id"], "date": m["pub_date"]}],
        "actors": m["actor_ids"],
        **values,
    }
    index_event(conn, eid, values["type"], m["actor_ids"], where, dated=bool(values["date"]))
    return eid


def _absorb(row: dict[str, Any], m: dict[str, Any]) -> dict[str, Any]:
    """Add a mention's actors and status change to an event row; return the changed columns."""
    actors = list(row["actors"] or [])
    for a in m["actor_ids"]:
        if a not in actors:
            actors.append(a)
    history = list(row["status_history"] or [])
    status = row["status"]
    if m["status"] == "happened" and status != "happened":
        status = "happened"
        history.append({"status": "happened", "article": m["article_id"], "date": m["pub_date"]})
    row.update(actors=actors, status=status, status_history=history)
    return {"actors": actors, "status": status, "status_history": history}


def _day(value: str | None) -> str | None:
    return value if value and len(value) == 10 else None


def _vote_date(ms: list[dict[str, Any]]) -> tuple[str | None, str | None, str | None]:
    """The event's date: the most supported explicit date at the finest precision."""
    rank = {"day": 0, "month": 1, "year": 2}
    dated = [m for m in ms if m["date"] and m["timex"] is not None]
    if not dated:
        # only dates the annotator gave ("met in Samarkand" on the day's report); a background
        # noun ("the war") recalled without a time does not happen on the publication day
        pool = [m["date"] for m in ms if m["status"] == "happened" and m["date"]]
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


def refresh_event(conn: Connection, eid: str, changed: dict[str, Any] | None = None) -> None:
    """Recompute an event's date, place, outlets and title from all its mentions.

    ``changed``: the columns :func:`_absorb` just changed (actors among them), written with
    the rest in one UPDATE."""
    ms = [dict(r) for r in conn.execute(EVENT_MENTIONS, {"eid": eid}).mappings()]
    ms += _unwritten(conn, eid)
    ms.sort(key=lambda m: (m["content_hash"], m["sentence"], m["start"]))
    if changed is None:
        row = batch_cache(conn, CREATED).get(eid)
        if row is None:
            row = conn.execute(EVENT_ACTORS, {"eid": eid}).mappings().first()
        if row is None:
            return
        changed = {}
        actors = list(row["actors"] or [])
    else:
        actors = list(changed["actors"])
    if not ms:
        return
    values, where = summarise(conn, ms, actors)
    update_event(conn, eid, {**values, **changed})
    index_event(conn, eid, values["type"], actors, where, dated=bool(values["date"]))


def summarise(
    conn: Connection, ms: list[dict[str, Any]], actors: list[str]
) -> tuple[dict[str, Any], tuple[date, date] | None]:
    """An event's derived columns (date, place, outlets, counts, title) from its mentions,
    and the span its blocking rows cover."""
    d, d_end, prec = _vote_date(ms)
    places = Counter(m["location"] for m in ms if m["location"])
    location = places.most_common(1)[0][0] if places else None
    outlets = sorted({m["outlet"] for m in ms if m["outlet"]})
    n_articles = len({m["article_id"] for m in ms})
    actor_count: Counter[str] = Counter()
    names: dict[str, tuple[str, str]] = {}
    full: dict[str, str] = {}
    for x, (name, etype, aliases) in entity_info(conn, actors).items():
        names[x] = (short_name(name, etype, aliases), etype)
        full[x] = name
    subjects = subject_ids(ms, full)
    objects = subject_ids(ms, full, role="targets") - subjects
    for i, aid in enumerate(actors):
        actor_count[aid] = len(actors) - i
    # name the event as the mentions that date it do ("the invasion on February 24, 2022")
    basis = [m for m in ms if m["timex"] is not None and m["date"] == d] or ms
    types = Counter(m["type"] for m in basis)
    modes = Counter(m["mode"] for m in basis if m["mode"])
    triggers = Counter(fold(m["trigger"]) for m in basis)
    title = make_title(
        types.most_common(1)[0][0],
        title_mode(modes, len(basis)),
        sorted(
            (names[x] for x in actors if x in names),
            key=lambda nt: nt[1] not in ("PERSON", "COUNTRY", "GOV"),
        ),
        location,
        triggers.most_common(1)[0][0],
        subjects=[names[x] for x in actors if x in names and x in subjects],
        objects=[names[x] for x in actors if x in names and x in objects],
    )
    values = {
        "date": d,
        "date_end": d_end if d_end and d_end != d else None,
        "precision": prec,
        "location": location,
        "outlets": outlets,
        "n_outlets": len(outlets),
        "n_articles": n_articles,
        "title": title,
        "type": types.most_common(1)[0][0],
        "mode": modes.most_common(1)[0][0] if modes else None,
    }
    pubs = [p for m in ms if (p := parse_date(m["pub_date"]))]
    return values, event_span({"date": d, "precision": prec, "date_end": d_end}, pubs)


SUFFIXES = {"jr", "sr", "ii", "iii", "iv", "v"}


def short_name(name: str, etype: str, aliases: Sequence[str] = ()) -> str:
    """Surname for people ("Putin"; "Xi" where the texts call Xi Jinping "Xi"), else the name."""
    if etype == "PERSON" and " " in name:
        toks = name.split()
        while len(toks) > 2 and toks[-1].rstrip(".,").lower() in SUFFIXES:
            toks = toks[:-1]  # "Hubert Allen Jr." is "Allen"
        singles = {a.strip() for a in aliases if " " not in a.strip()}
        for tok in (toks[-1], toks[0]):
            if tok in singles:
                return tok
        return toks[-1]
    if etype == "GOV" and name.startswith("Government of "):
        return name[len("Government of ") :]
    return name


def title_mode(modes: Counter[str], n_mentions: int) -> str | None:
    """The mode a title may name: the commonest, when at least half the mentions carry it
    (one "invasion" among reports of an "offensive" does not make the offensive an invasion)."""
    if not modes:
        return None
    mode, n = modes.most_common(1)[0]
    return mode if 2 * n >= n_mentions else None


def subject_ids(ms: list[dict[str, Any]], full: dict[str, str], role: str = "actors") -> set[str]:
    """The entities that act in some mention (not only undergo): "sending forces into Ukraine"
    has Ukraine only as a target, so no title may say "Ukraine mobilizes"."""
    surfaces = {fold(x) for m in ms for x in (m[role] or []) if x}
    out = set()
    for eid, name in full.items():
        f = fold(name)
        toks = f.split()
        if any(sf == f or sf in toks or f in sf.split() for sf in surfaces):
            out.add(eid)
    return out


NOMINAL = {  # titles for events whose named parties are all on the receiving end
    "invasion": "Invasion of {}",
    "visit": "Visit to {}",
    "MOBILIZE": "Forces sent to {}",
    "FIGHT": "Fighting against {}",
    "ASSAULT": "Attack on {}",
    "SANCTION": "Sanctions on {}",
    "COERCE": "Pressure on {}",
    "ACCUSE": "Criticism of {}",
    "THREATEN": "Threats against {}",
    "SUPPORT": "Support for {}",
    "AID": "Aid to {}",
    "CONSULT": "Talks with {}",
    "AGREE": "Agreement with {}",
    "COOPERATE": "Cooperation with {}",
    "PROTEST": "Protests against {}",
    "DEMAND": "Demands on {}",
    "REQUEST": "Calls on {}",
}
JOINT_MODES = {"exercise": ("hold exercises", "holds exercises")}
JOINT_MODES["military"] = ("hold military exercises", "holds military exercises")


def make_title(
    etype: str,
    mode: str | None,
    actors: list[tuple[str, str]],
    location: str | None,
    trigger: str,
    *,
    subjects: list[tuple[str, str]] | None = None,
    objects: list[tuple[str, str]] | None = None,
) -> str:
    """A short headline: actors + verb + place, e.g. "Putin and Xi meet in Samarkand".

    ``subjects`` (when given) are the actors that act; with none, the parties are only on the
    receiving end and the title is a noun phrase ("Invasion of Ukraine").
    """
    names: list[str] = []
    if subjects is not None and subjects:
        actors = list(subjects) + [a for a in actors if a not in subjects]
    for name, t in actors:
        s = short_name(name, t)
        if s not in names:
            names.append(s)
    names = names[:2]
    verbs = {**MODE_VERBS, **JOINT_MODES}
    plural, singular = verbs.get(mode or "", VERBS.get(etype, (trigger, trigger)))
    if names and subjects is not None and not subjects:
        pattern = NOMINAL.get(mode or "") or NOMINAL.get(etype)
        if pattern:
            named = [short_name(n, t) for n, t in objects or []] or names
            title = pattern.format(" and ".join(dict.fromkeys(named[:2])))
            if location and fold(location) not in fold(title):
                title += f" in {location}"
            return title
    if not names:
        subject, verb = "", trigger
    elif len(names) == 1:
        subject, verb = names[0], singular
    elif mode in JOINT_MODES:
        subject, verb = " and ".join(names), plural
    elif etype == "FIGHT" and subjects is not None and len(subjects) == 1:
        subject, verb = names[0], f"{singular} {' and '.join(names[1:])}"  # one side attacks
    elif mode in MODE_VERBS or etype not in ("CONSULT", "AGREE", "COOPERATE", "FIGHT"):
        subject, verb = names[0], f"{singular} {' and '.join(names[1:])}"
    else:
        subject, verb = " and ".join([", ".join(names[:-1]), names[-1]]), plural
    title = f"{subject} {verb}".strip()
    if location and fold(location) not in fold(title):
        title += f" in {location}"
    return title[:1].upper() + title[1:]
