"""Annotation speed against bare spaCy, in the same run, on the same texts.

    python benchmarks/annotate.py ../shared/benchmarks/gva-incidents [--limit 600] [--workers 2]

Runs (1) bare ``nlp.pipe(texts, n_process=W)`` with the same model: the ceiling; (2) Storyline's
extract + annotate (sentences, entities, time expressions, quotes, event mentions) on W worker
processes, exactly as ``storyline ingest`` runs them, without the store. Prints articles/s,
words/s, the share of the ceiling (target >= 80%) and peak RSS. Not a test.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("gva", type=Path, help="the gva-incidents folder (docs.jsonl)")
    ap.add_argument("--limit", type=int, default=600)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()

    from storyline.annotate.nlp import load_nlp
    from storyline.pipeline import _init_worker, chunks, process_docs
    from storyline.records import RawDoc

    rows = []
    with open(args.gva / "docs.jsonl", encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            if d.get("quality") == "ok":
                rows.append(d)
            if len(rows) >= args.limit:
                break
    texts = [r["text"] for r in rows]
    words = sum(len(t.split()) for t in texts)
    print(f"{len(texts)} articles ('ok' quality), {words:,} words, {args.workers} processes")

    nlp = load_nlp()
    t0 = time.perf_counter()
    for _ in nlp.pipe(texts, n_process=args.workers, batch_size=16):
        pass
    bare = time.perf_counter() - t0

    raws = [
        RawDoc(source=r["url"], data=r["text"].encode(), meta={"date": r["date"]}) for r in rows
    ]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(
        args.workers, mp_context=mp.get_context("forkserver"), initializer=_init_worker
    ) as pool:
        results = []
        for out in pool.map(process_docs, list(chunks(raws, 16))):
            results.extend(out)
    ours = time.perf_counter() - t0
    n = sum(1 for r in results if isinstance(r, tuple))

    print(f"\n{'run':32} {'seconds':>8} {'articles/s':>11} {'words/s':>9}")
    print(
        f"{'bare spaCy nlp.pipe (ceiling)':32} {bare:8.1f} {len(texts) / bare:11.1f} {words / bare:9.0f}"
    )
    print(f"{'storyline extract + annotate':32} {ours:8.1f} {n / ours:11.1f} {words / ours:9.0f}")
    print(f"\nshare of the ceiling: {100 * bare / ours:.0f}% (target >= 80%)")
    print(f"peak RSS (largest process): {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
