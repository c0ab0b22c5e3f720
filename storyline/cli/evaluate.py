"""``storyline eval NAME DATA_PATH``: every evaluation module under storyline/eval/."""

from __future__ import annotations

import importlib
import pkgutil

import click

from .. import eval as eval_pkg
from . import cli


@cli.group(name="eval")
def eval_group() -> None:
    """Measure quality on public gold-labelled data, with peer systems side by side.

    Each sub-command takes the benchmark folder as an argument, e.g.
    storyline eval timex ../shared/benchmarks/tempeval3
    """


for _info in pkgutil.iter_modules(eval_pkg.__path__):
    if _info.name.startswith("_"):
        continue
    _module = importlib.import_module(f"{eval_pkg.__name__}.{_info.name}")
    _command = getattr(_module, "command", None)
    if isinstance(_command, click.Command):
        eval_group.add_command(_command)
