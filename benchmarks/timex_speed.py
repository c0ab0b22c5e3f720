"""Cost of the timex component against bare spaCy, on one core.

    python benchmarks/timex_speed.py PATH/TO/file.jsonl [--limit 300]

Reads texts from a JSONL file (a ``text`` field a line, and ``dct`` or ``pub_date`` when there,
e.g. TempEval-3's ``timex_train.jsonl``), parses them once with ``nlp.pipe`` (timed: bare spaCy),
then runs the sentences + timex components over the parsed documents (timed). Prints words/s for
both and the share of bare-spaCy speed that annotation with timexes keeps (the goal is >= 80%).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def read_docs(path: Path, limit: int) -> list[tuple[str, str | None]]:
    docs: list[tuple[str, str | None]] = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            text = (rec.get("text") or "").strip()
            if text:
                docs.append((text, rec.get("dct") or rec.get("pub_date")))
            if len(docs) >= limit:
                break
    return docs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", type=Path)
    ap.add_argument("--limit", type=int, default=300)
    args = ap.parse_args()

    from storyline.annotate import Context, _sentences, timex
    from storyline.annotate.nlp import load_nlp
    from storyline.records import Annotations

    docs = read_docs(args.path, args.limit)
    words = sum(len(t.split()) for t, _ in docs)
    nlp = load_nlp()
    nlp("warm up the pipeline on Friday, March 22, 2013.")

    t0 = time.perf_counter()
    parsed = list(nlp.pipe((t for t, _ in docs), batch_size=16))
    t_spacy = time.perf_counter() - t0

    t0 = time.perf_counter()
    n = 0
    for i, (doc, (_, dct)) in enumerate(zip(parsed, docs, strict=True)):
        ctx = Context(str(i), doc.text, dct, doc, Annotations(article_id=str(i)))
        _sentences(ctx)
        timex.run(ctx)
        n += len(ctx.ann.timexes)
    t_tx = time.perf_counter() - t0

    print(f"{len(docs)} articles, {words:,} words, {n:,} timexes")
    print(f"bare spaCy:          {words / t_spacy:8,.0f} words/s ({t_spacy:.1f} s)")
    print(f"sentences+timex:     {t_tx:.2f} s ({1000 * t_tx / len(docs):.1f} ms/article)")
    print(f"spaCy + timex:       {words / (t_spacy + t_tx):8,.0f} words/s")
    print(f"share of bare spaCy speed kept: {t_spacy / (t_spacy + t_tx):.1%}")


if __name__ == "__main__":
    main()
