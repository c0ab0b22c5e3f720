"""Cost of the events component relative to the bare spaCy parse it runs on.

    python benchmarks/events_speed.py /work/shared/benchmarks/gva-incidents/docs.jsonl --docs 300

Prints words/s of the parse alone, the time the events component adds (with entity mentions
from spaCy's NER so actor look-ups do real work), and the ratio. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import json
import time

from storyline.annotate import Context, _sentences
from storyline.annotate import events as ev
from storyline.annotate.nlp import load_nlp
from storyline.records import Annotations, Mention


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("docs", help="a JSONL file with a 'text' field per line")
    ap.add_argument("--docs", dest="n", type=int, default=300)
    args = ap.parse_args()
    texts = []
    with open(args.docs, encoding="utf-8") as fh:
        for line in fh:
            t = json.loads(line).get("text") or ""
            if len(t) > 200:
                texts.append(t[:20000])
            if len(texts) >= args.n:
                break
    nlp = load_nlp()
    t0 = time.perf_counter()
    docs = list(nlp.pipe(texts, batch_size=16))
    parse = time.perf_counter() - t0
    ctxs = []
    for i, doc in enumerate(docs):
        ctx = Context(str(i), doc.text, "2016-01-01", doc, Annotations(article_id=str(i)))
        _sentences(ctx)
        ctx.ann.mentions = [
            Mention(e.start_char, e.end_char, e.text, e.label_, 0, canonical=e.text)
            for e in doc.ents
        ]
        ctxs.append(ctx)
    t0 = time.perf_counter()
    for ctx in ctxs:
        ev.run(ctx)
    events = time.perf_counter() - t0
    words = sum(len(t.split()) for t in texts)
    n_ev = sum(len(c.ann.events) for c in ctxs)
    print(f"{len(texts)} docs, {words} words, {n_ev} event mentions")
    print(f"spaCy parse: {parse:.2f} s ({words / parse:,.0f} words/s)")
    print(f"events component: {events:.3f} s ({100 * events / parse:.1f}% of the parse)")
    print(f"parse + events runs at {100 * parse / (parse + events):.1f}% of bare spaCy speed")


if __name__ == "__main__":
    main()
