"""Timeline summarisation: pick the dates that matter, then the sentences that say what happened.

Dates are ranked by how often the coverage refers to them (explicit or relative day references
in sentences, resolved against each article's publication date) plus how many articles were
published on them; this is the signal date-wise TLS systems build on. For each chosen date, the
candidate sentences are those that refer to it, plus the leads of articles published that day
or the next; the most central ones (TF-IDF cosine to the candidates' centroid, redundancy
removed) summarise it. Used by ``storyline eval timeline17`` and by the product's summaries.
"""

from __future__ import annotations

import logging
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

log = logging.getLogger(__name__)

REF_WEIGHT = 1.0  # an article referring to a day
PUB_WEIGHT = 0.5  # an article published on a day
LEAD_SENTENCES = 5  # sentences of an article's lead that may report its publication day
MIN_WORDS, MAX_WORDS = 5, 50
REDUNDANT = 0.5  # cosine above which a second sentence repeats the first


@dataclass
class Doc:
    """One article, split into sentences, with its publication date."""

    id: str
    pub_date: date
    sentences: list[str]
    refs: list[list[date]] = field(default_factory=list)  # day references per sentence


def timex_dater(text_sentences: Sequence[str], pub: date) -> list[list[date]]:
    """Day references of each sentence, from the project's time-expression finder."""
    from ..annotate.timex import find_timexes

    text = "\n".join(text_sentences)
    starts, pos = [], 0
    for s in text_sentences:
        starts.append(pos)
        pos += len(s) + 1
    out: list[list[date]] = [[] for _ in text_sentences]
    import bisect

    try:
        found = find_timexes(text, None, pub.isoformat())
    except Exception as exc:  # one odd expression must not lose the article's dates
        log.debug("timex finder failed on an article (%s); sentence by sentence", exc)
        found = []
        for s, at in zip(text_sentences, starts, strict=True):
            try:
                fs = find_timexes(s, None, pub.isoformat())
            except Exception:
                continue
            for f in fs:
                f.start += at
            found.extend(fs)
    for f in found:
        value = f.value or ""
        if not re.match(r"^\d{4}-\d{2}-\d{2}$", value):
            continue
        try:
            d = date.fromisoformat(value)
        except ValueError:
            continue
        i = bisect.bisect_right(starts, f.start) - 1
        if 0 <= i < len(out):
            out[i].append(d)
    return out


def rank_dates(
    docs: Iterable[Doc], start: date | None = None, end: date | None = None
) -> list[tuple[date, float]]:
    """Days by how much the coverage points at them, best first."""
    score: Counter[date] = Counter()
    for doc in docs:
        if _inside(doc.pub_date, start, end):
            score[doc.pub_date] += PUB_WEIGHT
        for d in {d for refs in doc.refs for d in refs}:  # once per article: not one wordy piece
            if _inside(d, start, end):
                score[d] += REF_WEIGHT
    return sorted(score.items(), key=lambda kv: (-kv[1], kv[0]))


def _inside(d: date, start: date | None, end: date | None) -> bool:
    return (start is None or d >= start) and (end is None or d <= end)


def has_keyword(sentence: str, keywords: Sequence[str]) -> bool:
    low = sentence.lower()
    return not keywords or any(k.lower() in low for k in keywords)


def candidates(docs: Sequence[Doc], keywords: Sequence[str]) -> dict[date, list[str]]:
    """For each day, the sentences that may say what happened on it."""
    out: dict[date, list[str]] = defaultdict(list)
    for doc in docs:
        for i, (s, refs) in enumerate(zip(doc.sentences, doc.refs, strict=True)):
            n = len(s.split())
            if n < MIN_WORDS or n > MAX_WORDS or not has_keyword(s, keywords):
                continue
            for d in set(refs):
                out[d].append(s)
            if not refs and i < LEAD_SENTENCES:
                out[doc.pub_date].append(s)
                out[doc.pub_date - timedelta(days=1)].append(s)
    return out


def summarise(sentences: Sequence[str], k: int, vectorizer) -> list[str]:
    """The ``k`` most central, mutually non-redundant sentences."""
    uniq = list(dict.fromkeys(s.strip() for s in sentences if s.strip()))
    if len(uniq) <= 1:
        return uniq[:k]
    x = vectorizer.transform(uniq)
    centroid = np.asarray(x.mean(axis=0))
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1))).ravel() + 1e-9
    cnorm = float(np.linalg.norm(centroid)) + 1e-9
    sims = (np.asarray(x @ centroid.T).ravel()) / (norms * cnorm)
    chosen: list[int] = []
    for i in np.argsort(-sims):
        if len(chosen) >= k:
            break
        if any(_cos(x, i, j, norms) > REDUNDANT for j in chosen):
            continue
        chosen.append(int(i))
    return [uniq[i] for i in chosen]


def _cos(x, i: int, j: int, norms: np.ndarray) -> float:
    return float((x[i] @ x[j].T).toarray()[0, 0] / (norms[i] * norms[j]))


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
    pool = [s for d in chosen for s in cands[d]]
    if not pool:
        return {}
    vec = TfidfVectorizer(stop_words="english", sublinear_tf=True, min_df=1).fit(pool)
    out = {}
    for d in sorted(chosen):
        summary = summarise(cands[d], per_date, vec)
        if summary:
            out[d] = summary
    return out
