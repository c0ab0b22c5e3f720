"""Annotation verbs: ``entities``, ``quotes``, ``events``.

Each reads the store only. Before the link stage has run they show what the per-article
annotations hold (mentions grouped by canonical name, quotes, event mentions); once it has, they
show the linked entities, utterances and events, with every source side by side.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any

import click
from sqlalchemy import func, select

from ..errors import NotFound
from ..store import Store, schema
from . import cli, db_option, json_option, open_db
from .browse import clip, date_label


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _count(store: Store, table: Any) -> int:
    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _articles_by_id(store: Store, ids: set[str]) -> dict[str, dict[str, Any]]:
    """Outlet, date and title of the articles a listing points at."""
    a = schema.articles
    if not ids:
        return {}
    cols = (a.c.id, a.c.outlet, a.c.title, a.c.pub_date, a.c.pub_date_source)
    with store.read() as conn:
        rows = conn.execute(select(*cols).where(a.c.id.in_(sorted(ids)))).mappings()
        return {r["id"]: dict(r) for r in rows}


def _sentences(store: Store, keys: set[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """The text of (article, sentence index) pairs: the evidence a listing shows."""
    s = schema.sentences
    out: dict[tuple[str, int], str] = {}
    by_article: dict[str, set[int]] = defaultdict(set)
    for aid, idx in keys:
        by_article[aid].add(idx)
    with store.read() as conn:
        for aid, idxs in by_article.items():
            q = select(s.c.idx, s.c.text).where(s.c.article_id == aid, s.c.idx.in_(sorted(idxs)))
            for r in conn.execute(q):
                out[(aid, r.idx)] = r.text
    return out


# -- entities --------------------------------------------------------------------------------


def linked_entities(store: Store, etype: str | None, limit: int | None) -> list[dict[str, Any]]:
    """Rows of the ``entities`` table, most mentioned first."""
    e = schema.entities
    q = select(e).order_by(e.c.mentions.desc(), e.c.name)
    if etype:
        q = q.where(func.upper(e.c.type) == etype.upper())
    if limit:
        q = q.limit(limit)
    with store.read() as conn:
        rows = [dict(r) for r in conn.execute(q).mappings()]
    return [
        {
            "id": r["id"],
            "name": r["name"],
            "type": r["type"],
            "country": r["country"],
            "aliases": list(r["aliases"] or []),
            "mentions": r["mentions"],
        }
        for r in rows
    ]


def grouped_mentions(store: Store, etype: str | None, limit: int | None) -> list[dict[str, Any]]:
    """Mentions grouped by (canonical name, label), for stores the link stage has not filled."""
    m = schema.mentions
    q = select(m.c.article_id, m.c.text, m.c.label, m.c.kind, m.c.canonical, m.c.country)
    if etype:
        q = q.where(func.upper(m.c.label) == etype.upper())
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    with store.read() as conn:
        for r in conn.execute(q):
            name = r.canonical or (r.text if r.kind != "title" else None)
            if not name:
                continue  # a description nobody in its article fits
            g = groups.setdefault(
                (name, r.label),
                {"aliases": Counter(), "countries": Counter(), "articles": set(), "n": 0},
            )
            g["n"] += 1
            g["articles"].add(r.article_id)
            if r.text != name:
                g["aliases"][r.text] += 1
            if r.country:
                g["countries"][r.country] += 1
    out = [
        {
            "name": name,
            "type": label,
            "country": g["countries"].most_common(1)[0][0] if g["countries"] else None,
            "aliases": [a for a, _ in g["aliases"].most_common()],
            "mentions": g["n"],
            "articles": len(g["articles"]),
        }
        for (name, label), g in groups.items()
    ]
    out.sort(key=lambda d: (-d["mentions"], d["name"]))
    return out[:limit] if limit else out


@cli.command(name="entities")
@db_option
@json_option
@click.option("--type", "etype", metavar="TYPE", help="Only this type: PERSON, ORG, GPE, GOV, ...")
@click.option("--limit", type=click.IntRange(1), default=None, help="At most this many.")
def entities_cmd(db: str, as_json: bool, etype: str | None, limit: int | None) -> None:
    """People, organisations, places and governments, most mentioned first."""
    store = open_db(db, read_only=True)
    linked = _count(store, schema.entities) > 0
    rows = (linked_entities if linked else grouped_mentions)(store, etype, limit)
    store.close()
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        click.echo("no entities (ingest some articles first)")
        return
    click.echo(f"{'name':32} {'type':7} {'cc':3} {'mentions':>8}  aliases")
    for r in rows:
        extra = f" in {r['articles']} article(s)" if "articles" in r else ""
        click.echo(
            f"{clip(r['name'], 32):32} {r['type']:7} {r['country'] or '':3} {r['mentions']:>8}  "
            f"{clip(', '.join(r['aliases']), 60)}{extra}"
        )
    how = "linked entities" if linked else "grouped by name within articles (not linked yet)"
    click.echo(f"{len(rows)} entit{'y' if len(rows) == 1 else 'ies'}; {how}")


# -- quotes ----------------------------------------------------------------------------------


def quote_rows(store: Store, speaker: str | None, limit: int | None) -> list[dict[str, Any]]:
    """Quotes in article order, with the article's outlet and date."""
    q_t, a = schema.quotes, schema.articles
    q = (
        select(q_t, a.c.outlet, a.c.pub_date, a.c.pub_date_source)
        .join(a, a.c.id == q_t.c.article_id)
        .order_by(a.c.seq, q_t.c.start)
    )
    if speaker:
        pat = f"%{speaker.lower()}%"
        q = q.where(
            func.lower(func.coalesce(q_t.c.speaker_canonical, "")).like(pat)
            | func.lower(func.coalesce(q_t.c.speaker, "")).like(pat)
        )
    if limit:
        q = q.limit(limit)
    with store.read() as conn:
        rows = [dict(r) for r in conn.execute(q).mappings()]
    return [
        {
            "id": r["id"],
            "article": r["article_id"],
            "outlet": r["outlet"],
            "pub_date": r["pub_date"],
            "pub_date_source": r["pub_date_source"],
            "speaker": r["speaker_canonical"] or r["speaker"],
            "speaker_text": r["speaker"],
            "speaker_id": r["speaker_id"],
            "kind": r["kind"],
            "text": r["text"],
            "channel": r["channel"],
            "utterance": r["utterance_id"],
        }
        for r in rows
    ]


