"""``storyline watch``: ingest new feed items every so often."""

from __future__ import annotations

import re
import time

import click

from . import cli, db_option, open_db, progress_wanted

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(text: str) -> float:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if not m:
        raise click.BadParameter("use a number with s, m, h or d, e.g. 15m", param_hint="--every")
    return float(m.group(1)) * UNITS[m.group(2) or "s"]


@cli.command()
@click.argument("feeds", nargs=-1, required=True)
@db_option
@click.option(
    "--every", default="15m", show_default=True, help="How often to look (e.g. 30s, 15m, 1h)."
)
@click.option("--times", type=click.IntRange(1), default=None, help="Stop after this many rounds.")
@click.pass_context
def watch(
    ctx: click.Context, feeds: tuple[str, ...], db: str, every: str, times: int | None
) -> None:
    """Ingest new items of FEEDS (URLs or files) now and then every --every, until Ctrl-C.

    Items already stored are skipped, so each round costs only what is new.
    """
    from ..pipeline import ingest

    interval = parse_interval(every)
    store = open_db(db)
    rounds = 0
    while True:
        report = ingest(store, list(feeds), progress=progress_wanted(ctx))
        rounds += 1
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        click.echo(f"{stamp} round {rounds}: {report.summary()}")
        for f in report.failures:
            click.echo(f"skipped: {f}", err=True)
        if times is not None and rounds >= times:
            break
        time.sleep(interval)
