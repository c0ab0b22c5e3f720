"""``storyline eval events``: event triggers on ECB+, status on a hand-labelled set.

Trigger recall: a gold ECB+ event mention (``ACTION_*`` / ``NEG_ACTION_*`` in a ``gold_sentence``)
counts as found when one of our triggers overlaps its words in that sentence. ECB+ marks only
events in cross-document chains, so "overlaps a gold mention" is a lower bound on precision; the
real precision is estimated on a random sample of our triggers labelled by hand
(``--sample`` prints one, ``--precision-labels`` scores the labels). A plain baseline (every verb,
plus a few event nouns) runs side by side so the figures have context.

Status accuracy: sentences labelled happened / planned / denied / hypothetical by hand, against
the baseline "will / going to / plans -> planned, else happened".
"""

from __future__ import annotations

import json
import logging
import random
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from ..errors import InputError

log = logging.getLogger(__name__)

BASELINE_NOUNS = {
    "attack", "shooting", "killing", "murder", "death", "earthquake", "quake", "fire", "crash",
    "arrest", "meeting", "visit", "talks", "war", "election", "deal", "announcement", "explosion",
}  # fmt: skip
STATUSES = ("happened", "planned", "denied", "hypothetical")
_BASELINE_PLANNED = re.compile(r"\b(will|'ll|going to|plans?|planned|planning)\b", re.I)


@dataclass
class GoldSentence:
    doc: str
    sentence: int  # XML sentence number
    text: str
    mentions: list[tuple[str, str]] = field(default_factory=list)  # (words, type)


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    try:
        with path.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise InputError(f"{path}:{n}: not JSON ({exc.msg})") from exc
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc


def load_ecbplus(folder: Path) -> list[GoldSentence]:
    """Gold sentences with their event mentions, in corpus order."""
    docs_path, ment_path = folder / "docs.jsonl", folder / "mentions.jsonl"
    for p in (docs_path, ment_path):
        if not p.is_file():
            raise InputError(f"{p} not found: pass the ECB+ folder (docs.jsonl, mentions.jsonl)")
    docs = {d["id"]: d for d in _read_jsonl(docs_path)}
    sents: dict[tuple[str, int], GoldSentence] = {}
    for m in _read_jsonl(ment_path):
        if not m.get("gold_sentence") or not (
            m["type"].startswith("ACTION_") or m["type"].startswith("NEG_ACTION_")
        ):
            continue
        doc = docs.get(m["doc"])
        if doc is None:
            continue
        key = (m["doc"], m["sentence"])
        if key not in sents:
            lines = doc["text"].split("\n")
            line = m["sentence"] - int(doc.get("first_sentence", 0))
            if not 0 <= line < len(lines):
                continue
            sents[key] = GoldSentence(m["doc"], m["sentence"], lines[line])
        sents[key].mentions.append((m["tokens"], m["type"]))
    return sorted(sents.values(), key=lambda s: (s.doc, s.sentence))


def _occurrences(text: str, words: str) -> list[tuple[int, int]]:
    """Character spans of a gold mention in its sentence: the phrase, else each of its words."""
    spans = [(m.start(), m.end()) for m in re.finditer(re.escape(words), text)]
    if spans:
        return spans
    out: list[tuple[int, int]] = []
    for w in words.split():
        out += [(m.start(), m.end()) for m in re.finditer(r"\b" + re.escape(w) + r"\b", text)]
    return out


def _overlaps(spans: list[tuple[int, int]], preds: list[tuple[int, int]]) -> bool:
    return any(s < pe and ps < e for s, e in spans for ps, pe in preds)


def _ours(doc: Any) -> list[tuple[int, int, str, str | None]]:
    from ..annotate.events import find_triggers

    out = []
    for i, (etype, mode) in sorted(find_triggers(doc).items()):
        t = doc[i]
        out.append((t.idx, t.idx + len(t.text), etype, mode))
    return out


def _baseline(doc: Any) -> list[tuple[int, int, str, str | None]]:
    return [
        (t.idx, t.idx + len(t.text), "ANY", None)
        for t in doc
        if t.pos_ == "VERB" or (t.pos_ == "NOUN" and t.lemma_.lower() in BASELINE_NOUNS)
    ]


