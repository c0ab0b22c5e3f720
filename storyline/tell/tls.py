"""Timeline summarisation: pick the dates that matter, then the sentences that say what happened.

A date-wise method after the news-tls paper's DATEWISE (Ghalandari & Ifrim 2020). Each sentence
is about the first day it refers to (explicit or relative day references, resolved against its
article's publication date; Penn-Treebank spacing such as ``Feb 10 , 2011`` undone first).
Days are ranked by how many articles have a sentence about them, plus a smaller weight for each
article published on them. Datelines, time stamps, bylines and captions ("March 1 , 2011 at
6:22 pm | ...") are page furniture: they neither vote for their day nor go into a summary. For
each chosen day the candidates are the sentences about it, then the undated leads of articles
published that day or the next; centroid-opt over TF-IDF picks the summary (each step adds the
sentence that brings the summary nearest the candidates' centroid, near-copies skipped). Used by
``storyline eval timeline17`` and by the product's summaries.
"""

from __future__ import annotations

import bisect
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

log = logging.getLogger(__name__)

REF_WEIGHT = 1.0  # an article referring to a day
PUB_WEIGHT = 0.25  # an article published on a day
LEAD_SENTENCES = 5  # sentences of an article's lead that may report its publication day
PUB_DAYS = 2  # a lead may report its publication day or the day before
MIN_WORDS, MAX_WORDS = 5, 50
REDUNDANT = 0.5  # cosine above which a second sentence repeats the first

# page furniture rather than reporting: "March 1 , 2011 at 6:22 pm | Protect Libyans ...",
# "Feb 10 , 2011 7:59 AM ET", "Tue Mar 1 , 2011 6:36 pm EST TRIPOLI", "Updated : 1:19 a.m."
_JUNK = re.compile(
    r"\||\b\d{1,2}:\d{2}\b|\b(?:EST|EDT|GMT|BST|ET)\b|\bUpdated\b|"
    r"^(?:[A-Z][a-z]{2} )?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? \d{1,2} , \d{4}"
)
_DAY = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:T(?:MO|AF|EV|NI|DT))?$")  # a day, or part of one
_COMMA = re.compile(r" ([,;:])(?= )")


@dataclass
class Doc:
    """One article, split into sentences, with its publication date."""

    id: str
    pub_date: date
    sentences: list[str]
    refs: list[list[date]] = field(default_factory=list)  # day references per sentence


def detokenise(sentence: str) -> str:
    """Undo the Penn-Treebank spacing that hides dates from the finder ("Feb 10 , 2011")."""
    return _COMMA.sub(r"\1", sentence.replace("-LRB-", "(").replace("-RRB-", ")"))


def timex_dater(text_sentences: Sequence[str], pub: date) -> list[list[date]]:
    """Day references of each sentence, from the project's time-expression finder."""
    from ..annotate.timex import find_timexes

    sents = [detokenise(s) for s in text_sentences]
    text = "\n".join(sents)
    starts, pos = [], 0
    for s in sents:
        starts.append(pos)
        pos += len(s) + 1
    out: list[list[date]] = [[] for _ in sents]
    try:
        found = find_timexes(text, None, pub.isoformat())
    except Exception as exc:  # one odd expression must not lose the article's dates
        log.debug("timex finder failed on an article (%s); sentence by sentence", exc)
        found = []
        for s, at in zip(sents, starts, strict=True):
            try:
                fs = find_timexes(s, None, pub.isoformat())
            except Exception:
                continue
            for f in fs:
                f.start += at
            found.extend(fs)
    for f in sorted(found, key=lambda f: f.start):
        m = _DAY.match(f.value or "")
        if not m:
            continue
        try:
            d = date.fromisoformat(m.group(1))
        except ValueError:
            continue
        i = bisect.bisect_right(starts, f.start) - 1
        if 0 <= i < len(out):
            out[i].append(d)
    return out


def is_junk(sentence: str) -> bool:
    """A dateline, time stamp, byline or caption: neither a summary nor a vote for its day."""
    return bool(_JUNK.search(sentence))


def sentence_day(doc: Doc, i: int) -> date | None:
    """The day sentence ``i`` is about: its first day reference (none for page furniture)."""
    refs = doc.refs[i]
    if not refs or is_junk(doc.sentences[i]):
        return None
    return refs[0]


