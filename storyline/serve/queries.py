"""Read-side queries for the web app and its JSON API.

Every list is paginated in SQL (``limit``/``offset`` over a stable order: ``seq`` or id), so a
page costs the same on a store of 100 or 100,000 articles. Functions take an open connection
(one consistent snapshot per request) and return plain JSON-ready dicts.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, String, and_, cast, func, or_, select

from ..errors import NotFound
from ..store import schema as t
from ..store.search import search_articles

STATUS_ORDER = ("happened", "planned", "denied", "hypothetical", "unknown")


def _page(total: int, items: list[dict[str, Any]], limit: int, offset: int) -> dict[str, Any]:
    nxt = offset + limit if offset + limit < total else None
    return {"total": total, "limit": limit, "offset": offset, "next_offset": nxt, "items": items}


def _json_has(column: Any, value: str) -> Any:
    """A JSON list column contains this string (the list is stored as JSON text)."""
    needle = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    esc = needle.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return cast(column, String).like(f"%{esc}%", escape="!")


def _like(text: str) -> str:
    return "%" + text.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"


# -- stats and stories -----------------------------------------------------------------------


def stats(conn: Connection) -> dict[str, Any]:
    a = t.articles

    def count(table: Any) -> int:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())

    span = conn.execute(select(func.min(a.c.pub_date), func.max(a.c.pub_date))).first()
    return {
        "articles": count(a),
        "outlets": int(conn.execute(select(func.count(func.distinct(a.c.outlet)))).scalar_one()),
        "entities": count(t.entities),
        "events": count(t.events),
        "quotes": count(t.quotes),
        "utterances": count(t.utterances),
        "stories": count(t.stories),
        "first_date": span[0] if span else None,
        "last_date": span[1] if span else None,
    }


def story_row(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "title": row["title"],
        "date_start": row["date_start"],
        "date_end": row["date_end"],
        "n_events": row["n_events"],
        "n_articles": row["n_articles"],
        "n_outlets": row["n_outlets"],
    }


def list_stories(conn: Connection, limit: int, offset: int) -> dict[str, Any]:
    s = t.stories
    total = int(conn.execute(select(func.count()).select_from(s)).scalar_one())
    rows = conn.execute(select(s).order_by(s.c.seq).limit(limit).offset(offset)).mappings()
    return _page(total, [story_row(r) for r in rows], limit, offset)


def get_story(conn: Connection, story_id: str) -> dict[str, Any]:
    """A story by id; ``all`` is every event in the store (useful before stories are built)."""
    if story_id == "all":
        ev = t.events
        row = conn.execute(
            select(
                func.count(), func.min(ev.c.date), func.max(func.coalesce(ev.c.date_end, ev.c.date))
            )
        ).first()
        n_art = conn.execute(select(func.count()).select_from(t.articles)).scalar_one()
        return {
            "id": "all",
            "title": "All events",
            "date_start": row[1],
            "date_end": row[2],
            "n_events": int(row[0]),
            "n_articles": int(n_art),
            "n_outlets": None,
        }
    row = conn.execute(select(t.stories).where(t.stories.c.id == story_id)).mappings().first()
    if row is None:
        raise NotFound(f"no story with id {story_id!r}")
    return story_row(row)


# -- events ------------------------------------------------------------------------------------


def event_summary(row: Any, names: dict[str, str] | None = None) -> dict[str, Any]:
    actors = list(row["actors"] or [])
    return {
        "id": row["id"],
        "title": row["title"],
        "type": row["type"],
        "mode": row["mode"],
        "date": row["date"],
        "date_end": row["date_end"],
        "precision": row["precision"],
        "status": row["status"],
        "location": row["location"],
        "actors": actors,
        "actor_names": [(names or {}).get(a, a) for a in actors],
        "story": row["story_id"],
        "n_articles": row["n_articles"],
        "n_outlets": row["n_outlets"],
        "outlets": list(row["outlets"] or []),
    }


def event_filters(
    *,
    story: str | None = None,
    actor: str | None = None,
    type: str | None = None,
    outlet: str | None = None,
    status: str | None = None,
    since: str | None = None,
    until: str | None = None,
    q: str | None = None,
) -> list[Any]:
    ev = t.events
    conds: list[Any] = []
    if story and story != "all":
        conds.append(ev.c.story_id == story)
    if actor:
        conds.append(_json_has(ev.c.actors, actor))
    if type:
        conds.append(ev.c.type == type)
    if outlet:
        conds.append(_json_has(ev.c.outlets, outlet))
    if status:
        conds.append(ev.c.status == status)
    if since:
        conds.append(func.coalesce(ev.c.date_end, ev.c.date) >= since)
    if until:
        conds.append(ev.c.date <= until)
    if q:
        conds.append(ev.c.title.like(_like(q), escape="!"))
    return conds


def entity_names(conn: Connection, ids: Sequence[str]) -> dict[str, str]:
    ids = sorted(set(ids))
    if not ids:
        return {}
    e = t.entities
    out: dict[str, str] = {}
    for i in range(0, len(ids), 500):
        rows = conn.execute(select(e.c.id, e.c.name).where(e.c.id.in_(ids[i : i + 500])))
        out.update({r.id: r.name for r in rows})
    return out


def list_events(conn: Connection, limit: int, offset: int, **filters: Any) -> dict[str, Any]:
    ev = t.events
    conds = event_filters(**filters)
    where = and_(*conds) if conds else None
    q_count = select(func.count()).select_from(ev)
    q_rows = select(ev).order_by(ev.c.date.is_(None), ev.c.date, ev.c.seq)
    if where is not None:
        q_count, q_rows = q_count.where(where), q_rows.where(where)
    total = int(conn.execute(q_count).scalar_one())
    rows = list(conn.execute(q_rows.limit(limit).offset(offset)).mappings())
    names = entity_names(conn, [a for r in rows for a in (r["actors"] or [])])
    return _page(total, [event_summary(r, names) for r in rows], limit, offset)


def _bucket_key(date: str, by: str) -> str:
    return date[:4] if by == "year" else date[:7]


def timeline(
    conn: Connection, story_id: str, *, max_items: int = 400, **filters: Any
) -> dict[str, Any]:
    """Events of a story for the timeline, or per-month/year counts when there are too many.

    The client asks again for a narrower window as the user zooms in, so the browser never
    draws more than ``max_items`` boxes.
    """
    story = get_story(conn, story_id)
    ev = t.events
    conds = [*event_filters(story=story_id, **filters), ev.c.date.is_not(None)]
    where = and_(*conds)
    total = int(conn.execute(select(func.count()).select_from(ev).where(where)).scalar_one())
    undated = int(
        conn.execute(
            select(func.count())
            .select_from(ev)
            .where(and_(*event_filters(story=story_id, **filters), ev.c.date.is_(None)))
        ).scalar_one()
    )
    out: dict[str, Any] = {"story": story, "total": total, "undated": undated}
    if total <= max_items:
        rows = list(conn.execute(select(ev).where(where).order_by(ev.c.date, ev.c.seq)).mappings())
        names = entity_names(conn, [a for r in rows for a in (r["actors"] or [])])
        out.update(aggregated=False, items=[event_summary(r, names) for r in rows], buckets=[])
        return out
    span = conn.execute(select(func.min(ev.c.date), func.max(ev.c.date)).where(where)).first()
    years = int(span[1][:4]) - int(span[0][:4]) if span and span[0] and span[1] else 0
    by = "year" if years > 8 else "month"
    n = 4 if by == "year" else 7
    key = func.substr(ev.c.date, 1, n)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for row in conn.execute(
        select(key.label("k"), ev.c.status, func.count()).where(where).group_by(key, ev.c.status)
    ):
        counts[row[0]][row[1]] += int(row[2])
    buckets = [
        {
            "key": k,
            "start": k + ("-01-01" if by == "year" else "-01"),
            "end": _bucket_end(k, by),
            "count": sum(c.values()),
            "by_status": {s: c[s] for s in STATUS_ORDER if c[s]},
        }
        for k, c in sorted(counts.items())
    ]
    out.update(aggregated=True, bucket=by, items=[], buckets=buckets)
    return out


def _bucket_end(key: str, by: str) -> str:
    if by == "year":
        return f"{int(key) + 1:04d}-01-01"
    year, month = int(key[:4]), int(key[5:7])
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year:04d}-{month:02d}-01"


def facets(conn: Connection, story_id: str) -> dict[str, Any]:
    """The choices for the timeline's filters: actors, types and outlets found in a story."""
    ev = t.events
    q = select(ev.c.type, ev.c.actors, ev.c.outlets)
    if story_id != "all":
        q = q.where(ev.c.story_id == story_id)
    types: Counter[str] = Counter()
    actors: Counter[str] = Counter()
    outlets: Counter[str] = Counter()
    for row in conn.execute(q.limit(20000)):
        types[row.type] += 1
        actors.update(row.actors or [])
        outlets.update(row.outlets or [])
    top = [a for a, _ in actors.most_common(200)]
    names = entity_names(conn, top)
    return {
        "types": sorted(types),
        "actors": [{"id": a, "name": names.get(a, a)} for a in top],
        "outlets": sorted(outlets),
    }


