"""Ingest: read -> extract -> annotate -> store -> link -> tell, batch by batch.

Per-article work (extract, annotate) is pure, so it runs in a process pool (the local engine)
or as Ray Data ``map_batches`` (the Ray engine). Each batch is written in one transaction: an
interrupted ingest leaves every finished batch stored and nothing half-written.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from .errors import StorylineError
from .extract import content_hash, extract
from .read import Failure, FieldMap, RawDoc, iter_docs
from .records import Annotations, Article
from .store import Store

log = logging.getLogger(__name__)

BATCH_SIZE = 128  # documents read per step; each worker gets parts of 32 (one nlp.pipe batch)
LINK_EVERY = 256  # new articles linked while the workers annotate the next ones (the driver's
# link step would otherwise leave a core idle at the end); a smaller ingest is linked whole
RAY_CHUNK = 2048  # documents handed to Ray Data at a time
POOL_THRESHOLD = 48  # fewer documents than this are processed in-process (no pool start-up)


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    skipped: int = 0  # already stored
    failures: list[Failure] = field(default_factory=list)
    interrupted: bool = False
    linked: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures and not self.interrupted

    def summary(self) -> str:
        parts = [f"{len(self.added)} added", f"{self.skipped} already stored"]
        if self.failures:
            parts.append(f"{len(self.failures)} failed")
        text = ", ".join(parts)
        if self.interrupted:
            text += " (interrupted: finished batches are stored, nothing half-written)"
        return text


def process_docs(
    raws: Sequence[RawDoc], annotate: bool = True, embed: bool = False
) -> list[tuple[Article, Annotations | None] | Failure]:
    """Extract and annotate a batch of documents; a pure function, run in a worker.

    ``embed`` also computes each annotated article's passage vector for the linker."""
    out: list[tuple[Article, Annotations | None] | Failure] = []
    arts: list[Article] = []
    for raw in raws:
        try:
            arts.append(extract(raw))
        except Exception as exc:  # a broken document is reported, the batch goes on
            log.debug("extract failed on %s", raw.source, exc_info=True)
            out.append(
                Failure(raw.source, f"cannot extract: {type(exc).__name__}: {exc}", raw.record)
            )
    anns: list[Annotations | None]
    if annotate and arts:
        from .annotate import annotate_many  # imported here: read + extract never loads spaCy

        try:
            anns = list(annotate_many(arts))
        except Exception as exc:  # pragma: no cover - annotate_many guards each component
            log.warning("annotation failed for a batch: %s", exc, exc_info=True)
            anns = [Annotations(article_id=a.id, notes=[f"annotation failed: {exc}"]) for a in arts]
    else:
        anns = [None] * len(arts)
    if embed and annotate and arts:
        _embed(arts, anns)
    out.extend(zip(arts, anns, strict=True))
    return out


def _embed(arts: Sequence[Article], anns: Sequence[Annotations | None]) -> None:
    from .link import embed as vectors

    try:
        got = vectors.passage_vectors([vectors.passage(a.title, a.text) for a in arts])
    except Exception as exc:  # the linker embeds what is missing; the batch goes on
        log.warning("embedding failed for a batch (the linker retries): %s", exc, exc_info=True)
        return
    for ann, vec in zip(anns, got, strict=True):
        if ann is not None:
            ann.vector = vectors.to_blob(vec)


def _init_worker(annotate: bool = True, embed: bool = False) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    if not annotate:  # read + extract only: no spaCy model in the workers
        return
    load_models(embed)


def worker_imports(annotate: bool, embed: bool) -> list[str]:
    """Modules the fork server imports once, so that each worker it forks starts with them
    (importing torch, loading spaCy's model: seconds of CPU each)."""
    if not annotate:
        return ["__main__", "storyline.pipeline"]
    mods = ["__main__", "storyline.pipeline", "storyline.annotate.warm"]
    return mods + (["storyline.link.minilm"] if embed else [])  # it imports torch


def load_models(embed: bool) -> None:
    """A worker's models, loaded once: spaCy, and the sentence encoder when it embeds (on one
    thread: each worker is one core's worth of work)."""
    from .annotate.nlp import load_nlp

    load_nlp()
    if embed:
        import torch

        from .link.embed import load_model

        torch.set_num_threads(1)
        load_model()


