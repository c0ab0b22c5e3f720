"""Story verbs: ``timeline`` (filled by the link/tell stages)."""

from __future__ import annotations

import click

from ..store import Store


def print_summary(store: Store) -> None:
    s = store.stats()
    click.echo(
        f"{s['articles']} articles from {s['outlets']} outlets ({s['undated']} undated), "
        f"{s['entities']} entities, {s['events']} events, {s['quotes']} quotes, {s['stories']} stories"
    )