def get_event(conn: Connection, event_id: str) -> dict[str, Any]:
    """One event with its sources side by side: each article's evidence sentences."""
    ev = t.events
    row = conn.execute(select(ev).where(ev.c.id == event_id)).mappings().first()
    if row is None:
        raise NotFound(f"no event with id {event_id!r}")
    names = entity_names(conn, list(row["actors"] or []))
    out = event_summary(row, names)
    out["status_history"] = list(row["status_history"] or [])
    out["coordinates"] = [row["lat"], row["lon"]] if row["lat"] is not None else None
    out["actor_entities"] = [{"id": a, "name": names.get(a, a)} for a in out["actors"]]
    em, a, s = t.event_mentions, t.articles, t.sentences
    mentions = list(
        conn.execute(
            select(
                em.c.article_id,
                em.c.sentence,
                em.c.trigger,
                em.c.start,
                em.c.end,
                em.c.status,
                em.c.date,
                a.c.title,
                a.c.outlet,
                a.c.pub_date,
                a.c.seq,
                s.c.text.label("sentence_text"),
                s.c.start.label("sentence_start"),
            )
            .join(a, a.c.id == em.c.article_id)
            .outerjoin(s, and_(s.c.article_id == em.c.article_id, s.c.idx == em.c.sentence))
            .where(em.c.event_id == event_id)
            .order_by(a.c.pub_date.is_(None), a.c.pub_date, a.c.seq, em.c.sentence)
        ).mappings()
    )
    sources: dict[str, dict[str, Any]] = {}
    for m in mentions:
        src = sources.setdefault(
            m["article_id"],
            {
                "article": m["article_id"],
                "title": m["title"],
                "outlet": m["outlet"],
                "pub_date": m["pub_date"],
                "evidence": [],
                "relations": [],
            },
        )
        if any(e["sentence"] == m["sentence"] for e in src["evidence"]):
            continue
        text = m["sentence_text"] or ""
        trig = None
        if m["sentence_start"] is not None:
            rel = m["start"] - m["sentence_start"]
            if 0 <= rel < len(text):
                trig = [rel, rel + (m["end"] - m["start"])]
        src["evidence"].append(
            {
                "sentence": m["sentence"],
                "text": text,
                "trigger": m["trigger"],
                "trigger_span": trig,
                "status": m["status"],
                "date": m["date"],
            }
        )
    ids = list(sources)
    rel = t.relations
    if ids:
        for r in conn.execute(
            select(rel).where(or_(rel.c.article_id.in_(ids), rel.c.other_id.in_(ids)))
        ).mappings():
            if r["article_id"] in sources:
                sources[r["article_id"]]["relations"].append(
                    {"kind": r["kind"], "article": r["other_id"], "score": r["score"]}
                )
    out["sources"] = list(sources.values())
    out["articles"] = ids
    groups = _relation_groups(conn, ids)
    out["copy_groups"] = groups
    return out


