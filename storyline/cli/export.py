"""``storyline export``."""

from __future__ import annotations

import sys

import click

from . import cli, db_option, open_db


@cli.command(name="export")
@db_option
@click.option(
    "--format",
    "fmt",
    default="json",
    show_default=True,
    help="json (the DESIGN.md contract), jsonl, csv, and any format a stage adds.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="Write to this file (default: stdout).",
)
def export_cmd(db: str, fmt: str, output: str | None) -> None:
    """Export the store: articles, events, quotes, entities, stories."""
    from ..export import FORMATS, export

    if fmt not in FORMATS:
        raise click.BadParameter(f"use one of {', '.join(sorted(FORMATS))}", param_hint="--format")
    store = open_db(db, read_only=True)
    if output:
        import os
        import tempfile

        folder = os.path.dirname(os.path.abspath(output))
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".storyline-export-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                export(store, fmt, fh)
            os.replace(tmp, output)  # never a half-written export
        except BaseException:
            os.unlink(tmp)
            raise
        click.echo(f"wrote {output}", err=True)
    else:
        export(store, fmt, sys.stdout)
