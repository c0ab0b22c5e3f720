"""Quote utterances: one statement by one speaker, quoted in several wordings, grouped.

Outlets quote the same sentence in full or in part, or in two translations. Quotes are blocked
by speaker (entity id, else the folded speaker name), then grouped when their token-set or
partial similarity (rapidfuzz) is high; every wording stays a quote row pointing at the group.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Sequence
from datetime import date
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import Connection, bindparam, insert, select, update

from ..store import in_chunks, schema
from .entities import EntityIndex, fold, prefetch_names, resolve

SAME_STATEMENT = 80.0  # token-set ratio of two wordings of one statement
PARTIAL_MIN_WORDS = 5  # a partial quote must be at least this long to match inside a longer one


WINDOW = 400  # days: a new wording is matched against the speaker's statements quoted this close
# for speakers that are not people ("police", "officials", a ministry): their statements are
# news for days, not recalled for years, and they say a great many different things
BODY_WINDOW = 30
MAX_GROUPS = 300  # statements per speaker compared at most (the most recently quoted)


def similar(a: str, b: str, *, folded: bool = False) -> float:
    """How likely two quote texts are wordings of one statement (0-100)."""
    fa, fb = (a, b) if folded else (fold(a), fold(b))
    if not fa or not fb:
        return 0.0
    score = fuzz.token_set_ratio(fa, fb)
    short = min(fa, fb, key=len)
    if len(short.split()) < PARTIAL_MIN_WORDS:
        score = min(score, fuzz.ratio(fa, fb))
    else:
        score = max(score, fuzz.partial_ratio(fa, fb))
    return float(score)


def similar_many(text: str, others: Sequence[str], cutoff: float = 0.0) -> list[float]:
    """:func:`similar` of one folded text against many folded texts, scored in C++.

    Scores below ``cutoff`` may come back as 0 (the C++ scorers then stop early)."""
    if not others:
        return []
    if not text:
        return [0.0] * len(others)
    import numpy as np

    def scores(scorer: Any) -> Any:
        return process.cdist([text], others, scorer=scorer, dtype=np.float64, score_cutoff=cutoff)[
            0
        ]

    token_set = scores(fuzz.token_set_ratio)
    whole = scores(fuzz.ratio)
    part = scores(fuzz.partial_ratio)
    n_words = len(text.split())
    shorter_words = np.array(
        [n_words if len(text) <= len(o) else len(o.split()) for o in others], dtype=int
    )
    short = shorter_words < PARTIAL_MIN_WORDS
    out = np.where(short, np.minimum(token_set, whole), np.maximum(token_set, part))
    empty = np.array([not o for o in others])
    return [0.0 if e else float(x) for x, e in zip(out, empty, strict=True)]


_ut = schema.utterances
GROUP_COLUMNS = ("id", "text", "n_quotes", "day_first", "day_last")
UPDATE_GROUP = update(_ut).where(_ut.c.id == bindparam("uid_"))  # SET: the keys passed


class SpeakerGroups:
    """The utterances of a batch's speakers, read once per batch and kept up to date in memory
    as the batch's quotes join or start them; written back at the end in two statements.

    A quote is compared with its speaker's utterances quoted since ``since`` (or undated), the
    :data:`MAX_GROUPS` most recent first. Reading each speaker's widest window once gives every
    quote the same candidates as a query per quote would, without a round trip per quote
    (PostgreSQL) and with one order on both backends (undated last, ties by id)."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, dict[str, Any]]] = {}  # speaker -> id -> row
        self.new: dict[str, None] = {}  # ids of the groups started by the batch, in order
        self.changed: dict[str, None] = {}  # stored groups the batch's quotes joined

    def load(self, conn: Connection, windows: dict[str, int | None]) -> None:
        """Read the stored utterances of these speakers quoted since each one's day (None: all)."""
        cols = [_ut.c[c] for c in GROUP_COLUMNS]
        self.rows.update((key, {}) for key in windows)
        # speakers of nearby days share one look-up from the earliest of them (rows older than
        # a speaker's own day are dropped by ``near``)
        dated = sorted((since, key) for key, since in windows.items() if since is not None)
        undated = [key for key, since in windows.items() if since is None]
        lookups = [([k for _, k in part], part[0][0]) for part in in_chunks(dated, 200)]
        lookups += [(keys, None) for keys in in_chunks(undated)]
        for keys, since in lookups:
            q = select(_ut.c.speaker_id, *cols).where(_ut.c.speaker_id.in_(list(keys)))
            if since is not None:
                q = q.where(_ut.c.day_last.is_(None) | (_ut.c.day_last >= since))
            for r in conn.execute(q).mappings():
                self.rows[r["speaker_id"]][r["id"]] = {c: r[c] for c in GROUP_COLUMNS}

    def near(self, key: str, since: int | None) -> list[dict[str, Any]]:
        ranked = [  # (undated last, most recent first, id): ids are unique, rows never compared
            (day is None, -(day or 0), r["id"], r)
            for r in self.rows[key].values()
            if (day := r["day_last"]) is None or since is None or day >= since
        ]
        return [t[3] for t in heapq.nsmallest(MAX_GROUPS, ranked)]

    def add(self, key: str, row: dict[str, Any]) -> None:
        self.rows[key][row["id"]] = {**row, "speaker_id": key}
        self.new[row["id"]] = None

    def change(self, key: str, uid: str, values: dict[str, Any]) -> None:
        self.rows[key][uid].update(values)
        if uid not in self.new:
            self.changed[uid] = None

    def write(self, conn: Connection) -> None:
        rows = {uid: row for group in self.rows.values() for uid, row in group.items()}
        if self.new:
            conn.execute(insert(_ut), [rows[uid] for uid in self.new])
        if self.changed:
            conn.execute(
                UPDATE_GROUP,
                [
                    {"uid_": uid, **{c: rows[uid][c] for c in GROUP_COLUMNS if c != "id"}}
                    for uid in self.changed
                ],
            )