def _relation_groups(conn: Connection, ids: Sequence[str]) -> list[list[str]]:
    """Articles among ``ids`` that are duplicates or rewrites of each other, as groups."""
    rel = t.relations
    if not ids:
        return []
    parent = {i: i for i in ids}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for r in conn.execute(
        select(rel.c.article_id, rel.c.other_id).where(
            rel.c.article_id.in_(list(ids)),
            rel.c.other_id.in_(list(ids)),
            rel.c.kind.in_(["duplicate_of", "rewrite_of"]),
        )
    ):
        parent[find(r.article_id)] = find(r.other_id)
    groups: dict[str, list[str]] = defaultdict(list)
    for i in ids:
        groups[find(i)].append(i)
    return [g for g in groups.values() if len(g) > 1]


# -- articles ----------------------------------------------------------------------------------

ARTICLE_LIST_COLS = ("id", "title", "outlet", "pub_date", "pub_date_source", "words", "source")


def list_articles(
    conn: Connection,
    limit: int,
    offset: int,
    *,
    outlet: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> dict[str, Any]:
    a = t.articles
    conds = []
    if outlet:
        conds.append(a.c.outlet == outlet)
    if since:
        conds.append(a.c.pub_date >= since)
    if until:
        conds.append(a.c.pub_date <= until)
    q_count = select(func.count()).select_from(a)
    q_rows = select(*(a.c[c] for c in ARTICLE_LIST_COLS)).order_by(a.c.seq)
    if conds:
        q_count, q_rows = q_count.where(and_(*conds)), q_rows.where(and_(*conds))
    total = int(conn.execute(q_count).scalar_one())
    rows = [dict(r) for r in conn.execute(q_rows.limit(limit).offset(offset)).mappings()]
    return _page(total, rows, limit, offset)


def get_article(conn: Connection, article_id: str) -> dict[str, Any]:
    """An article with every annotation the page highlights, and its relations."""
    a = t.articles
    row = conn.execute(select(a).where(a.c.id == article_id)).mappings().first()
    if row is None:
        raise NotFound(f"no article with id {article_id!r}")
    aid = row["id"]

    def rows(table: Any, order: Any) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in conn.execute(
                select(table).where(table.c.article_id == aid).order_by(order)
            ).mappings()
        ]

    out = {
        k: row[k]
        for k in (
            "id",
            "title",
            "outlet",
            "source",
            "url",
            "pub_date",
            "pub_date_source",
            "pub_date_precision",
            "pub_date_evidence",
            "language",
            "words",
            "version",
            "supersedes",
            "text",
        )
    }
    out["removed"] = list(row["removed"] or [])
    out["notes"] = list(row["notes"] or [])
    out["sentences"] = [
        {k: s[k] for k in ("idx", "start", "end")} for s in rows(t.sentences, t.sentences.c.idx)
    ]
    out["mentions"] = [
        {k: m[k] for k in ("start", "end", "text", "label", "kind", "canonical", "entity_id")}
        for m in rows(t.mentions, t.mentions.c.start)
    ]
    out["timexes"] = [
        {k: x[k] for k in ("start", "end", "text", "type", "value")}
        for x in rows(t.timexes, t.timexes.c.start)
    ]
    out["quotes"] = [
        {
            k: q[k]
            for k in (
                "id",
                "start",
                "end",
                "text",
                "kind",
                "speaker",
                "speaker_canonical",
                "speaker_id",
                "channel",
                "utterance_id",
            )
        }
        for q in rows(t.quotes, t.quotes.c.start)
    ]
    out["event_mentions"] = [
        {k: e[k] for k in ("id", "start", "end", "trigger", "type", "status", "date", "event_id")}
        for e in rows(t.event_mentions, t.event_mentions.c.start)
    ]
    rel = t.relations
    related = []
    for r in conn.execute(
        select(rel).where(or_(rel.c.article_id == aid, rel.c.other_id == aid))
    ).mappings():
        other = r["other_id"] if r["article_id"] == aid else r["article_id"]
        kind = r["kind"] if r["article_id"] == aid else _inverse(r["kind"])
        related.append({"kind": kind, "article": other, "score": r["score"]})
    titles = {
        x.id: (x.title, x.outlet)
        for x in conn.execute(
            select(a.c.id, a.c.title, a.c.outlet).where(a.c.id.in_([r["article"] for r in related]))
        )
    }
    for r in related:
        r["title"], r["outlet"] = titles.get(r["article"], (None, None))
    out["relations"] = related
    return out


