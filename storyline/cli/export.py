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
    help="json (the DESIGN.md contract), jsonl, csv (articles), events-csv, timelinejs, "
    "html (self-contained report), parquet (needs -o).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="Write to this file (default: stdout).",
)
def export_cmd(db: str, fmt: str, output: str | None) -> None:
    """Export the store: articles, events, quotes, entities, stories."""
    from ..export import BINARY_FORMATS, FORMATS, export, load_formats

    load_formats()
    if fmt not in FORMATS and fmt not in BINARY_FORMATS:
        names = ", ".join(sorted({*FORMATS, *BINARY_FORMATS}))
        raise click.BadParameter(f"use one of {names}", param_hint="--format")
    store = open_db(db, read_only=True)
    if fmt in BINARY_FORMATS:
        if not output:
            raise click.BadParameter(
                f"{fmt} is a binary format: give -o FILE", param_hint="--output"
            )
        BINARY_FORMATS[fmt](store, output)
        click.echo(f"wrote {output}", err=True)
        return
    if output:
        import os
        import tempfile

        folder = os.path.dirname(os.path.abspath(output))
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".storyline-export-")
        try:
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a normal file is wanted
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                export(store, fmt, fh)
            os.replace(tmp, output)  # never a half-written export
        except BaseException:
            os.unlink(tmp)
            raise
        click.echo(f"wrote {output}", err=True)
    else:
        export(store, fmt, sys.stdout)


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask
