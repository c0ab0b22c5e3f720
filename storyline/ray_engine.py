"""The Ray engine: extract + annotate as Ray Data ``map_batches`` stages.

The per-article functions are the very ones the local engine runs (``pipeline.process_docs``),
so both engines give the same articles and annotations. Each Ray actor loads the spaCy model
once; the driver keeps reading, deduplicating and writing to the store in batches, so linking
stays incremental against the store exactly as with the local engine.
"""

from __future__ import annotations

import logging
import os
import pickle
from collections.abc import Iterator, Sequence
from typing import Any

from .errors import StorylineError
from .records import RawDoc

log = logging.getLogger(__name__)

RAY_BATCH = 32  # documents per map_batches call (one nlp.pipe batch)


class _Worker:
    """A Ray actor: one spaCy model, many batches."""

    def __init__(self, annotate: bool, embed: bool) -> None:
        self.annotate, self.embed = annotate, embed
        if annotate:
            from .pipeline import load_models

            load_models(embed)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        from .pipeline import process_docs

        raws = [pickle.loads(b) for b in batch["blob"]]
        results = process_docs(raws, self.annotate, self.embed)
        return {"blob": np.array([pickle.dumps(r) for r in results], dtype=object)}


class RayRunner:
    """Start (or join) Ray once, then push chunks of documents through the actor pool."""

    def __init__(
        self, *, annotate: bool, workers: int | None, address: str | None, embed: bool = False
    ) -> None:
        try:
            import ray
        except ImportError as exc:
            raise StorylineError("the Ray engine needs Ray: pip install 'storyline[ray]'") from exc
        self.ray = ray
        self.annotate, self.embed = annotate, embed
        self.workers = workers or min(2, os.cpu_count() or 1)
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": False,
                "configure_logging": False,
            }
            if address:
                kwargs["address"] = address
            else:
                kwargs["num_cpus"] = self.workers
            ray.init(**kwargs)
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True  # same order as the local engine
        ctx.enable_progress_bars = False

    def process(self, raws: Sequence[RawDoc]) -> Iterator[list[Any]]:
        """Yield result lists (as ``process_docs`` returns them), in input order."""
        ds = self.ray.data.from_items([{"blob": pickle.dumps(r)} for r in raws])
        ds = ds.map_batches(
            _Worker,
            fn_constructor_kwargs={"annotate": self.annotate, "embed": self.embed},
            batch_size=RAY_BATCH,
            compute=self.ray.data.ActorPoolStrategy(size=self.workers),
            num_cpus=1,
            batch_format="numpy",
        )
        for batch in ds.iter_batches(batch_size=64, batch_format="numpy"):
            yield [pickle.loads(b) for b in batch["blob"]]
