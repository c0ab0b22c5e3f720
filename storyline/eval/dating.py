"""``storyline eval dating DATA``: dating undated articles from what they report.

Articles whose true publication date we know are ingested with their date hidden, into a store
that already holds other articles of the same events with their dates, through the real
pipeline (extract, annotate, link). We count how many get a date within 1 day and within 7
days of the truth, how many stay unknown, and how many are dated wrongly (more than 7 days off),
split by how the date was found (the extractor reading it in the text, or the link stage
inferring it).

- ``ecbplus``: the 389 ECB+ ``ecbplus`` docs with a date/byline line in their first four lines;
  that line is the truth and is removed. Within each topic, alternate docs are hidden (fold 0)
  or kept dated; ``--folds 2`` also runs the swap.
- ``gva-incidents``: incidents with 2+ ``ok`` articles, a seeded sample; in each, one article's
  date is hidden, the others keep theirs.
"""

from __future__ import annotations

import json
import logging
import random
import re
import tempfile
import time
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import click

from ..errors import InputError

log = logging.getLogger(__name__)


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise InputError(f"{path} not found: give the benchmark folder (with docs.jsonl)")
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def date_line(lines: list[str]) -> tuple[int, str] | None:
    """(line number, ISO date) of a date/byline line among the first four lines, if any."""
    from ..annotate.timex import find_timexes

    for i, line in enumerate(lines[:4]):
        if len(line) > 90:
            continue
        try:
            found = find_timexes(line)
        except Exception:
            continue
        for f in found:
            if f.value and re.match(r"^\d{4}-\d{2}-\d{2}$", f.value) and not f.sym:
                return i, f.value
    return None


def ecb_items(data: Path, fold: int) -> tuple[list[dict], list[dict]]:
    """(dated, hidden) documents: alternate date-lined ecbplus docs of each topic."""
    by_topic: dict[str, list[dict]] = defaultdict(list)
    for d in _jsonl(data / "docs.jsonl"):
        if not d["id"].endswith("ecbplus"):
            continue
        lines = d["text"].split("\n")
        found = date_line(lines)
        if found is None:
            continue
        i, truth = found
        text = "\n".join(lines[:i] + lines[i + 1 :])
        by_topic[d["topic"]].append({"id": d["id"], "text": text, "truth": truth, "url": d["url"]})
    dated, hidden = [], []
    for docs in by_topic.values():
        for k, d in enumerate(docs):
            (hidden if k % 2 == fold else dated).append(d)
    return dated, hidden


def gva_items(data: Path, n: int, seed: int) -> tuple[list[dict], list[dict]]:
    by_event: dict[str, list[dict]] = defaultdict(list)
    for d in _jsonl(data / "docs.jsonl"):
        if d.get("quality") == "ok" and d.get("text"):
            by_event[d["event"]].append(d)
    events = sorted(e for e, docs in by_event.items() if len(docs) >= 2)
    rng = random.Random(seed)
    chosen = rng.sample(events, min(n, len(events)))
    dated, hidden = [], []
    for e in chosen:
        docs = by_event[e]
        pick = rng.randrange(len(docs))
        for k, d in enumerate(docs):
            item = {
                "id": d["id"],
                "text": d["text"],
                "title": d.get("title"),
                "truth": d["date"],
                "url": d.get("url"),
                "outlet": d.get("outlet"),
            }
            (hidden if k == pick else dated).append(item)
    return dated, hidden


def _write(path: Path, items: list[dict], with_date: bool) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for it in items:
            row = {"text": it["text"], "title": it.get("title"), "outlet": it.get("outlet")}
            if with_date:
                row["date"] = it["truth"]
            fh.write(json.dumps(row) + "\n")


def run_fold(dated: list[dict], hidden: list[dict], workers: int | None) -> list[dict]:
    """Ingest the dated docs, then the hidden ones; what each hidden doc's date became."""
    from ..pipeline import ingest
    from ..store import open_store

    with tempfile.TemporaryDirectory(prefix="storyline-eval-dating-") as tmp:
        tdir = Path(tmp)
        _write(tdir / "dated.jsonl", dated, True)
        _write(tdir / "hidden.jsonl", hidden, False)
        store = open_store(tdir / "eval.db")
        ingest(store, [str(tdir / "dated.jsonl")], workers=workers, progress=False)
        ingest(store, [str(tdir / "hidden.jsonl")], workers=workers, progress=False)
        got = {
            r["record"]: r
            for r in store.articles()
            if r["source"].endswith("hidden.jsonl") and r["record"] is not None
        }
        store.close()
    out = []
    for k, it in enumerate(hidden):
        r = got.get(k)
        out.append(
            {
                "id": it["id"],
                "truth": it["truth"],
                "date": r["pub_date"] if r else None,
                "source": r["pub_date_source"] if r else "missing",
                "evidence": r["pub_date_evidence"] if r else None,
            }
        )
    return out