@dataclass
class TriggerScore:
    name: str
    gold: int = 0
    found: int = 0
    gold_occ: int = 0  # ACTION_OCCURRENCE only (no reporting, state, aspectual)
    found_occ: int = 0
    predicted: int = 0
    pred_on_gold: int = 0

    def row(self) -> str:
        rec = self.found / self.gold if self.gold else 0.0
        rec_occ = self.found_occ / self.gold_occ if self.gold_occ else 0.0
        lb = self.pred_on_gold / self.predicted if self.predicted else 0.0
        return f"{self.name:<28} {rec:7.3f} {rec_occ:9.3f} {self.predicted:9d} {lb:12.3f}"


def score_triggers(
    sents: list[GoldSentence], preds: Iterable[list[tuple[int, int, str, str | None]]], name: str
) -> TriggerScore:
    sc = TriggerScore(name)
    for s, pred in zip(sents, preds, strict=True):
        spans = [(a, b) for a, b, _t, _m in pred]
        sc.predicted += len(pred)
        gold_spans = []
        for words, gtype in s.mentions:
            occ = _occurrences(s.text, words)
            gold_spans += occ
            hit = _overlaps(occ, spans)
            sc.gold += 1
            sc.found += hit
            if gtype == "ACTION_OCCURRENCE":
                sc.gold_occ += 1
                sc.found_occ += hit
        sc.pred_on_gold += sum(1 for p in spans if _overlaps(gold_spans, [p]))
    return sc


def _sample(
    sents: list[GoldSentence], ours: list[list[tuple[int, int, str, str | None]]], n: int, seed: int
) -> list[dict[str, Any]]:
    pool = [
        {
            "doc": s.doc,
            "sentence": s.sentence,
            "start": a,
            "end": b,
            "trigger": s.text[a:b],
            "type": t,
            "mode": m,
            "text": s.text,
        }
        for s, pred in zip(sents, ours, strict=True)
        for a, b, t, m in pred
    ]
    rng = random.Random(seed)
    return rng.sample(pool, min(n, len(pool)))


def score_precision_labels(
    labels: list[dict[str, Any]], current: list[dict[str, Any]]
) -> dict[str, Any]:
    """Precision from hand labels (``is_event``, ``type_ok``) on the still-predicted items."""
    now = {(d["doc"], d["sentence"], d["start"], d["end"]) for d in current}
    kept = [x for x in labels if (x["doc"], x["sentence"], x["start"], x["end"]) in now]
    n = len(kept)
    ev = sum(bool(x.get("is_event")) for x in kept)
    typed = sum(bool(x.get("is_event")) and bool(x.get("type_ok")) for x in kept)
    return {
        "labelled": len(labels),
        "still_predicted": n,
        "precision_event": ev / n if n else 0.0,
        "precision_typed": typed / n if n else 0.0,
    }


# ---------------------------------------------------------------- status


def load_status_gold(folder: Path) -> list[dict[str, Any]]:
    path = folder / "sentences.jsonl" if folder.is_dir() else folder
    if not path.is_file():
        raise InputError(f"{path} not found: pass the status gold folder (sentences.jsonl)")
    rows = list(_read_jsonl(path))
    for r in rows:
        if r.get("status") not in STATUSES or r.get("trigger") not in r.get("text", ""):
            raise InputError(f"{path}: bad row {r.get('id')}: needs text, trigger in text, status")
    return rows


def baseline_status(text: str) -> str:
    return "planned" if _BASELINE_PLANNED.search(text) else "happened"


def predict_status(nlp: Any, rows: list[dict[str, Any]]) -> list[str]:
    """Our status for each row's trigger word (found by its character offset)."""
    from ..annotate.events import status_of

    out = []
    for row, doc in zip(rows, nlp.pipe(r["text"] for r in rows), strict=True):
        start = int(row.get("start", row["text"].index(row["trigger"])))
        tok = next((t for t in doc if t.idx <= start < t.idx + len(t.text)), None)
        out.append(status_of(tok) if tok is not None else "happened")
    return out


def _confusion(gold: list[str], pred: list[str]) -> str:
    c = Counter(zip(gold, pred, strict=True))
    head = "gold \\ pred".ljust(14) + "".join(f"{s:>13}" for s in STATUSES)
    lines = [head]
    for g in STATUSES:
        lines.append(g.ljust(14) + "".join(f"{c[(g, p)]:>13}" for p in STATUSES))
    return "\n".join(lines)


def _accuracy(gold: list[str], pred: list[str]) -> float:
    return sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold) if gold else 0.0


