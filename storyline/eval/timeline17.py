"""``storyline eval timeline17 DATA``: timeline summarisation on Timeline17 (19 tasks).

Protocol of the news-tls paper (Ghalandari & Ifrim 2020, section 5.2), as the benchmark's README
gives it: per task, drop articles published outside the reference timeline's first-last date;
produce as many dates as the reference and, per date, its average number of sentences; only
sentences with a topic keyphrase may be used. Metrics with tilse 0.2.1: AR-1 F and AR-2 F
(date-aligned ROUGE, "align+ m:1") and Date F1, averaged over tasks; concatenated ROUGE too.

tilse is installed with ``pip install --no-deps tilse==0.2.1`` plus ``nltk``; its Perl ROUGE
needs Debian's ``libxml-parser-perl`` (``--rouge reimpl`` uses tilse's Python ROUGE instead,
which scores about 0.003-0.007 lower on AR-1).
"""

from __future__ import annotations

import json
import logging
import math
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from ..errors import InputError, StorylineError
from ..tell.tls import Doc, build_timeline, timex_dater

log = logging.getLogger(__name__)

PEERS = {  # news-tls paper, Table 4 (T17)
    "DATEWISE": (0.120, 0.035, 0.544),
    "MARTSCHAT2018": (0.105, 0.030, 0.544),
    "PUBCOUNT": (0.105, 0.027, 0.481),
    "CLUST": (0.082, 0.020, 0.407),
}


def read_topic(folder: Path) -> tuple[list[dict[str, Any]], list[list], list[str]]:
    def jsonl(p: Path) -> list[Any]:
        if not p.is_file():
            raise InputError(f"{p} not found: give the timeline17 folder (one folder per topic)")
        with p.open(encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]

    arts = jsonl(folder / "articles.jsonl")
    tls = jsonl(folder / "timelines.jsonl")
    kw_path = folder / "keywords.json"
    keywords = json.loads(kw_path.read_text()) if kw_path.is_file() else []
    return arts, tls, keywords


def prepare(arts: list[dict[str, Any]]) -> list[Doc]:
    """Sentences and their day references, once per topic (shared by its tasks)."""
    docs = []
    for a in arts:
        sents = [s.strip() for s in (a.get("text") or "").split("\n") if s.strip()]
        if not sents:
            continue
        pub = date.fromisoformat(a["time"][:10])
        doc = Doc(a["id"], pub, sents)
        doc.refs = timex_dater(sents, pub)
        docs.append(doc)
    return docs


def _tilse_timeline(tl: dict[date, list[str]]) -> Any:
    from tilse.data.timelines import Timeline

    return Timeline({datetime(d.year, d.month, d.day).date(): s for d, s in tl.items()})


def score(pred: dict[date, list[str]], ref: dict[date, list[str]], rouge: str) -> dict[str, float]:
    """AR-1 F, AR-2 F (align+ m:1), concatenated ROUGE-1/2 F and Date F1 with tilse."""
    try:
        from tilse.data.timelines import GroundTruth
        from tilse.evaluation import rouge as tilse_rouge
    except ImportError as exc:
        raise StorylineError(
            "tilse is needed: pip install --no-deps tilse==0.2.1 && pip install nltk"
        ) from exc
    evaluator = tilse_rouge.TimelineRougeEvaluator(
        measures={"rouge_1", "rouge_2"}, rouge_computation=rouge
    )
    p, g = _tilse_timeline(pred), GroundTruth([_tilse_timeline(ref)])
    ar = evaluator.evaluate_align_date_content_costs_many_to_one(p, g)
    concat = evaluator.evaluate_concat(p, g)
    shared = set(pred) & set(ref)
    prec = len(shared) / len(pred) if pred else 0.0
    rec = len(shared) / len(ref) if ref else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {
        "ar1_f": ar["rouge_1"]["f_score"],
        "ar2_f": ar["rouge_2"]["f_score"],
        "concat_r1_f": concat["rouge_1"]["f_score"],
        "concat_r2_f": concat["rouge_2"]["f_score"],
        "date_f1": f1,
    }


def run_task(docs: list[Doc], ref_raw: list, keywords: list[str], rouge: str) -> dict[str, Any]:
    ref = {date.fromisoformat(d[:10]): sents for d, sents in ref_raw}
    start, end = min(ref), max(ref)
    inside = [d for d in docs if start <= d.pub_date <= end]
    n_dates = len(ref)
    per_date = max(1, round(sum(len(s) for s in ref.values()) / n_dates))
    pred = build_timeline(
        inside, n_dates=n_dates, per_date=per_date, keywords=keywords, start=start, end=end
    )
    out = score(pred, ref, rouge)
    out.update(n_dates=n_dates, per_date=per_date, n_docs=len(inside))
    return out


@click.command(name="timeline17")
@click.argument("data", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--rouge",
    type=click.Choice(["original", "reimpl"]),
    default="original",
    show_default=True,
    help="tilse's Perl ROUGE-1.5.5 (original) or its Python reimplementation.",
)
@click.option("--topic", "topics", multiple=True, help="Only these topics (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def command(data: Path, rouge: str, topics: tuple[str, ...], as_json: bool) -> None:
    """Timeline summarisation on Timeline17: AR-1 F, AR-2 F, Date F1 vs published systems."""
    if not data.is_dir():
        raise InputError(f"{data} is not a folder: give the timeline17 benchmark folder")
    folders = sorted(p for p in data.iterdir() if (p / "timelines.jsonl").is_file())
    if topics:
        folders = [p for p in folders if p.name in topics]
    if not folders:
        raise InputError(f"no topics with timelines.jsonl under {data}")
    rows = []
    t0 = time.time()
    for folder in folders:
        arts, tls, keywords = read_topic(folder)
        docs = prepare(arts)
        for i, ref in enumerate(tls):
            r = run_task(docs, ref, keywords, rouge)
            r["task"] = f"{folder.name}/{i}"
            rows.append(r)
            log.info("%s: %s", r["task"], r)
            if not as_json:
                click.echo(
                    f"  {r['task']:<10} dates {r['n_dates']:>3} x {r['per_date']}  "
                    f"AR-1 {r['ar1_f']:.3f}  AR-2 {r['ar2_f']:.3f}  Date F1 {r['date_f1']:.3f}",
                    err=True,
                )
    keys = ["ar1_f", "ar2_f", "date_f1", "concat_r1_f", "concat_r2_f"]
    mean = {k: sum(r[k] for r in rows) / len(rows) for k in keys}
    if any(math.isnan(v) for v in mean.values()):
        raise StorylineError("a score came back NaN; check the tilse installation")
    if as_json:
        click.echo(json.dumps({"tasks": rows, "mean": mean, "rouge": rouge}, indent=2))
        return
    click.echo(f"Timeline17, {len(rows)} tasks, tilse ROUGE={rouge}, {time.time() - t0:.0f}s")
    click.echo(f"{'system':<16} {'AR-1 F':>7} {'AR-2 F':>7} {'Date F1':>8}")
    click.echo(
        f"{'storyline':<16} {mean['ar1_f']:7.3f} {mean['ar2_f']:7.3f} {mean['date_f1']:8.3f}"
    )
    for name, (a1, a2, df) in PEERS.items():
        click.echo(f"{name:<16} {a1:7.3f} {a2:7.3f} {df:8.3f}  (published)")
    click.echo(
        f"concatenated ROUGE-1 F {mean['concat_r1_f']:.3f}, ROUGE-2 F {mean['concat_r2_f']:.3f}"
    )
