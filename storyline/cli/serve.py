"""``storyline serve``: the local web app and JSON API over one store."""

from __future__ import annotations

import logging
import os
import secrets
import socket

import click

from ..errors import StorylineError
from ..serve import report  # noqa: F401  (registers the html exporter)
from . import cli, db_option

log = logging.getLogger(__name__)


def _check_port(host: str, port: int) -> int:
    """Fail with one clear line when the port is taken; port 0 picks a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise StorylineError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
        return int(sock.getsockname()[1])


@cli.command(name="serve")
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="0: any free."
)
@click.option(
    "--write",
    is_flag=True,
    help="Allow uploads (ingest); they need the token (printed, or $STORYLINE_TOKEN).",
)
@click.option(
    "--token",
    default=lambda: os.environ.get("STORYLINE_TOKEN"),
    show_default="$STORYLINE_TOKEN or a new random one",
    help="Token that uploads must present (only with --write).",
)
@click.option(
    "--max-upload-kib", default=5120, show_default=True, type=click.IntRange(1, 1024 * 1024)
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes (more serve more concurrent readers; one per core).",
)
def serve_cmd(
    db: str,
    host: str,
    port: int,
    write: bool,
    token: str | None,
    max_upload_kib: int,
    workers: int,
) -> None:
    """Start the web app (stories, timeline, events, sources, quotes) and its /api/."""
    import uvicorn

    from ..serve.app import create_app

    if write and not token:
        token = secrets.token_urlsafe(18)
    app = create_app(
        db, write=write, token=token if write else None, max_upload_bytes=max_upload_kib * 1024
    )
    port = _check_port(host, port)
    shown = f"[{host}]" if ":" in host else host
    mode = "read-write, uploads need the token" if write else "read-only"
    click.echo(f"Storyline serving {db} ({mode}) at http://{shown}:{port}/")
    click.echo(f"API docs: http://{shown}:{port}/docs")
    if write:
        click.echo(f"upload token: {token}")
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(
            f"warning: listening on {host}; anyone who can reach it can read the store", err=True
        )
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
        return
    app.state.store.close()  # checked it opens; each worker process opens its own
    os.environ.update(
        STORYLINE_SERVE_DB=str(db),
        STORYLINE_SERVE_WRITE="1" if write else "0",
        STORYLINE_SERVE_MAX_UPLOAD=str(max_upload_kib * 1024),
        STORYLINE_TOKEN=token or "",
    )
    uvicorn.run(
        "storyline.serve.app:app_from_env",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
    )