def chunks(items: Iterable[Any], n: int) -> Iterator[list[Any]]:
    it = iter(items)
    while chunk := list(islice(it, n)):
        yield chunk


def ingest(
    store: Store,
    paths: Sequence[str],
    *,
    fields: FieldMap | None = None,
    workers: int | None = None,
    annotate: bool = True,
    link: bool = True,
    progress: bool | None = None,
    stdin: Any = None,
    on_failure: Callable[[Failure], None] | None = None,
    engine: str = "local",
    address: str | None = None,
) -> IngestReport:
    """Read, extract, annotate and store everything under ``paths``, and link the new articles
    (in parts of ``LINK_EVERY``, each while the workers annotate the next part).

    ``engine="ray"`` runs extract + annotate on Ray Data (joining ``address`` if given).
    """
    if engine not in ("local", "ray"):
        raise StorylineError(f"unknown engine {engine!r}; use local or ray")
    report = IngestReport()
    if progress is None:
        progress = sys.stderr.isatty()
    from tqdm import tqdm

    bar = tqdm(desc="ingest", unit="doc", disable=not progress, file=sys.stderr, dynamic_ncols=True)
    batch_id = store.start_batch(paths)

    def fail(f: Failure) -> None:
        report.failures.append(f)
        if on_failure:  # the caller reports it (the CLI prints one line): no second copy
            log.info("skipped %s", f)
            on_failure(f)
        else:
            log.warning("skipped %s", f)

    unlinked: list[str] = store.unlinked_ids() if link else []  # stored, not linked yet
    vectors: dict[str, Any] = {}  # the workers' passage vectors of articles not linked yet
    linker = BackgroundLinker(store, report.linked, vectors)
    held: list[list[tuple[Article, Annotations | None] | Failure]] = []  # while linking

    def link_rest() -> None:
        from .link import link_new

        while unlinked:
            part = unlinked[:LINK_EVERY]
            got = take_vectors(vectors, part)
            merge_link_reports(report.linked, link_new(store, part, progress, got))
            del unlinked[: len(part)]

    def store_results(results: list[tuple[Article, Annotations | None] | Failure]) -> None:
        good = []
        for r in results:
            if isinstance(r, Failure):
                fail(r)
            else:
                good.append(r)
        with store.transaction() as conn:
            added = store.add_articles(conn, good, batch_id)
        if link:
            new = set(added)
            vectors.update(
                (art.id, ann.vector) for art, ann in good if ann and ann.vector and art.id in new
            )
        report.added.extend(added)
        unlinked.extend(added)
        report.skipped += len(good) - len(added)
        bar.update(len(results))

    def write(results: list[tuple[Article, Annotations | None] | Failure]) -> None:
        held.append(results)
        if linker.busy():  # SQLite has one writer: hold the results until the link commits
            return
        linker.collect()
        for part in held:
            store_results(part)
        held.clear()
        if link and len(unlinked) >= LINK_EVERY:  # fixed parts: the same input links the same
            linker.start(unlinked[:LINK_EVERY])
            del unlinked[:LINK_EVERY]

    docs = iter_docs(paths, fields, stdin=stdin)
    pool: Executor | None = None
    try:
        first = list(islice(docs, POOL_THRESHOLD))
        rest_exists = len(first) == POOL_THRESHOLD
        n_workers = workers if workers is not None else min(2, os.cpu_count() or 1)
        ray_runner = None
        ray_buffer: list[RawDoc] = []
        if engine == "ray":
            from .ray_engine import RayRunner

            ray_runner = RayRunner(
                annotate=annotate, embed=annotate and link, workers=workers, address=address
            )
        elif rest_exists and n_workers > 1:
            import multiprocessing as mp

            ctx = mp.get_context("forkserver")
            ctx.set_forkserver_preload(worker_imports(annotate, annotate and link))
            pool = ProcessPoolExecutor(
                n_workers,
                mp_context=ctx,
                initializer=_init_worker,
                initargs=(annotate, annotate and link),
            )
        from itertools import chain

        stream = chain(first, docs)
        pending: list[Any] = []

        for chunk in chunks(stream, BATCH_SIZE):
            raws = []
            for item in chunk:
                if isinstance(item, Failure):
                    fail(item)
                    bar.update(1)
                else:
                    raws.append(item)
            raws = _drop_known(store, raws, report, bar)
            if not raws:
                continue
            if ray_runner is not None:
                ray_buffer.extend(raws)
                if len(ray_buffer) >= RAY_CHUNK:
                    for results in ray_runner.process(ray_buffer):
                        write(results)
                    ray_buffer = []
            elif pool is None:
                write(process_docs(raws, annotate, link))
            else:
                # keep two batches in flight per worker, write in order
                for sub in chunks(raws, max(4, BATCH_SIZE // (2 * n_workers))):
                    pending.append(pool.submit(process_docs, sub, annotate, link))
                while len(pending) > 4 * n_workers:
                    write(pending.pop(0).result())
        for fut in pending:
            write(fut.result())
        pending.clear()
        if ray_runner is not None and ray_buffer:
            for results in ray_runner.process(ray_buffer):
                write(results)
        linker.wait()
        for part in held:
            store_results(part)
        held.clear()
    except KeyboardInterrupt:
        report.interrupted = True
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
            pool = None
    finally:
        bar.close()
        if pool is not None:
            pool.shutdown()
        linker.close()  # a link step under way finishes (and commits) or rolls back whole
        store.finish_batch(batch_id, len(report.added), report.skipped, len(report.failures))
    if link and unlinked and not report.interrupted:
        link_rest()
    return report


class BackgroundLinker:
    """Links stored articles in a thread while the workers annotate the next ones, so the
    driver's link step does not leave a core idle. One link step runs at a time."""

    def __init__(self, store: Store, into: dict[str, Any], vectors: dict[str, Any]) -> None:
        self.store, self.into, self.vectors = store, into, vectors
        self.pool: Any = None
        self.future: Any = None

    def busy(self) -> bool:
        return self.future is not None and not self.future.done()

    def start(self, ids: list[str]) -> None:
        from concurrent.futures import ThreadPoolExecutor

        from .link import link_new

        if self.pool is None:
            self.pool = ThreadPoolExecutor(1, thread_name_prefix="storyline-link")
        got = take_vectors(self.vectors, ids)
        self.future = self.pool.submit(link_new, self.store, ids, False, got)

    def collect(self) -> None:
        """Take a finished step's report (and raise its error, if it failed)."""
        if self.future is not None and self.future.done():
            self.wait()

    def wait(self) -> None:
        if self.future is not None:
            future, self.future = self.future, None
            merge_link_reports(self.into, future.result())

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)
            self.pool = None


def take_vectors(vectors: dict[str, Any], ids: Sequence[str]) -> dict[str, Any]:
    """The workers' vectors of these articles (as arrays), removed from ``vectors``."""
    from .link.embed import from_blob

    return {i: from_blob(vectors.pop(i)) for i in ids if i in vectors}


def merge_link_reports(into: dict[str, Any], part: dict[str, Any]) -> None:
    """One ingest's link report from its parts: counts add up, maps and lists join."""
    for key, value in part.items():
        old = into.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            merge_link_reports(old, value) if key == "articles" else old.update(value)
        elif isinstance(value, list) and isinstance(old, list):
            into[key] = sorted(set(old) | set(value))
        elif isinstance(value, int | float) and isinstance(old, int | float):
            into[key] = old + value
        else:
            into[key] = value


def _drop_known(store: Store, raws: list[RawDoc], report: IngestReport, bar: Any) -> list[RawDoc]:
    """Skip documents whose source and bytes are already stored before doing any work."""
    keys = [(_raw_key(r), content_hash(r.data)) for r in raws]
    with store.read() as conn:
        known = store.known_hashes(conn, keys)
    keep = [r for r, k in zip(raws, keys, strict=True) if k not in known]
    dropped = len(raws) - len(keep)
    if dropped:
        report.skipped += dropped
        bar.update(dropped)
    return keep


def _raw_key(raw: RawDoc) -> str:
    return raw.source if raw.record is None else f"{raw.source}#{raw.record}"
