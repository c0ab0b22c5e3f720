"""Cost of the entities component against bare spaCy, on one core.

    python benchmarks/entities_speed.py PATH/TO/articles.jsonl [--limit 200]

Reads texts from a JSONL file (a ``text`` field a line, e.g. a Timeline17 topic's
``articles.jsonl``), parses them once with ``nlp.pipe`` (timed: bare spaCy), then runs the
sentences + entities components over the parsed documents (timed). Prints words/s for both and
the share of bare-spaCy speed that annotation with entities keeps (the goal is >= 80%).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def read_texts(path: Path, limit: int) -> list[str]:
    texts: list[str] = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            text = (json.loads(line).get("text") or "").strip()
            if text:
                texts.append(" ".join(text.split("\n")))
            if len(texts) >= limit:
                break
    return texts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", type=Path)
    ap.add_argument("--limit", type=int, default=200)
    args = ap.parse_args()

    from storyline.annotate import Context, _sentences, entities
    from storyline.annotate.gazetteer import gazetteer
    from storyline.annotate.nlp import load_nlp
    from storyline.records import Annotations

    texts = read_texts(args.path, args.limit)
    words = sum(len(t.split()) for t in texts)
    nlp = load_nlp()
    t0 = time.perf_counter()
    gazetteer()
    t_gaz = time.perf_counter() - t0
    nlp("warm up the pipeline.")

    t0 = time.perf_counter()
    docs = list(nlp.pipe(texts, batch_size=16))
    t_spacy = time.perf_counter() - t0

    t0 = time.perf_counter()
    n_mentions = 0
    for i, doc in enumerate(docs):
        ctx = Context(str(i), doc.text, None, doc, Annotations(article_id=str(i)))
        _sentences(ctx)
        entities.run(ctx)
        n_mentions += len(ctx.ann.mentions)
    t_ent = time.perf_counter() - t0

    print(f"{len(texts)} articles, {words:,} words, {n_mentions:,} mentions")
    print(f"gazetteer load (once per process): {t_gaz:.2f} s")
    print(f"bare spaCy:          {words / t_spacy:8,.0f} words/s ({t_spacy:.1f} s)")
    print(f"sentences+entities:  {t_ent:.2f} s ({1000 * t_ent / len(texts):.1f} ms/article)")
    print(f"spaCy + entities:    {words / (t_spacy + t_ent):8,.0f} words/s")
    print(f"share of bare spaCy speed kept: {t_spacy / (t_spacy + t_ent):.1%}")


if __name__ == "__main__":
    main()
