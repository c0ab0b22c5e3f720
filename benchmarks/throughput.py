"""End-to-end throughput: read -> extract -> annotate -> link -> store, local engine vs Ray.

    python benchmarks/throughput.py ../shared/benchmarks/gva-incidents [--timeline17 DIR]
        [--limit 1000] [--workers 2] [--no-ray] [--rounds N]

Prints articles/s and words/s for: bare spaCy ``nlp.pipe(n_process=W)`` on the same texts (the
ceiling), the local engine (process pool), and the Ray engine (Ray Data map_batches on a local
Ray with the same number of CPUs), plus Ray's overhead over the local engine and peak RSS.
Not a test: figures depend on the machine. Targets (issue 7): >= 15 articles/s end-to-end on
2 cores on gva-incidents, >= 70% of the spaCy ceiling, Ray overhead <= 20%.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from proctree import tree_cpu  # benchmarks/proctree.py


def peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024


def load_texts(gva: Path, t17: Path | None, limit: int) -> list[dict]:
    rows = []
    with open(gva / "docs.jsonl", encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            if d.get("quality") == "ok":
                rows.append(
                    {"text": d["text"], "title": d["title"], "date": d["date"], "url": d["url"]}
                )
    if t17 is not None:
        for topic in sorted(p for p in t17.iterdir() if p.is_dir()):
            with open(topic / "articles.jsonl", encoding="utf-8") as fh:
                for line in fh:
                    d = json.loads(line)
                    if d.get("text", "").strip():
                        rows.append(
                            {"text": d["text"], "date": d["time"], "outlet": d.get("outlet")}
                        )
    # gva first, then Timeline17: --limit keeps a prefix of that order
    return rows[:limit]


class CpuMeter:
    """CPU seconds a run costs, in this process and every process it starts (the pool's
    workers live under a forkserver: getrusage never sees them), sampled twice a second:
    the cost of a run whatever else the machine is doing."""

    def __enter__(self) -> CpuMeter:
        self.seen = tree_cpu(os.getpid())
        self.start = dict(self.seen)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _take(self) -> None:  # a process's last reading stands once it has exited
        for pid, cpu in tree_cpu(os.getpid()).items():
            self.seen[pid] = max(cpu, self.seen.get(pid, 0.0))

    def _sample(self) -> None:
        while not self.stop.wait(0.5):
            self._take()

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self._take()
        self.seconds = sum(c - self.start.get(p, 0.0) for p, c in self.seen.items())


def bare_spacy(texts: list[str], workers: int) -> float:
    """The stock model as its wheel ships it: Storyline's own pipeline finds the attribute
    ruler's matches faster (same output), which must not raise the ceiling it is measured by."""
    from storyline.annotate.nlp import load_stock_nlp

    nlp = load_stock_nlp()
    t0 = time.perf_counter()
    for _ in nlp.pipe(texts, n_process=workers, batch_size=16):
        pass
    return time.perf_counter() - t0


def run_engine(path: Path, engine: str, workers: int) -> tuple[float, int]:
    from storyline.pipeline import ingest
    from storyline.store import open_store

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "bench.db")
        t0 = time.perf_counter()
        report = ingest(store, [str(path)], engine=engine, workers=workers, progress=False)
        elapsed = time.perf_counter() - t0
        store.close()
    return elapsed, len(report.added)


def one_round(data: Path, texts: list[str], args: argparse.Namespace) -> list[tuple]:
    """Ceiling, local, Ray, back to back: each engine is compared with the ceiling measured
    minutes before it (this machine's speed drifts through the hour)."""
    results = []
    with CpuMeter() as cpu:
        ceiling = bare_spacy(texts, args.workers)
    results.append(("bare spaCy nlp.pipe (ceiling)", ceiling, len(texts), cpu.seconds))
    print(f"  spaCy ceiling: {len(texts) / ceiling:.1f} articles/s", flush=True)
    with CpuMeter() as cpu:
        local_s, n_local = run_engine(data, "local", args.workers)
    results.append(("storyline, local engine", local_s, n_local, cpu.seconds))
    print(f"  local: {n_local / local_s:.1f} articles/s", flush=True)
    if not args.no_ray:
        try:
            ray_s, n_ray = run_engine(data, "ray", args.workers)
            results.append(("storyline, Ray engine", ray_s, n_ray, None))  # not our children
        except Exception as exc:  # report, don't hide, a missing or broken Ray
            print(f"  Ray engine failed: {exc}", file=sys.stderr)
    return results


def print_round(results: list[tuple], n_texts: int, words: int, workers: int) -> None:
    print()
    print(
        f"{'run':34} {'seconds':>8} {'articles/s':>11} {'words/s':>9} {'% of ceiling':>13}"
        f" {'CPU ms/article':>15}"
    )
    base = n_texts / results[0][1]
    for name, secs, n, cpu in results:
        rate = n / secs
        per = f"{1000 * cpu / n:15.0f}" if cpu is not None else f"{'-':>15}"
        print(
            f"{name:34} {secs:8.1f} {rate:11.1f} {words * n / n_texts / secs:9.0f}"
            f" {100 * rate / base:12.0f}% {per}"
        )
    print(
        f"(CPU ms/article: all processes; on {workers} idle cores the best rate is "
        f"{workers} x 1000 / that)"
    )
    if len(results) == 3:
        print(f"Ray overhead over local: {100 * (results[2][1] / results[1][1] - 1):+.0f}%")


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("gva", type=Path, help="the gva-incidents folder (docs.jsonl)")
    ap.add_argument("--timeline17", type=Path, help="also mix in Timeline17 articles")
    ap.add_argument("--limit", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-ray", action="store_true")
    ap.add_argument(
        "--rounds", type=int, default=1, help="repeat ceiling + engines this many times"
    )
    args = ap.parse_args()

    rows = load_texts(args.gva, args.timeline17, args.limit)
    texts = [r["text"] for r in rows]
    words = sum(len(t.split()) for t in texts)
    print(f"{len(rows)} articles, {words:,} words, {args.workers} workers", flush=True)
    rounds = []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "input.jsonl"
        with open(data, "w", encoding="utf-8") as fh:
            for r in rows:
                fh.write(json.dumps(r) + "\n")
        for i in range(args.rounds):
            if args.rounds > 1:
                print(f"round {i + 1} of {args.rounds}", flush=True)
            rounds.append(one_round(data, texts, args))
    for results in rounds:
        print_round(results, len(texts), words, args.workers)
    if len(rounds) > 1:
        print("\nmedian over rounds (each against its own round's ceiling):")
        for j, (name, *_rest) in enumerate(rounds[0][1:], start=1):
            ran = [r for r in rounds if len(r) > j]
            rates = [r[j][2] / r[j][1] for r in ran]
            shares = [100 * rate * r[0][1] / len(texts) for rate, r in zip(rates, ran, strict=True)]
            print(
                f"  {name:32} {statistics.median(rates):5.1f} articles/s,"
                f" {statistics.median(shares):3.0f}% of the ceiling"
            )
    print(f"peak RSS (largest process): {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
