"""``storyline ingest`` and ``storyline demo``."""

from __future__ import annotations

import json
import tempfile
from importlib import resources
from pathlib import Path

import click

from ..errors import EXIT_PARTIAL, InputNotFound
from . import cli, db_option, json_option, open_db, progress_wanted, set_exit


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@db_option
@click.option(
    "--field",
    "fields",
    multiple=True,
    metavar="ROLE=COLUMN",
    help="Map a collection column to text, title, date, url or outlet (e.g. text=body).",
)
@click.option(
    "--workers", type=click.IntRange(1, 64), help="Worker processes (default: cores, max 2)."
)
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="Where per-article work runs: a local process pool, or Ray Data.",
)
@click.option(
    "--address",
    default=None,
    metavar="ADDR",
    help="Ray cluster to join with --engine ray (e.g. auto); default: start a local Ray.",
)
@click.option("--no-annotate", is_flag=True, help="Only read and extract (fast); annotate later.")
@click.option(
    "--no-link",
    is_flag=True,
    help="Do not link the new articles into events and stories (the next ingest that links "
    "takes them along).",
)
@json_option
@click.pass_context
def ingest(
    ctx: click.Context,
    paths: tuple[str, ...],
    db: str,
    fields: tuple[str, ...],
    workers: int | None,
    engine: str,
    address: str | None,
    no_annotate: bool,
    no_link: bool,
    as_json: bool,
) -> None:
    """Read news files into the store.

    PATHS are files, folders (read recursively), globs, or - for stdin. Plain text (any
    encoding), HTML, JSON, JSONL and CSV collections, and gzip of any of these. A bad file is
    reported and skipped; the rest goes in. Re-ingesting the same file adds nothing.
    """
    from ..pipeline import ingest as run_ingest
    from ..read import FieldMap, parse_field_options

    field_map = FieldMap(parse_field_options(fields))
    store = open_db(db)
    quiet = ctx.find_root().obj.get("quiet")

    def report_failure(f: object) -> None:
        if not quiet:
            click.echo(f"skipped: {f}", err=True)

    report = run_ingest(
        store,
        list(paths),
        fields=field_map,
        workers=workers,
        annotate=not no_annotate,
        link=not no_link,
        progress=progress_wanted(ctx),
        on_failure=report_failure,
        engine=engine,
        address=address,
    )
    if as_json:
        click.echo(
            json.dumps(
                {
                    "added": report.added,
                    "skipped": report.skipped,
                    "failed": [
                        {"source": f.source, "record": f.record, "error": f.message}
                        for f in report.failures
                    ],
                    "interrupted": report.interrupted,
                    "linked": report.linked,
                },
                indent=2,
            )
        )
    else:
        click.echo(f"{store.location}: {report.summary()}", err=quiet is True)
    if report.interrupted:
        raise KeyboardInterrupt
    if report.failures:
        if not report.added and not report.skipped:
            raise InputNotFound(f"nothing could be read ({len(report.failures)} input(s) failed)")
        set_exit(EXIT_PARTIAL)


def demo_corpus() -> Path:
    return Path(str(resources.files("storyline") / "data" / "demo" / "putin-xi"))


@cli.command()
@click.option(
    "--db", default=None, help="Store to fill (default: a throw-away store in a temp folder)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def demo(ctx: click.Context, db: str | None, as_json: bool) -> None:
    """Ingest the bundled sample corpus (Putin and Xi, 2022-2024) and print what it holds."""
    from ..pipeline import ingest as run_ingest
    from .browse import print_articles
    from .story import print_summary

    tmp = None
    if db is None:
        tmp = tempfile.TemporaryDirectory(prefix="storyline-demo-")
        db = str(Path(tmp.name) / "demo.db")
    store = open_db(db)
    report = run_ingest(store, [str(demo_corpus())], progress=progress_wanted(ctx))
    if as_json:
        from ..export import build_document

        click.echo(json.dumps(build_document(store), indent=2, ensure_ascii=False))
    else:
        click.echo(f"Sample corpus -> {db}: {report.summary()}\n")
        print_articles(store)
        click.echo("")
        print_summary(store)
    store.close()
    if tmp is not None:
        tmp.cleanup()