# ---------------------------------------------------------------- command


@click.command(name="events")
@click.option(
    "--ecbplus",
    "ecb",
    type=click.Path(path_type=Path),
    help="ECB+ folder (docs.jsonl, mentions.jsonl): trigger recall.",
)
@click.option(
    "--status-gold",
    type=click.Path(path_type=Path),
    help="Folder (or file) with sentences.jsonl labelled happened/planned/denied/hypothetical.",
)
@click.option(
    "--precision-labels",
    type=click.Path(path_type=Path),
    help="JSONL of hand-labelled sampled triggers (is_event, type_ok) to score precision.",
)
@click.option("--sample", type=int, default=50, show_default=True, help="Sample size.")
@click.option("--seed", type=int, default=13, show_default=True)
@click.option(
    "--print-sample", is_flag=True, help="Print the random sample of our triggers as JSONL."
)
@click.option("--limit", type=int, default=None, help="Only the first N gold sentences.")
def command(
    ecb: Path | None,
    status_gold: Path | None,
    precision_labels: Path | None,
    sample: int,
    seed: int,
    print_sample: bool,
    limit: int | None,
) -> None:
    """Event triggers (ECB+ recall, hand-checked precision) and status accuracy.

    storyline eval events --ecbplus ../shared/benchmarks/ecbplus --status-gold
    benchmarks/gold/status --precision-labels benchmarks/gold/events/precision_sample.jsonl
    """
    if ecb is None and status_gold is None:
        raise click.UsageError("give --ecbplus and/or --status-gold")
    from ..annotate.nlp import load_nlp

    nlp = load_nlp()
    if ecb is not None:
        sents = load_ecbplus(ecb)
        if limit:
            sents = sents[:limit]
        docs = list(nlp.pipe((s.text for s in sents), batch_size=64))
        ours = [_ours(d) for d in docs]
        base = [_baseline(d) for d in docs]
        n_gold = sum(len(s.mentions) for s in sents)
        click.echo(f"ECB+ trigger detection: {len(sents)} gold sentences, {n_gold} event mentions")
        click.echo(
            f"{'system':<28} {'recall':>7} {'rec(occ)':>9} {'predicted':>9} {'on-gold(LB)':>12}"
        )
        for sc in (
            score_triggers(sents, ours, "storyline (PLOVER lexicon)"),
            score_triggers(sents, base, "baseline (verbs + nouns)"),
        ):
            click.echo(sc.row())
        click.echo(
            "recall: gold mention overlapped by a trigger; rec(occ): ACTION_OCCURRENCE only; "
            "on-gold(LB): share of triggers on a gold mention, a lower bound on precision"
        )
        types = Counter(t for pred in ours for _a, _b, t, _m in pred)
        click.echo("our types: " + ", ".join(f"{t} {n}" for t, n in types.most_common()))
        drawn = _sample(sents, ours, sample, seed)
        if print_sample:
            for d in drawn:
                click.echo(json.dumps(d, ensure_ascii=False))
        if precision_labels is not None:
            labels = list(_read_jsonl(precision_labels))
            res = score_precision_labels(labels, drawn)
            click.echo(
                f"hand-checked precision (seed {seed}, {res['still_predicted']} of "
                f"{res['labelled']} labelled triggers still predicted): "
                f"event {res['precision_event']:.3f}, event+type {res['precision_typed']:.3f}"
            )
    if status_gold is not None:
        rows = load_status_gold(status_gold)
        gold = [r["status"] for r in rows]
        ours_s = predict_status(nlp, rows)
        base_s = [baseline_status(r["text"]) for r in rows]
        click.echo(f"\nStatus on {len(rows)} hand-labelled sentences ({dict(Counter(gold))})")
        splits = sorted({r.get("split", "all") for r in rows})
        for split in [*splits, "all"] if len(splits) > 1 else splits:
            keep = [i for i, r in enumerate(rows) if split == "all" or r.get("split") == split]
            g = [gold[i] for i in keep]
            click.echo(
                f"{split:<5} n={len(keep):<4} storyline accuracy "
                f"{_accuracy(g, [ours_s[i] for i in keep]):.3f}   baseline "
                f"{_accuracy(g, [base_s[i] for i in keep]):.3f} (will/going to/plans)"
            )
        click.echo("storyline confusion:\n" + _confusion(gold, ours_s))
        click.echo("baseline confusion:\n" + _confusion(gold, base_s))