def _inverse(kind: str) -> str:
    return {"duplicate_of": "duplicated_by", "rewrite_of": "rewritten_as"}.get(kind, kind)


# -- quotes, entities, search ------------------------------------------------------------------


def list_quotes(
    conn: Connection,
    limit: int,
    offset: int,
    *,
    speaker: str | None = None,
    utterance: str | None = None,
) -> dict[str, Any]:
    """Quotes grouped by utterance: one statement with every wording across outlets."""
    qt, a = t.quotes, t.articles
    group = func.coalesce(qt.c.utterance_id, qt.c.id)
    conds = []
    if speaker:
        conds.append(qt.c.speaker_id == speaker)
    if utterance:
        conds.append(group == utterance)
    # most-reported statements first; the group id keeps the order stable across pages
    base = select(group.label("g"), func.count().label("n"))
    if conds:
        base = base.where(and_(*conds))
    base = base.group_by(group)
    total = int(conn.execute(select(func.count()).select_from(base.subquery())).scalar_one())
    keys = [
        r.g
        for r in conn.execute(base.order_by(func.count().desc(), group).limit(limit).offset(offset))
    ]
    if not keys:
        return _page(total, [], limit, offset)
    utt = {
        r["id"]: dict(r)
        for r in conn.execute(select(t.utterances).where(t.utterances.c.id.in_(keys))).mappings()
    }
    wordings: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in conn.execute(
        select(qt, a.c.outlet, a.c.title, a.c.pub_date, group.label("g"))
        .join(a, a.c.id == qt.c.article_id)
        .where(
            or_(qt.c.utterance_id.in_(keys), and_(qt.c.utterance_id.is_(None), qt.c.id.in_(keys)))
        )
        .order_by(a.c.seq, qt.c.start)
    ).mappings():
        wordings[r["g"]].append(
            {
                "id": r["id"],
                "article": r["article_id"],
                "outlet": r["outlet"],
                "title": r["title"],
                "pub_date": r["pub_date"],
                "text": r["text"],
                "kind": r["kind"],
                "speaker": r["speaker_canonical"] or r["speaker"],
                "speaker_id": r["speaker_id"],
                "channel": r["channel"],
                "second_hand": bool(r["second_hand"]),
            }
        )
    items = []
    for k in keys:
        ws = wordings.get(k, [])
        u = utt.get(k)
        first = ws[0] if ws else {}
        dates = sorted(w["pub_date"] for w in ws if w["pub_date"])
        items.append(
            {
                "id": k,
                "utterance": k if u else None,
                "speaker": (u or {}).get("speaker") or first.get("speaker"),
                "speaker_id": (u or {}).get("speaker_id") or first.get("speaker_id"),
                "text": (u or {}).get("text") or first.get("text"),
                "date": dates[0] if dates else None,
                "channels": sorted({w["channel"] for w in ws if w["channel"]}),
                "outlets": sorted({w["outlet"] for w in ws if w["outlet"]}),
                "wordings": ws,
            }
        )
    return _page(total, items, limit, offset)


