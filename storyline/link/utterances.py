"""Quote utterances: one statement by one speaker, quoted in several wordings, grouped.

Outlets quote the same sentence in full or in part, or in two translations. Quotes are blocked
by speaker (entity id, else the folded speaker name), then grouped when their token-set or
partial similarity (rapidfuzz) is high; every wording stays a quote row pointing at the group.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import Connection, bindparam, insert, select, update

from ..store import schema
from .entities import EntityIndex, fold, resolve

SAME_STATEMENT = 80.0  # token-set ratio of two wordings of one statement
PARTIAL_MIN_WORDS = 5  # a partial quote must be at least this long to match inside a longer one


def similar(a: str, b: str) -> float:
    """How likely two quote texts are wordings of one statement (0-100)."""
    fa, fb = fold(a), fold(b)
    if not fa or not fb:
        return 0.0
    score = fuzz.token_set_ratio(fa, fb)
    short = min(fa, fb, key=len)
    if len(short.split()) < PARTIAL_MIN_WORDS:
        score = min(score, fuzz.ratio(fa, fb))
    else:
        score = max(score, fuzz.partial_ratio(fa, fb))
    return float(score)


def utterance_id(quote_id: str) -> str:
    return "ut-" + hashlib.sha1(quote_id.encode()).hexdigest()[:12]


def speaker_key(q: dict[str, Any]) -> str | None:
    if q["speaker_id"]:
        return q["speaker_id"]
    name = q["speaker_canonical"] or q["speaker"]
    return f"name:{fold(name)}" if name else None


def link_utterances(conn: Connection, article_ids: Sequence[str], index: EntityIndex) -> int:
    """Give the quotes of these articles speaker ids and utterance ids; return groups touched."""
    qt, ut = schema.quotes, schema.utterances
    quotes = [
        dict(r)
        for r in conn.execute(
            select(qt).where(qt.c.article_id.in_(list(article_ids))).order_by(qt.c.id)
        ).mappings()
    ]
    speaker_rows = []
    for q in quotes:
        sid = resolve(conn, index, q["article_id"], q["speaker_canonical"] or q["speaker"])
        if sid and sid != q["speaker_id"]:
            q["speaker_id"] = sid
            speaker_rows.append({"qid": q["id"], "sid": sid})
    if speaker_rows:
        conn.execute(
            update(qt).where(qt.c.id == bindparam("qid")).values(speaker_id=bindparam("sid")),
            speaker_rows,
        )
    touched: set[str] = set()
    for q in quotes:
        key = speaker_key(q)
        if key is None or q["utterance_id"]:
            continue
        groups = [
            dict(r) for r in conn.execute(select(ut).where(ut.c.speaker_id == key)).mappings().all()
        ]
        best, best_score = None, SAME_STATEMENT
        for g in groups:
            s = similar(q["text"], g["text"])
            if s >= best_score:
                best, best_score = g, s
        if best is None:
            uid = utterance_id(q["id"])
            conn.execute(
                insert(ut).values(
                    id=uid,
                    speaker_id=key,
                    speaker=q["speaker_canonical"] or q["speaker"],
                    text=q["text"],
                    n_quotes=1,
                )
            )
        else:
            uid = best["id"]
            text = q["text"] if len(q["text"]) > len(best["text"]) else best["text"]
            conn.execute(
                update(ut).where(ut.c.id == uid).values(n_quotes=best["n_quotes"] + 1, text=text)
            )
        conn.execute(update(qt).where(qt.c.id == q["id"]).values(utterance_id=uid))
        touched.add(uid)
    return len(touched)
