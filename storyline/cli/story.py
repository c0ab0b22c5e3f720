"""Story verbs: ``timeline`` and ``stories``; ``print_summary`` for ``storyline demo``."""

from __future__ import annotations

import json

import click

from ..store import Store
from . import cli, db_option, json_option, open_db


def print_summary(store: Store) -> None:
    """Counts, then the timeline a reader would write from the store."""
    s = store.stats()
    click.echo(
        f"{s['articles']} articles from {s['outlets']} outlets ({s['undated']} undated), "
        f"{s['entities']} entities, {s['events']} events, {s['quotes']} quotes, {s['stories']} stories"
    )
    print_dating(store)
    from ..tell.timeline import format_line, timeline

    entries = timeline(store)
    if entries:
        click.echo(
            f"\nTimeline ({len(entries)} of {s['events']} events; `storyline timeline --all`):"
        )
        for e in entries:
            click.echo("  " + format_line(e))


def print_dating(store: Store) -> None:
    """How undated articles were dated (or why not)."""
    rows = [
        r
        for r in store.articles()
        if r["pub_date_source"] == "inferred" or (not r["pub_date"] and r["pub_date_evidence"])
    ]
    if not rows:
        return
    click.echo("\nDates inferred from what the articles report:")
    for r in rows:
        label = r["pub_date"] or "unknown"
        click.echo(
            f"  {r['id'][:8]} {r['outlet'] or 'unknown':<16} {label:<10} {r['pub_date_evidence']}"
        )


@cli.command(name="timeline")
@db_option
@json_option
@click.option("--story", "story", metavar="ID", help="Only this story (id or id prefix).")
@click.option("--from", "date_from", metavar="DATE", help="Events on or after DATE.")
@click.option("--to", "date_to", metavar="DATE", help="Events on or before DATE.")
@click.option("--actor", metavar="NAME", help="Only events with this actor (name or alias).")
@click.option("--evidence", is_flag=True, help="Show the sentences each event comes from.")
@click.option("--all", "show_all", is_flag=True, help="Every event, not only the salient ones.")
def timeline_cmd(
    db: str,
    as_json: bool,
    story: str | None,
    date_from: str | None,
    date_to: str | None,
    actor: str | None,
    evidence: bool,
    show_all: bool,
) -> None:
    """One line per event: date (precision), status, summary, outlets and article count."""
    from ..tell.timeline import format_line, timeline

    store = open_db(db, read_only=True)
    entries = timeline(
        store,
        story=story,
        date_from=date_from,
        date_to=date_to,
        actor=actor,
        show_all=show_all,
        evidence=evidence or as_json,
    )
    store.close()
    if as_json:
        click.echo(json.dumps([e.to_dict() for e in entries], indent=2, ensure_ascii=False))
        return
    if not entries:
        click.echo("no events (ingest some articles, or try --all)")
        return
    for e in entries:
        click.echo(format_line(e))
        if evidence:
            for ev in e.evidence:
                click.echo(f"    [{ev['outlet'] or ev['article'][:8]}] {ev['sentence'].strip()}")


@cli.command(name="stories")
@db_option
@json_option
def stories_cmd(db: str, as_json: bool) -> None:
    """The stories: events linked by shared actors and time."""
    from sqlalchemy import select

    from ..store import schema

    store = open_db(db, read_only=True)
    with store.read() as conn:
        rows = [
            dict(r)
            for r in conn.execute(select(schema.stories).order_by(schema.stories.c.seq)).mappings()
        ]
    store.close()
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for r in rows:
        click.echo(
            f"{r['id']}  {r['date_start'] or '?'}..{r['date_end'] or '?'}  {r['title']} "
            f"({r['n_events']} events, {r['n_articles']} articles, {r['n_outlets']} outlets)"
        )
