"""Ingest speed and memory: reading + extraction + storing, no annotation, on one core.

    python benchmarks/ingest.py PATH/TO/gva-incidents/docs.jsonl [--limit N] [--workers 1]

Prints articles/s per core and peak RSS. When the input carries a ``quality`` field (the
GVA-incidents set does), it also prints how many ``boilerplate`` pages the extractor flags as
non-articles and how many ``ok`` pages it flags wrongly.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def limited_copy(path: Path, limit: int | None, folder: Path) -> Path:
    """The first ``limit`` lines of a JSONL file (the whole file when no limit)."""
    if limit is None:
        return path
    out = folder / path.name
    with open(path, "rb") as src, open(out, "wb") as dst:
        for i, line in enumerate(src):
            if i >= limit:
                break
            dst.write(line)
    return out


def cpu_seconds() -> float:
    """CPU time of this process and its finished workers: the honest per-core cost on a
    machine shared with other jobs, where wall time also counts waiting for a core."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def quality_labels(path: Path) -> dict[int, str]:
    labels = {}
    with open(path, encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            try:
                labels[i] = json.loads(line).get("quality")
            except json.JSONDecodeError:
                continue
    return labels


def flag_counts(store, labels: dict[int, str]) -> Counter:
    """(quality, is_article) counts for the stored articles, matched by record number."""
    counts: Counter = Counter()
    for row in store.articles():
        counts[(labels.get(row["record"]), bool(row["is_article"]))] += 1
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", type=Path, help="a JSONL/CSV/text collection, e.g. gva docs.jsonl")
    ap.add_argument("--limit", type=int, default=None, help="only the first N lines")
    ap.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    args = ap.parse_args(argv)
    if not args.path.is_file():
        print(f"benchmarks/ingest.py: no such file: {args.path}", file=sys.stderr)
        return 3
    logging.basicConfig(level=logging.ERROR)

    from storyline.pipeline import ingest
    from storyline.store import open_store

    with tempfile.TemporaryDirectory(prefix="storyline-bench-") as tmp:
        src = limited_copy(args.path, args.limit, Path(tmp))
        store = open_store(Path(tmp) / "bench.db")
        t0 = time.perf_counter()
        cpu0 = cpu_seconds()
        report = ingest(
            store, [str(src)], workers=args.workers, annotate=False, link=False, progress=False
        )
        wall = time.perf_counter() - t0
        cpu = cpu_seconds() - cpu0
        labels = quality_labels(src)
        counts = flag_counts(store, labels)
        store.close()

    n = len(report.added)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    cores = max(1, args.workers)
    print(f"input            {args.path} ({len(labels)} records)")
    print(f"stored           {n} articles, {len(report.failures)} records skipped as unreadable")
    print(f"wall time        {wall:.2f} s ({cpu:.2f} s CPU, workers included)")
    print(f"throughput       {n / wall:.0f} articles/s wall-clock with {cores} worker(s)")
    print(f"per core         {n / wall / cores:.0f} articles/s wall-clock")
    print(f"per CPU second   {n / cpu:.0f} articles/s (independent of other load)")
    print(f"peak RSS         {rss_mb:.0f} MB (main), {child_mb:.0f} MB (largest worker)")
    boiler = {k[1]: v for k, v in counts.items() if k[0] == "boilerplate"}
    ok = {k[1]: v for k, v in counts.items() if k[0] == "ok"}
    if boiler or ok:
        n_boiler = sum(boiler.values())
        print(
            f"non-articles     flagged {boiler.get(False, 0)} of {n_boiler} 'boilerplate' pages; "
            f"{ok.get(False, 0)} of {sum(ok.values())} 'ok' pages flagged too"
        )
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(main())