def utterance_id(quote_id: str) -> str:
    return "ut-" + hashlib.sha1(quote_id.encode()).hexdigest()[:12]


def speaker_key(q: dict[str, Any]) -> str | None:
    if q["speaker_id"]:
        return q["speaker_id"]
    name = q["speaker_canonical"] or q["speaker"]
    return f"name:{fold(name)}" if name else None


def link_utterances(conn: Connection, article_ids: Sequence[str], index: EntityIndex) -> int:
    """Give the quotes of these articles speaker ids and utterance ids; return groups touched."""
    qt = schema.quotes
    quotes = [
        dict(r)
        for r in conn.execute(
            select(qt).where(qt.c.article_id.in_(list(article_ids))).order_by(qt.c.id)
        ).mappings()
    ]
    speaker_rows = []
    prefetch_names(
        conn, index, ((q["article_id"], q["speaker_canonical"] or q["speaker"]) for q in quotes)
    )
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
    days = _article_days(conn, {q["article_id"] for q in quotes})
    todo = [(q, key) for q in quotes if (key := speaker_key(q)) and not q["utterance_id"]]
    windows: dict[str, int | None] = {}  # speaker -> the earliest day any of its quotes needs
    for q, key in todo:
        since = _since(key, days.get(q["article_id"]))
        if key not in windows:
            windows[key] = since
        elif windows[key] is not None:
            windows[key] = None if since is None else min(since, windows[key])
    book = SpeakerGroups()
    book.load(conn, windows)
    folded: dict[str, str] = {}  # utterance id -> folded text, for this batch
    assigned: list[dict[str, str]] = []  # quote -> utterance, written at the end in one go
    touched: set[str] = set()
    for q, key in todo:
        day = days.get(q["article_id"])
        groups = book.near(key, _since(key, day))
        fq = fold(q["text"])
        for g in groups:
            if g["id"] not in folded:
                folded[g["id"]] = fold(g["text"])
        scores = similar_many(fq, [folded[g["id"]] for g in groups], SAME_STATEMENT)
        best, best_score = None, SAME_STATEMENT
        for g, sc in zip(groups, scores, strict=True):
            if sc >= best_score:
                best, best_score = g, sc
        if best is None:
            uid = utterance_id(q["id"])
            book.add(
                key,
                {
                    "id": uid,
                    "speaker": q["speaker_canonical"] or q["speaker"],
                    "text": q["text"],
                    "n_quotes": 1,
                    "day_first": day,
                    "day_last": day,
                },
            )
            folded[uid] = fq
        else:
            uid = best["id"]
            text = q["text"] if len(q["text"]) > len(best["text"]) else best["text"]
            folded[uid] = fq if text is q["text"] else folded[uid]
            values: dict[str, Any] = {"n_quotes": best["n_quotes"] + 1, "text": text}
            if day is not None:
                values["day_first"] = min(day, best["day_first"] or day)
                values["day_last"] = max(day, best["day_last"] or day)
            book.change(key, uid, values)
        assigned.append({"qid": q["id"], "uid": uid})
        touched.add(uid)
    book.write(conn)
    if assigned:
        conn.execute(
            update(qt).where(qt.c.id == bindparam("qid")).values(utterance_id=bindparam("uid")),
            assigned,
        )
    return len(touched)


def _since(key: str, day: int | None) -> int | None:
    """The earliest day a quote's candidates may have been quoted last (None: any day)."""
    if day is None:
        return None
    return day - (WINDOW if key.startswith("per:") else BODY_WINDOW)


def _article_days(conn: Connection, ids: set[str]) -> dict[str, int]:
    """Article id -> its publication day number (articles with a day-precise date only)."""
    a = schema.articles
    out: dict[str, int] = {}
    q = select(a.c.id, a.c.pub_date).where(a.c.id.in_(sorted(ids)), a.c.pub_date.is_not(None))
    for r in conn.execute(q):
        if (day := pub_day(r.pub_date)) is not None:
            out[r.id] = day
    return out


def pub_day(value: str | None) -> int | None:
    """The day number (date.toordinal) of a day-precise ISO date, else None."""
    try:
        return date.fromisoformat(value).toordinal() if value and len(value) == 10 else None
    except ValueError:
        return None