def entity_row(r: Any) -> dict[str, Any]:
    return {
        "id": r["id"],
        "name": r["name"],
        "type": r["type"],
        "country": r["country"],
        "aliases": list(r["aliases"] or []),
        "mentions": r["mentions"],
    }


def list_entities(
    conn: Connection, limit: int, offset: int, *, type: str | None = None, q: str | None = None
) -> dict[str, Any]:
    e = t.entities
    conds = []
    if type:
        conds.append(e.c.type == type)
    if q:
        conds.append(or_(e.c.name.like(_like(q), escape="!"), _json_has_part(e.c.aliases, q)))
    q_count = select(func.count()).select_from(e)
    q_rows = select(e).order_by(e.c.mentions.desc(), e.c.id)
    if conds:
        q_count, q_rows = q_count.where(and_(*conds)), q_rows.where(and_(*conds))
    total = int(conn.execute(q_count).scalar_one())
    rows = conn.execute(q_rows.limit(limit).offset(offset)).mappings()
    return _page(total, [entity_row(r) for r in rows], limit, offset)


def _json_has_part(column: Any, text: str) -> Any:
    return cast(column, String).like(_like(text), escape="!")


def get_entity(conn: Connection, entity_id: str) -> dict[str, Any]:
    """An entity: aliases, its events by month, its quotes and the actors it appears with."""
    e, ev = t.entities, t.events
    row = conn.execute(select(e).where(e.c.id == entity_id)).mappings().first()
    if row is None:
        raise NotFound(f"no entity with id {entity_id!r}")
    out = entity_row(row)
    out["coordinates"] = [row["lat"], row["lon"]] if row["lat"] is not None else None
    evs = list(
        conn.execute(
            select(ev)
            .where(_json_has(ev.c.actors, entity_id))
            .order_by(ev.c.date.is_(None), ev.c.date, ev.c.seq)
            .limit(5000)
        ).mappings()
    )
    by_month: Counter[str] = Counter(r["date"][:7] for r in evs if r["date"])
    co: Counter[str] = Counter()
    for r in evs:
        co.update(a for a in set(r["actors"] or []) if a != entity_id)
    names = entity_names(conn, [*co, *(a for r in evs[:200] for a in (r["actors"] or []))])
    out["events"] = [event_summary(r, names) for r in evs[:200]]
    out["n_events"] = len(evs)
    out["events_by_month"] = [{"month": m, "count": by_month[m]} for m in month_range(by_month)]
    out["co_actors"] = [
        {"id": a, "name": names.get(a, a), "events": c} for a, c in co.most_common(20)
    ]
    out["quotes"] = list_quotes(conn, 50, 0, speaker=entity_id)["items"]
    return out


