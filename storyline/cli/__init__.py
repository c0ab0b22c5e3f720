"""The ``storyline`` command: a thin layer over the package.

Every verb lives in a small module of this package; errors from the package become one line on
stderr and an exit code here, in one place (see ``storyline.errors``).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from ..errors import EXIT_INTERRUPTED, StorylineError

DEFAULT_DB = "storyline.db"

EPILOG = """Exit codes: 0 ok; 1 done, but some inputs were skipped; 2 bad usage;
3 unreadable input; 4 store cannot be opened or written; 5 id not found; 130 interrupted."""


def db_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--db",
        default=lambda: os.environ.get("STORYLINE_DB", DEFAULT_DB),
        show_default=f"$STORYLINE_DB or ./{DEFAULT_DB}",
        help="Store: an SQLite file, or a postgresql:// URL.",
    )(fn)


def json_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON (for pipes).")(fn)


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr; no progress bars.")
@click.version_option(package_name="storyline")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """Storyline: turn news coverage of a developing story into a sourced chronicle.

    \b
    Typical use:
      storyline ingest ~/news/ --db news.db
      storyline timeline --db news.db
      storyline serve --db news.db
    """
    level = (
        logging.ERROR if quiet else [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    )
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    ctx.ensure_object(dict)
    ctx.obj["quiet"] = quiet


def open_db(db: str, *, read_only: bool = False) -> Any:
    from ..store import open_store

    return open_store(db, read_only=read_only)


def progress_wanted(ctx: click.Context) -> bool:
    return not ctx.find_root().obj.get("quiet") and sys.stderr.isatty()


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, turning package errors into one line and an exit code."""
    from . import browse, export, ingest  # noqa: F401  (registers the verbs)

    _optional_verbs()
    try:
        cli.main(args=argv, prog_name="storyline", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("storyline: interrupted", err=True)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        click.echo("storyline: interrupted", err=True)
        return EXIT_INTERRUPTED
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except StorylineError as exc:
        click.echo(f"storyline: error: {exc}", err=True)
        return exc.exit_code
    except BrokenPipeError:
        sys.stderr.close()
        return 0
    ctx_code = _exit_code.get("code", 0)
    return ctx_code


_exit_code: dict[str, int] = {}


def set_exit(code: int) -> None:
    """Let a verb finish normally but report a non-zero status (e.g. some inputs skipped)."""
    _exit_code["code"] = max(code, _exit_code.get("code", 0))


def _optional_verbs() -> None:
    """Verbs whose modules are added by later stages; import whichever exist."""
    import importlib

    for name in ("annotations", "story", "serve", "evaluate", "watch"):
        try:
            importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise


def run() -> None:  # pragma: no cover
    sys.exit(main())
