"""Entity mentions: people, organisations, places, nationalities (first cut: spaCy NER)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..records import Mention

if TYPE_CHECKING:
    from . import Context

LABELS = {"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC"}


def run(ctx: Context) -> None:
    sent_of = {s.start: i for i, s in enumerate(ctx.doc.sents)}
    starts = sorted(sent_of)
    import bisect

    for ent in ctx.doc.ents:
        if ent.label_ not in LABELS:
            continue
        si = sent_of[starts[bisect.bisect_right(starts, ent.sent.start) - 1]]
        ctx.ann.mentions.append(
            Mention(
                start=ent.start_char,
                end=ent.end_char,
                text=ent.text,
                label=ent.label_,
                sentence=si,
                canonical=ent.text,
            )
        )
