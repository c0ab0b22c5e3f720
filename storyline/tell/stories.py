"""Stories: events connected by shared actors and time.

Two events are connected when their actor sets overlap by half (of the smaller set) and they lie
within ``WINDOW`` days of each other. A connected group is a story. A story keeps its id as
articles arrive: a group that touches existing stories takes the oldest one's id.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, distinct, func, insert, select, update

from ..link.events import entity_info, next_seq, short_name
from ..store import in_chunks, schema

WINDOW = 800  # days: long-running stories recall events years apart
MIN_OVERLAP = 0.5


NEAR_LIMIT = 500  # events read per touched event at most: the nearest in time win
NEAR_CHUNK = 500  # touched events whose near events are read together
_ev = schema.events
NEAR_ROWS = select(_ev.c.id, _ev.c.actors, _ev.c.story_id, _ev.c.seq, _ev.c.date).where(
    _ev.c.id.in_(bindparam("ids", expanding=True))
)


def _near_ids(conn: Connection, ev: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """Events within the time window of ``ev`` that share an actor with it (blocking by actor
    and date through ``event_actors``: only those can be :func:`connected`)."""
    from ..link.events import blocked_events, event_span, stored_span

    actors = sorted(set(ev["actors"] or []))
    if not actors:
        return {}
    # undated: around its reports, as its blocking rows say
    where = event_span(ev, []) or stored_span(conn, ev["id"])
    if where is not None:
        where = (where[0] - timedelta(days=WINDOW), where[1] + timedelta(days=WINDOW))
    return blocked_events(conn, actors, where, limit=NEAR_LIMIT)


def connected(a: Iterable[str], b: Iterable[str]) -> bool:
    sa, sb = set(a), set(b)
    if not sa or not sb:
        return False
    return len(sa & sb) / min(len(sa), len(sb)) >= MIN_OVERLAP


def story_id(event_id: str) -> str:
    return "st-" + hashlib.sha1(event_id.encode()).hexdigest()[:12]


def link_stories(conn: Connection, event_ids: Iterable[str]) -> set[str]:
    """Put the given (new or changed) events into stories; return the stories touched."""
    t = schema.events
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    rows: dict[str, dict[str, Any]] = {}
    ids = sorted(event_ids)  # a set from the caller: never depend on its iteration order
    stored: dict[str, dict[str, Any]] = {}
    for part in in_chunks(ids):  # read in bulk: this loop writes nothing
        q = select(t).where(t.c.id.in_(list(part)))
        stored.update((r["id"], dict(r)) for r in conn.execute(q).mappings())
    seen: dict[str, dict[str, Any]] = {}  # the near events' rows, each read once
    for chunk in in_chunks([eid for eid in ids if eid in stored], NEAR_CHUNK):
        near = {eid: list(_near_ids(conn, stored[eid])) for eid in chunk}
        need = sorted({i for found in near.values() for i in found if i not in seen})
        for part in in_chunks(need):  # a statement per chunk of events, not one per event
            rows_read = conn.execute(NEAR_ROWS, {"ids": part}).mappings()
            seen.update((r["id"], dict(r)) for r in rows_read)
        for eid, found in near.items():
            ev = rows[eid] = stored[eid]
            find(eid)
            for other in sorted((seen[i] for i in found if i in seen), key=lambda r: r["seq"]):
                if other["id"] != eid and connected(ev["actors"] or [], other["actors"] or []):
                    rows.setdefault(other["id"], other)
                    parent[find(other["id"])] = find(eid)
    groups: dict[str, list[str]] = {}
    for eid in rows:
        groups.setdefault(find(eid), []).append(eid)
    touched: set[str] = set()
    first_seq: dict[str, int] = {}  # story -> its oldest event's seq, for a stable story order
    for members in groups.values():
        old = {rows[m]["story_id"] for m in members if rows[m].get("story_id")}
        if len(members) < 2 and not old:
            continue
        if old:
            st = schema.stories
            keep = conn.execute(
                select(st.c.id).where(st.c.id.in_(old)).order_by(st.c.seq).limit(1)
            ).scalar_one_or_none()
            sid = keep or sorted(old)[0]
            for gone in old - {sid}:  # two stories joined by a new event: the older id stays
                conn.execute(update(t).where(t.c.story_id == gone).values(story_id=sid))
                conn.execute(st.delete().where(st.c.id == gone))
        else:
            first = min(members, key=lambda m: rows[m]["seq"])
            sid = story_id(first)
        conn.execute(update(t).where(t.c.id.in_(members)).values(story_id=sid))
        touched.add(sid)
        seq0 = min(rows[m]["seq"] for m in members)
        first_seq[sid] = min(first_seq.get(sid, seq0), seq0)
    # new stories get their seq (the oldest id wins a later merge) by their oldest event, not
    # by set order (which follows the hash seed)
    for sid in sorted(touched, key=lambda s: (first_seq[s], s)):
        refresh_story(conn, sid)
    return touched


def _distinct_names(ids: list[str], info: dict[str, tuple[str, str, list[str]]]) -> list[str]:
    """Up to two short names, full names where two people share one ("John and Christopher
    Zawahri" are not "Zawahri and Zawahri")."""
    short = [short_name(*info[x]) for x in ids]
    out: list[str] = []
    for x, s in zip(ids, short, strict=True):
        name = info[x][0] if short.count(s) > 1 else s
        if name not in out:
            out.append(name)
    return out[:2]


_em = schema.event_mentions
# a story's articles, counted in the covering index (event_id, article_id)
STORY_ARTICLES = select(func.count(distinct(_em.c.article_id))).where(
    _em.c.event_id.in_(select(_ev.c.id).where(_ev.c.story_id == bindparam("sid")))
)


def refresh_story(conn: Connection, sid: str) -> None:
    """Recompute a story's dates, counts and title from its events.

    A long-running story holds thousands of events, and every batch that adds one refreshes
    it: its outlets come from its events' rows, and its articles are counted by the database
    in a covering index, not read mention by mention with their articles."""
    t, st = schema.events, schema.stories
    evs = conn.execute(
        select(t.c.id, t.c.date, t.c.actors, t.c.outlets)
        .where(t.c.story_id == sid)
        .order_by(t.c.seq)
    ).all()
    if not evs:
        conn.execute(st.delete().where(st.c.id == sid))
        return
    dates = sorted(e.date for e in evs if e.date)
    n_articles = conn.execute(STORY_ARTICLES, {"sid": sid}).scalar_one()
    outlets = {o for e in evs for o in e.outlets or [] if o}
    counts: Counter[str] = Counter()
    for e in evs:
        # first-seen order, not set order: ties in most_common must not depend on the hash seed
        counts.update(list(dict.fromkeys(e.actors or [])))
    top = [x for x, _ in counts.most_common(6)]
    info = entity_info(conn, top)
    people = _distinct_names([x for x in top if x in info and info[x][1] == "PERSON"], info)
    names = people or _distinct_names([x for x in top if x in info], info)
    if names:
        title = " and ".join(names)
    else:
        title = conn.execute(select(t.c.title).where(t.c.id == evs[0].id)).scalar_one()
    if dates:
        y0, y1 = dates[0][:4], dates[-1][:4]
        title += f", {y0}" if y0 == y1 else f", {y0}–{y1}"
    values = {
        "title": title,
        "date_start": dates[0] if dates else None,
        "date_end": dates[-1] if dates else None,
        "n_events": len(evs),
        "n_articles": int(n_articles),
        "n_outlets": len(outlets),
    }
    if conn.execute(select(st.c.id).where(st.c.id == sid)).first():
        conn.execute(update(st).where(st.c.id == sid).values(**values))
    else:
        seq = next_seq(conn, st)
        conn.execute(insert(st).values(id=sid, seq=seq, **values))
