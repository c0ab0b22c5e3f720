"""events: to be written (issue 4)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import Context


def run(ctx: Context) -> None:
    return None