def month_range(months: Counter[str], cap: int = 600) -> list[str]:
    """Every month from the first to the last key (so a chart's x axis is real time)."""
    keys = sorted(k for k in months if re.fullmatch(r"\d{4}-\d{2}", k))
    if not keys:
        return []
    y, m = int(keys[0][:4]), int(keys[0][5:7])
    out = []
    while len(out) < cap:
        key = f"{y:04d}-{m:02d}"
        out.append(key)
        if key >= keys[-1]:
            break
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def search(conn: Connection, dialect: str, query: str, limit: int = 20) -> dict[str, Any]:
    """Full-text search over articles, plus entities and events whose names match."""
    query = query.strip()
    if not query:
        return {"query": query, "articles": [], "entities": [], "events": []}
    arts = search_articles(conn, dialect, query, limit=limit)
    ents = list_entities(conn, limit, 0, q=query)["items"]
    words = [w for w in re.findall(r"\w+", query) if len(w) > 1]
    ev = t.events
    evs: list[dict[str, Any]] = []
    if words:
        conds = [ev.c.title.like(_like(w), escape="!") for w in words]
        rows = list(
            conn.execute(select(ev).where(and_(*conds)).order_by(ev.c.seq).limit(limit)).mappings()
        )
        names = entity_names(conn, [a for r in rows for a in (r["actors"] or [])])
        evs = [event_summary(r, names) for r in rows]
    return {"query": query, "articles": arts, "entities": ents, "events": evs}