def grade(rows: list[dict]) -> dict[str, Any]:
    """Shares within 1 / 7 days, unknown and wrong (> 7 days), overall and by date source."""
    c: Counter[str] = Counter()
    by_source: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        if not r["date"] or len(r["date"]) < 10:
            cat = "unknown"
        else:
            diff = abs((date.fromisoformat(r["date"]) - date.fromisoformat(r["truth"])).days)
            cat = "within_1" if diff <= 1 else ("within_7" if diff <= 7 else "wrong")
        r["grade"] = cat
        c[cat] += 1
        by_source[r["source"]][cat] += 1
    n = len(rows) or 1
    return {
        "n": len(rows),
        "within_1": c["within_1"] / n,
        "within_7": (c["within_1"] + c["within_7"]) / n,
        "unknown": c["unknown"] / n,
        "wrong": c["wrong"] / n,
        "by_source": {k: dict(v) for k, v in by_source.items()},
    }


def reason_kind(evidence: str | None) -> str:
    """An unknown's reason without its particulars (quoted times, dates, ids), for counting."""
    if not evidence:
        return "no reason recorded"
    text = re.sub(r"'[^']*'", "'…'", evidence)
    text = re.sub(r"\b[0-9a-f]{16}\b|\d{4}-\d\d-\d\d", "…", text)
    return re.sub(r"^conflicting evidence: .*", "conflicting evidence", text)[:120]


@click.command(name="dating")
@click.argument("data", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--folds", type=click.IntRange(1, 2), default=1, show_default=True)
@click.option(
    "--gva-incidents", "n_gva", default=60, show_default=True, help="Incidents to sample."
)
@click.option("--seed", default=0, show_default=True, help="Seed of the gva sample.")
@click.option("--workers", type=click.IntRange(1, 64), help="Worker processes for ingest.")
@click.option("--json", "as_json", is_flag=True)
def command(
    data: tuple[Path, ...], folds: int, n_gva: int, seed: int, workers: int | None, as_json: bool
) -> None:
    """Date articles with their dates hidden (ECB+ ecbplus, gva-incidents folders)."""
    results = {}
    for folder in data:
        if not (folder / "docs.jsonl").is_file():
            raise InputError(f"{folder}: no docs.jsonl (give the ecbplus or gva-incidents folder)")
        t0 = time.time()
        rows: list[dict] = []
        if "ecb" in folder.name.lower():
            for fold in range(folds):
                dated, hidden = ecb_items(folder, fold)
                rows += run_fold(dated, hidden, workers)
            name = "ecbplus"
        else:
            dated, hidden = gva_items(folder, n_gva, seed)
            rows = run_fold(dated, hidden, workers)
            name = f"gva-incidents (seed {seed}, {n_gva} incidents)"
        res = grade(rows)
        res["seconds"] = round(time.time() - t0)
        res["examples"] = [r for r in rows if r["grade"] in ("wrong", "within_1")][:5]
        res["unknown_reasons"] = Counter(
            reason_kind(r["evidence"]) for r in rows if r["grade"] == "unknown"
        )
        results[name] = res
        if not as_json:
            click.echo(
                f"{name}: {res['n']} hidden dates; within 1 day {res['within_1']:.1%}, "
                f"within 7 days {res['within_7']:.1%}, unknown {res['unknown']:.1%}, "
                f"wrong (>7 days) {res['wrong']:.1%}  [{res['seconds']}s]"
            )
            click.echo(f"  by how the date was found: {res['by_source']}")
            for reason, n in res["unknown_reasons"].most_common(6):
                click.echo(f"  unknown, {n}x: {reason}")
            for r in rows:
                if r["grade"] == "wrong":
                    click.echo(
                        f"  wrong: {r['id']} truth {r['truth']} got {r['date']}: {r['evidence']}"
                    )
    if as_json:
        click.echo(json.dumps(results, indent=2, default=str))
