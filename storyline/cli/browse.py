"""Browsing verbs: ``articles``, ``show``, ``search``."""

from __future__ import annotations

import json
import shutil
from typing import Any

import click

from ..store import Store
from . import cli, db_option, json_option, open_db

DATE_MARK = {"metadata": "", "text": "", "inferred": "~", "unknown": "?"}


def _width() -> int:
    return shutil.get_terminal_size((110, 24)).columns


def clip(text: str | None, n: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: max(n - 1, 0)] + "…"


def date_label(row: dict[str, Any]) -> str:
    if not row.get("pub_date"):
        return "undated"
    return f"{DATE_MARK.get(row.get('pub_date_source') or '', '')}{row['pub_date']}"


def print_articles(store: Store, rows: list[dict[str, Any]] | None = None) -> None:
    rows = store.articles() if rows is None else rows
    with store.read() as conn:
        rels = store.relations_of(conn, [r["id"] for r in rows])
    click.echo(f"{'id':16}  {'date':11} {'via':9} {'outlet':22} {'words':>5}  title")
    for r in rows:
        title = r["title"] or "(no title)"
        rel = rels.get(r["id"]) or []
        dup = (
            " [" + ", ".join(f"{x['kind']} {x['other_id'][:8]}" for x in rel[:2]) + "]"
            if rel
            else ""
        )
        via = r["pub_date_source"] if r["pub_date"] else ""
        line = (
            f"{r['id']:16}  {date_label(r):11} {via:9} {clip(r['outlet'] or 'unknown', 22):22} "
            f"{r['words']:>5}  {title}{dup}"
        )
        width = max(_width(), 80)
        click.echo(line if len(line) <= width else line[: width - 1] + "…")
    click.echo(f"{len(rows)} article(s); ~ = date inferred, undated = no date found yet")


@cli.command()
@db_option
@json_option
@click.option("--outlet", help="Only articles from this outlet.")
@click.option("--from", "since", metavar="DATE", help="Published on or after DATE (YYYY-MM-DD).")
@click.option("--to", "until", metavar="DATE", help="Published on or before DATE.")
@click.option("--limit", type=click.IntRange(1), default=None, help="At most this many.")
@click.option("--offset", type=click.IntRange(0), default=0, help="Skip this many first.")
def articles(
    db: str,
    as_json: bool,
    outlet: str | None,
    since: str | None,
    until: str | None,
    limit: int | None,
    offset: int,
) -> None:
    """List stored articles: id, date (and how it was found), outlet, words, title, duplicates."""
    store = open_db(db, read_only=True)
    rows = store.articles(limit=limit, offset=offset, outlet=outlet, since=since, until=until)
    if as_json:
        with store.read() as conn:
            rels = store.relations_of(conn, [r["id"] for r in rows])
        for r in rows:
            r["relations"] = [
                {"kind": x["kind"], "article": x["other_id"], "score": x["score"]}
                for x in rels.get(r["id"], [])
            ]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False, default=str))
        return
    print_articles(store, rows)


@cli.command()
@click.argument("article_id")
@db_option
@json_option
@click.option("--plain", is_flag=True, help="No colours or highlight marks.")
def show(article_id: str, db: str, as_json: bool, plain: bool) -> None:
    """Show one article: metadata, clean text (annotations highlighted), removed boilerplate."""
    from .highlight import render_article

    store = open_db(db, read_only=True)
    row = store.article(article_id)
    if as_json:
        from .highlight import article_json

        click.echo(json.dumps(article_json(store, row), indent=2, ensure_ascii=False, default=str))
        return
    click.echo(render_article(store, row, color=not plain))


@cli.command()
@click.argument("query")
@db_option
@json_option
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
def search(query: str, db: str, as_json: bool, limit: int) -> None:
    """Full-text search over articles, best match first, with snippets ([match])."""
    store = open_db(db, read_only=True)
    hits = store.search(query, limit=limit)
    if as_json:
        click.echo(json.dumps(hits, indent=2, ensure_ascii=False))
        return
    if not hits:
        click.echo(f"no article matches {query!r}")
        return
    for h in hits:
        click.echo(
            f"{h['id']}  {h['pub_date'] or 'undated':10}  {clip(h['outlet'] or 'unknown', 20):20}  "
            f"{clip(h['title'] or '(no title)', 70)}"
        )
        click.echo(f"    {clip(h['snippet'], 150)}")