def group_utterances(store: Store, quotes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Quotes of one statement together (a quote not linked yet is its own group)."""
    u = schema.utterances
    ids = {q["utterance"] for q in quotes if q["utterance"]}
    texts: dict[str, dict[str, Any]] = {}
    if ids:
        with store.read() as conn:
            for r in conn.execute(select(u).where(u.c.id.in_(sorted(ids)))).mappings():
                texts[r["id"]] = dict(r)
    groups: dict[str, dict[str, Any]] = {}
    for q in quotes:
        key = q["utterance"] or q["id"]
        g = groups.get(key)
        if g is None:
            known = texts.get(key, {})
            g = groups[key] = {
                "utterance": q["utterance"],
                "speaker": known.get("speaker") or q["speaker"],
                "text": known.get("text") or q["text"],
                "quotes": [],
            }
        g["quotes"].append(q)
    out = list(groups.values())
    for g in out:
        g["n_quotes"] = len(g["quotes"])
        g["outlets"] = sorted({q["outlet"] for q in g["quotes"] if q["outlet"]})
    out.sort(key=lambda g: -g["n_quotes"])
    return out


@cli.command(name="quotes")
@db_option
@json_option
@click.option("--speaker", metavar="NAME", help="Only quotes whose speaker name contains NAME.")
@click.option("--utterances", is_flag=True, help="Group quotes of one statement together.")
@click.option("--limit", type=click.IntRange(1), default=None, help="At most this many quotes.")
def quotes_cmd(
    db: str, as_json: bool, speaker: str | None, utterances: bool, limit: int | None
) -> None:
    """Who said what, and where it was reported."""
    store = open_db(db, read_only=True)
    rows = quote_rows(store, speaker, limit)
    groups = group_utterances(store, rows) if utterances else None
    store.close()
    if as_json:
        _echo_json(groups if utterances else rows)
        return
    if not rows:
        click.echo("no quotes" + (f" by {speaker!r}" if speaker else ""))
        return
    if groups is not None:
        for g in groups:
            click.echo(
                f"{clip(g['speaker'] or 'unknown', 24):24} x{g['n_quotes']:<3} "
                f"{clip(g['text'], 90)}"
            )
            for q in g["quotes"]:
                click.echo(
                    f"    [{q['outlet'] or 'unknown'} {date_label(q)} {q['article'][:8]}] "
                    f"{q['kind']}: {clip(q['text'], 80)}"
                )
        click.echo(f"{len(groups)} statement(s) in {len(rows)} quote(s)")
        return
    for q in rows:
        click.echo(
            f"{q['article'][:8]}  {clip(q['speaker'] or 'unknown', 24):24} {q['kind']:8} "
            f"{clip(q['text'], 90)}"
        )
    click.echo(f"{len(rows)} quote(s)")


# -- events ----------------------------------------------------------------------------------


def _entity_names(store: Store, ids: set[str]) -> dict[str, str]:
    e = schema.entities
    if not ids:
        return {}
    with store.read() as conn:
        q = select(e.c.id, e.c.name).where(e.c.id.in_(sorted(ids)))
        return {r.id: r.name for r in conn.execute(q)}


def event_rows(
    store: Store, etype: str | None, status: str | None, limit: int | None
) -> list[dict[str, Any]]:
    """Linked events in date order, actors by name."""
    ev = schema.events
    q = select(ev).order_by(ev.c.date.is_(None), ev.c.date, ev.c.seq)
    if etype:
        q = q.where(func.upper(ev.c.type) == etype.upper())
    if status:
        q = q.where(ev.c.status == status.lower())
    if limit:
        q = q.limit(limit)
    with store.read() as conn:
        rows = [dict(r) for r in conn.execute(q).mappings()]
    names = _entity_names(store, {a for r in rows for a in r["actors"] or []})
    return [
        {
            "id": r["id"],
            "date": r["date"],
            "date_end": r["date_end"],
            "precision": r["precision"],
            "status": r["status"],
            "type": r["type"],
            "title": r["title"],
            "actors": [names.get(a, a) for a in r["actors"] or []],
            "location": r["location"],
            "n_articles": r["n_articles"],
            "n_outlets": r["n_outlets"],
            "outlets": list(r["outlets"] or []),
        }
        for r in rows
    ]


def mention_rows(
    store: Store,
    etype: str | None,
    status: str | None,
    limit: int | None,
    ids: list[str] | None = None,
    event_id: str | None = None,
) -> list[dict[str, Any]]:
    """Event mentions per article, with the sentence each was found in."""
    em, a = schema.event_mentions, schema.articles
    q = (
        select(em, a.c.outlet, a.c.title, a.c.pub_date, a.c.pub_date_source)
        .join(a, a.c.id == em.c.article_id)
        .order_by(a.c.seq, em.c.start)
    )
    if etype:
        q = q.where(func.upper(em.c.type) == etype.upper())
    if status:
        q = q.where(em.c.status == status.lower())
    if ids is not None:
        q = q.where(em.c.id.in_(ids))
    if event_id is not None:
        q = q.where(em.c.event_id == event_id)
    if limit:
        q = q.limit(limit)
    with store.read() as conn:
        rows = [dict(r) for r in conn.execute(q).mappings()]
    sents = _sentences(store, {(r["article_id"], r["sentence"]) for r in rows})
    return [
        {
            "id": r["id"],
            "article": r["article_id"],
            "outlet": r["outlet"],
            "title": r["title"],
            "pub_date": r["pub_date"],
            "pub_date_source": r["pub_date_source"],
            "type": r["type"],
            "mode": r["mode"],
            "status": r["status"],
            "date": r["date"],
            "actors": list(r["actors"] or []),
            "targets": list(r["targets"] or []),
            "location": r["location"],
            "trigger": r["trigger"],
            "sentence": sents.get((r["article_id"], r["sentence"]), ""),
            "event": r["event_id"],
        }
        for r in rows
    ]


def one_event(store: Store, event_id: str) -> dict[str, Any]:
    """An event (id or unique prefix) with all its sources; or one event mention by id."""
    ev = schema.events
    with store.read() as conn:
        ids = [
            r[0]
            for r in conn.execute(
                select(ev.c.id)
                .where((ev.c.id == event_id) | ev.c.id.startswith(event_id, autoescape=True))
                .limit(3)
            )
        ]
    exact = event_id if event_id in ids else (ids[0] if len(ids) == 1 else None)
    if exact is None:
        found = mention_rows(store, None, None, None, ids=[event_id])
        if found:
            return {"mention": found[0]}
        what = "several events start with" if len(ids) > 1 else "no event with id"
        raise NotFound(f"{what} {event_id!r}")
    with store.read() as conn:
        row = dict(conn.execute(select(ev).where(ev.c.id == exact)).mappings().one())
    names = _entity_names(store, set(row["actors"] or []))
    row["actors"] = [names.get(a, a) for a in row["actors"] or []]
    seen: set[tuple[str, str]] = set()
    row["sources"] = []
    for src in mention_rows(store, None, None, None, event_id=exact):
        if (src["article"], src["sentence"]) not in seen:  # one line per evidence sentence
            seen.add((src["article"], src["sentence"]))
            row["sources"].append(src)
    return row


def _print_mention(r: dict[str, Any]) -> None:
    actors = ", ".join(r["actors"]) or "?"
    click.echo(
        f"{r['article'][:8]}  {r['type']:9} {r['status']:8} {r['date'] or '?':10} "
        f"{clip(actors, 30):30} [{r['trigger']}]"
    )
    click.echo(f"    {clip(r['sentence'], 140)}")


def _print_event(e: dict[str, Any]) -> None:
    click.echo(f"{e['id']}  {e['type']} ({e['status']})  {e['title']}")
    when = e["date"] or "undated"
    if e.get("date_end") and e["date_end"] != e["date"]:
        when += f" .. {e['date_end']}"
    click.echo(f"  when: {when} ({e.get('precision') or '?'})  where: {e.get('location') or '?'}")
    click.echo(f"  actors: {', '.join(e['actors']) or '?'}")
    click.echo(f"  sources ({len(e['sources'])}):")
    for s in e["sources"]:
        click.echo(f"    [{s['outlet'] or 'unknown'} {date_label(s)} {s['article'][:8]}]")
        click.echo(f"      {clip(s['sentence'], 140)}")


@cli.command(name="events")
@click.argument("event_id", required=False)
@db_option
@json_option
@click.option("--type", "etype", metavar="TYPE", help="Only this PLOVER type (CONSULT, ...).")
@click.option(
    "--status",
    type=click.Choice(["happened", "planned", "denied", "hypothetical", "unknown"]),
    help="Only events with this status.",
)
@click.option("--limit", type=click.IntRange(1), default=None, help="At most this many.")
def events_cmd(
    event_id: str | None,
    db: str,
    as_json: bool,
    etype: str | None,
    status: str | None,
    limit: int | None,
) -> None:
    """Events (or, before linking, event mentions per article); EVENT_ID shows its sources."""
    store = open_db(db, read_only=True)
    try:
        if event_id:
            one = one_event(store, event_id)
            if as_json:
                _echo_json(one)
            elif "mention" in one:
                _print_mention(one["mention"])
            else:
                _print_event(one)
            return
        linked = _count(store, schema.events) > 0
        if linked:
            rows = event_rows(store, etype, status, limit)
        else:
            rows = mention_rows(store, etype, status, limit)
    finally:
        store.close()
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        click.echo("no events (ingest some articles first)")
        return
    if not linked:
        for r in rows:
            _print_mention(r)
        click.echo(f"{len(rows)} event mention(s); not linked into events yet")
        return
    for e in rows:
        click.echo(
            f"{e['id'][:12]:12} {e['date'] or 'undated':10} {e['type']:9} {e['status']:8} "
            f"{clip(e['title'], 60):60} {e['n_articles']} art./{e['n_outlets']} outlets"
        )
    click.echo(f"{len(rows)} event(s); `storyline events ID` shows one with its sources")