def rank_dates(
    docs: Iterable[Doc], start: date | None = None, end: date | None = None
) -> list[tuple[date, float]]:
    """Days by how much the coverage points at them, best first."""
    score: Counter[date] = Counter()
    for doc in docs:
        if _inside(doc.pub_date, start, end):
            score[doc.pub_date] += PUB_WEIGHT
        days = {sentence_day(doc, i) for i in range(len(doc.sentences))}
        for d in days - {None}:  # once per article: not one wordy piece
            if _inside(d, start, end):
                score[d] += REF_WEIGHT
    return sorted(score.items(), key=lambda kv: (-kv[1], kv[0]))


def _inside(d: date, start: date | None, end: date | None) -> bool:
    return (start is None or d >= start) and (end is None or d <= end)


def has_keyword(sentence: str, keywords: Sequence[str]) -> bool:
    low = sentence.lower()
    return not keywords or any(k.lower() in low for k in keywords)


def usable(sentence: str, keywords: Sequence[str]) -> bool:
    """May the sentence go into a summary: a keyphrase, a sensible length, not page furniture."""
    n = len(sentence.split())
    if n < MIN_WORDS or n > MAX_WORDS or not has_keyword(sentence, keywords):
        return False
    return not is_junk(sentence)


def candidates(docs: Sequence[Doc], keywords: Sequence[str]) -> dict[date, list[str]]:
    """For each day, the sentences about it, then the undated leads published that day or after."""
    ment: dict[date, list[str]] = defaultdict(list)
    lead: dict[date, list[str]] = defaultdict(list)
    for doc in docs:
        for i, s in enumerate(doc.sentences):
            if not usable(s, keywords):
                continue
            d = sentence_day(doc, i)
            if d is not None:
                ment[d].append(s)
            elif not doc.refs[i] and i < LEAD_SENTENCES:
                for k in range(PUB_DAYS):
                    lead[doc.pub_date - timedelta(days=k)].append(s)
    return {d: ment.get(d, []) + lead.get(d, []) for d in set(ment) | set(lead)}


def summarise(sentences: Sequence[str], k: int, vectorizer) -> list[str]:
    """Up to ``k`` mutually non-redundant sentences whose sum is closest to the centroid.

    Centroid-opt: each step adds the sentence that brings the summary's TF-IDF vector nearest
    (cosine) to the candidates' centroid, so a second sentence adds what the first lacks.
    """
    uniq = list(dict.fromkeys(s.strip() for s in sentences if s.strip()))
    if len(uniq) <= 1:
        return uniq[:k]
    x = vectorizer.transform(uniq)
    dense = x.toarray()
    centroid = dense.mean(axis=0)
    cnorm = float(np.linalg.norm(centroid)) + 1e-9
    norms = np.linalg.norm(dense, axis=1) + 1e-9
    unit = dense / norms[:, None]
    summary = np.zeros(dense.shape[1])
    chosen: list[int] = []
    remaining = list(range(len(uniq)))
    while remaining and len(chosen) < k:
        cand = dense[remaining] + summary
        score = (cand @ centroid) / ((np.linalg.norm(cand, axis=1) + 1e-9) * cnorm)
        for r in np.argsort(-score, kind="stable"):
            i = remaining[r]
            if chosen and float(np.max(unit[chosen] @ unit[i])) > REDUNDANT:
                continue
            chosen.append(i)
            summary = summary + dense[i]
            break
        else:
            break
        remaining.remove(chosen[-1])
    return [uniq[i] for i in chosen]


def build_timeline(
    docs: Sequence[Doc],
    *,
    n_dates: int,
    per_date: int,
    keywords: Sequence[str] = (),
    start: date | None = None,
    end: date | None = None,
) -> dict[date, list[str]]:
    """A timeline of ``n_dates`` days with up to ``per_date`` sentences each."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    cands = candidates(docs, keywords)
    ranked = [d for d, _ in rank_dates(docs, start, end) if cands.get(d)]
    chosen = ranked[:n_dates]
    pool = list(dict.fromkeys(s for d in chosen for s in cands[d]))
    if not pool:
        return {}
    vec = TfidfVectorizer(stop_words="english", sublinear_tf=True, min_df=1).fit(pool)
    out = {}
    for d in sorted(chosen):
        summary = summarise(cands[d], per_date, vec)
        if summary:
            out[d] = summary
    return out
