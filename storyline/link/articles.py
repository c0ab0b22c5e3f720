"""Article-to-article links: exact and near copies, rewrites, and reports of the same story.

A new batch is matched only against candidates, never against the whole store:

- **copies**: word 5-gram MinHash (datasketch); its LSH band buckets are rows in ``link_keys``,
  so "who shares a bucket with me" is an indexed lookup. The MinHash estimates Jaccard, and
  from it containment, which is what a wire copy with another top and tail keeps high;
- **shared names**: proper-name keys (capitalised phrases and surnames, lower-cased) in
  ``link_keys``; names held by few articles (a victim's or suspect's name, a street) fetch
  candidates at any distance in time: this is what finds the arrest or the trial months later;
- **vector neighbours**: the title+lead embedding's nearest neighbours in the ANN index
  (:mod:`storyline.link.embed`), kept when they fall inside the date window (or are undated).

Each candidate pair gets one score (embedding cosine + full-text TF-IDF cosine + shared rare
names + a shared rare full person name - a long-tailed date penalty, taken back when the later
article recalls the earlier one's date - a same-outlet penalty); the copy tests decide the kind. Each batch is clustered by average linkage over its candidate pairs: the
new articles among themselves and onto the stored clusters (:func:`assign_clusters`). Relations are written from the new article to the
older one (``duplicate_of``, ``rewrite_of``) and both ways for ``same_story_as``. Copies stay
stored and counted as sources: a relation never removes an article.

Names come from a cheap capitalised-token proxy, not spaCy, so linking works on articles stored
without annotation and costs nothing per article beyond the embedding.
"""

from __future__ import annotations

import heapq
import logging
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from itertools import chain
from operator import mul
from typing import Any

import numpy as np
from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from ..store import Store, in_chunks, schema
from . import embed, pgvector

log = logging.getLogger(__name__)

NUM_PERM = 128
BANDS, ROWS = 32, 4  # LSH: pairs with Jaccard ~0.4 and above become candidates
SHINGLE = 5
MAX_NAMES = 60  # names kept per article
MAX_DF = 50  # a name held by more articles than this does not fetch candidates
MAX_CANDIDATES = 200
MAX_PER_BUCKET = 50


@dataclass(frozen=True)
class Params:
    """Thresholds and weights.

    The weights, ``name_relief``, ``outlet_penalty`` and ``cluster_threshold`` are the sweep
    of ``storyline eval clustering`` on the dev splits of gva-incidents and ECB+ (one parameter
    set for both); ``name_cap``, ``date_weight``, ``undated_days`` and ``max_term_share`` were
    set on the same dev splits beforehand, and so were the follow-up evidence's
    ``person_weight``, ``person_low``, ``person_high`` and ``recall_relief`` (a sweep on gva
    dev). ``story_threshold``: same_story_as pairs are ~89 % precise on ECB+ dev (86 % with
    the weights before).
    """

    tfidf_weight: float = 0.5  # share of full-text TF-IDF cosine next to the embedding cosine
    name_weight: float = 0.3  # weight of shared rare names (normalised to 0..1)
    name_cap: float = 45.0  # sum of idf of shared names that counts as "certain"
    date_weight: float = 0.3  # penalty at a year apart (log-scaled, so a long tail)
    name_relief: float = 0.0  # share of the date penalty that certain shared names take back
    undated_days: float = 7.0  # the gap assumed when a date is missing: a small penalty
    outlet_penalty: float = 0.15  # two pages of one outlet share furniture, not only news
    person_weight: float = 0.075  # a shared rare full person name (victim, suspect), person_of
    person_low: float = 0.6  # person_of's rarity (idf / the top idf) where it starts to count
    person_high: float = 0.9  # ...and where it counts fully
    recall_relief: float = 1.0  # share of the date penalty taken back when the later article
    # recalls the earlier one's date ("the Jan. 5 shooting"): the gap is then explained
    max_term_share: float = 0.2  # words in more of the store's articles do not count in TF-IDF
    window_days: int = 30  # vector neighbours must be this close in time (or undated)
    ann_k: int = 40
    story_threshold: float = 0.4  # a pair above this gets a same_story_as relation
    cluster_threshold: float = 0.35  # average weight to a cluster's members needed to join it
    dup_containment: float = 0.8  # share of the shorter text's 5-grams found in the longer
    rewrite_containment: float = 0.3
    rewrite_cos: float = 0.9  # paraphrase or translation: wording differs, meaning does not
    max_relations: int = 5


PARAMS = Params()


@dataclass
class Feat:
    """What linking needs to know about one article."""

    id: str
    seq: int
    day: int | None
    content_hash: str
    vector: np.ndarray
    minhash: np.ndarray
    n_shingles: int
    names: set[str] = field(default_factory=set)
    supersedes: str | None = None
    terms: dict[str, float] = field(default_factory=dict)  # sublinear term frequencies
    stored: bool = False  # terms and names were read from the store
    recalled: set[int] = field(default_factory=set)  # days the text names (new articles only)


@dataclass
class Pair:
    """One candidate pair's evidence; ``a`` is the article being linked."""

    a: str
    b: str
    cos: float
    jaccard: float
    containment: float
    size_ratio: float
    name_w: float
    days: int | None
    same_text: bool
    tfidf: float = 0.0  # TF-IDF cosine of the full texts (IDF from the store's term_df)
    same_outlet: bool = False  # both from one outlet: shared page furniture is no evidence
    person: float = 0.0  # rarity of the rarest shared full person name, 0..1 (person_of)
    recalls_date: bool = False  # the later article names the earlier one's date (recalls_day)
    # story_score under ``scored_with`` (see score_pairs): scored once, read by classify and
    # pair_weight; a scalar call through numpy costs ~30 us, times 10^5 pairs a batch
    story: float = 0.0
    scored_with: Any = field(default=None, repr=False, compare=False)


# -- pure feature functions --------------------------------------------------------------------

WORD = re.compile(r"\w+", re.UNICODE)
NAME = re.compile(
    r"(?:[A-Z][a-z'’\-]+|[A-Z]{2,}|[A-Z]\.)(?:\s+(?:[A-Z][a-z'’\-]+|[A-Z]\.|[A-Z]{2,}|de|van|von))*"
)
_STOP_WORDS = """the a an and but or if in on at to of for by with from as it its he she they we i you this
    that these those there here his her their our my your mr mrs ms dr police officers officer
    monday tuesday wednesday thursday friday saturday sunday january february march april may june
    july august september october november december today yesterday tomorrow when where what who
    why how after before while during according said says news video photo photos click read more
    sign share email facebook twitter copyright all rights reserved associated press reuters ap
    update updated breaking posted no one two three new not so some also just mayor president
    chief sheriff governor gov senator sen rep judge detective det sgt lt capt deputy prosecutor
    attorney general minister prime secretary spokesman spokeswoman spokesperson"""
STOP = set(_STOP_WORDS.split())


def day_of(pub_date: str | None) -> int | None:
    """A date's day number (month and year precision: their first day)."""
    if not pub_date:
        return None
    parts = pub_date.split("-")
    try:
        y = int(parts[0])
        m = int(parts[1]) if len(parts) > 1 else 1
        d = int(parts[2]) if len(parts) > 2 else 1
        return date(y, m, d).toordinal()
    except (ValueError, IndexError):
        return None


def shingles(text: str) -> set[bytes]:
    words = WORD.findall(text.lower())
    if len(words) < SHINGLE:
        return {" ".join(words).encode()} if words else set()
    return {" ".join(words[i : i + SHINGLE]).encode() for i in range(len(words) - SHINGLE + 1)}


def minhash_of(sh: set[bytes]) -> np.ndarray:
    from datasketch import MinHash

    try:  # reuse the permutations: building them costs more than hashing an article
        mh = MinHash(num_perm=NUM_PERM, seed=1, permutations=_permutations(), scheme="affine32")
    except TypeError:  # datasketch < 2 has no scheme argument
        mh = MinHash(num_perm=NUM_PERM, seed=1)
    if sh:
        mh.update_batch(list(sh))
    return np.asarray(mh.hashvalues, dtype=np.uint64)


@lru_cache(maxsize=1)
def _permutations() -> Any:
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, seed=1).permutations


def lsh_keys(hv: np.ndarray) -> list[str]:
    """One key per LSH band: band number + a hash of that band's MinHash values."""
    import hashlib

    out = []
    for b in range(BANDS):
        chunk = np.ascontiguousarray(hv[b * ROWS : (b + 1) * ROWS]).tobytes()
        out.append(f"{b:02d}{hashlib.blake2b(chunk, digest_size=8).hexdigest()}")
    return out


def names_of(title: str | None, text: str) -> set[str]:
    """Proper names (capitalised phrases, their last word, all-caps datelines), lower-cased."""
    found: list[str] = []
    for part in (title or "", text[:4000]):
        for m in NAME.finditer(part):
            phrase = m.group(0).strip()
            words = [w.strip(".'’").lower() for w in phrase.split()]
            words = [w for w in words if w]
            while words and words[0] in STOP:
                words = words[1:]
            while words and words[-1] in STOP:
                words = words[:-1]
            if not words:
                continue
            start = m.start()
            before = part[max(0, start - 2) : start]
            sentence_start = start == 0 or bool(re.search(r"[.!?\n\"“]\s*$", before))
            if len(words) == 1:
                w = words[0]
                if len(w) < 3 or w in STOP or (sentence_start and not phrase.isupper()):
                    continue
                found.append(w)
            else:
                found.append(" ".join(words))
                if len(words[-1]) >= 3 and words[-1] not in STOP:
                    found.append(words[-1])
    seen: dict[str, None] = {}
    for n in found:
        if len(seen) >= MAX_NAMES:
            break
        seen.setdefault(n[:80], None)
    return set(seen)


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
MONTH_DAY = re.compile(
    r"\b(January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b"
    r"(?:,?\s+((?:19|20)\d\d)\b)?"
)
RECALL_DAYS = 2  # a recalled date this close to the other article's date counts (dates are rough)


def recalled_days(text: str, day: int | None) -> set[int]:
    """Days an article names ("the Jan. 5 shooting", "on March 3, 2015"), as day numbers.

    A date without a year is the latest such date up to the article's own (``day``; an
    undated article keeps only dates with a year). A follow-up recalls the incident's date:
    that is what explains a gap of months between it and the first reports.
    """
    out: set[int] = set()
    pub = date.fromordinal(day) if day is not None else None
    for m in MONTH_DAY.finditer(text[:20000]):
        month = _MONTHS.index(m.group(1)[:3].lower()) + 1
        d = int(m.group(2))
        try:
            if m.group(3):
                out.add(date(int(m.group(3)), month, d).toordinal())
            elif pub is not None:
                x = date(pub.year, month, d)
                if (x - pub).days > RECALL_DAYS:
                    x = date(pub.year - 1, month, d)
                out.add(x.toordinal())
        except ValueError:  # "Feb. 30", or Feb. 29 of the year before
            continue
    return out


def recalls_day(late: Feat, early: Feat) -> bool:
    """Whether the later article names the earlier one's date (within ``RECALL_DAYS``)."""
    if early.day is None or not late.recalled:
        return False
    return any(abs(x - early.day) <= RECALL_DAYS for x in late.recalled)


def person_of(shared: Iterable[str], idf: dict[str, float], top_idf: float) -> float:
    """How rare the rarest shared full person name is: 0..1 (1: held by one article).

    A full name counts when its surname key is shared too, and it is only as rare as the
    rarer of the two (idf over ``top_idf``, the idf of a name held once): "kareem mano" and
    "mano" both rare is a victim's or a suspect's name; "cook county" (the key "county" is
    everywhere) or "state district court" are no people. A police spokesman named in every
    report of his city is shared too, but is not rare.
    """
    shared = set(shared)
    best = 0.0
    for n in shared:
        if " " not in n:
            continue
        last = n.rsplit(" ", 1)[1]
        if last in shared:
            best = max(best, min(idf.get(n, 0.0), idf.get(last, 0.0)))
    return min(1.0, best / top_idf) if top_idf > 0 else 0.0


def terms_of(text: str) -> dict[str, float]:
    """Sublinear term frequencies of an article's content words (for the TF-IDF overlap)."""
    counts = Counter(
        w
        for w in WORD.findall(text.lower()[:20000])
        if len(w) > 2 and w not in STOP and not w.isdigit() and len(w) <= 64
    )
    return {w: round(1.0 + math.log(c), 4) for w, c in counts.items()}  # as stored


def tfidf_vector(
    terms: dict[str, float], idf: dict[str, float], min_idf: float = 0.0
) -> dict[str, float]:
    """Unit-length TF-IDF weights; words with an idf under ``min_idf`` (too common) are left out."""
    v = {w: tf * x for w, tf in terms.items() if (x := idf.get(w, 0.0)) >= min_idf}
    norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
    return {w: x / norm for w, x in v.items() if x > 0}


def sparse_cos(a: dict[str, float], b: dict[str, float]) -> float:
    """Summed in the smaller vector's order (a set intersection's order would follow the hash
    seed, and float sums depend on order); iterated in C: ~80k pairs a batch."""
    if len(a) > len(b):
        a, b = b, a
    common = list(filter(b.__contains__, a))
    return sum(map(mul, map(a.__getitem__, common), map(b.__getitem__, common)))


def containment(jaccard: float, na: int, nb: int) -> float:
    """Share of the smaller shingle set found in the larger, from the Jaccard estimate."""
    if na == 0 or nb == 0:
        return 0.0
    inter = jaccard * (na + nb) / (1.0 + jaccard)
    return min(1.0, inter / min(na, nb))


def pair_of(a: Feat, b: Feat, name_w: float) -> Pair:
    jac = (
        np.count_nonzero(a.minhash == b.minhash) / NUM_PERM
        if a.n_shingles and b.n_shingles
        else 0.0
    )
    days = abs(a.day - b.day) if a.day is not None and b.day is not None else None
    small, big = sorted((a.n_shingles, b.n_shingles))
    return Pair(
        a=a.id,
        b=b.id,
        cos=float(np.dot(a.vector, b.vector)),
        jaccard=jac,
        containment=containment(jac, a.n_shingles, b.n_shingles),
        size_ratio=small / big if big else 0.0,
        name_w=name_w,
        days=days,
        same_text=a.content_hash == b.content_hash,
    )


def story_scores(
    cos: Any,
    tfidf: Any,
    name_w: Any,
    days: Any,
    same_outlet: Any = False,
    params: Params = PARAMS,
    person: Any = 0.0,
    recalls_date: Any = False,
) -> np.ndarray:
    """:func:`story_score` on arrays (``days`` < 0: undated), for the evaluation's sweeps."""
    cos, tfidf, name_w, days = (np.asarray(x, dtype=float) for x in (cos, tfidf, name_w, days))
    names = np.minimum(name_w, params.name_cap) / params.name_cap
    span = max(1e-9, params.person_high - params.person_low)
    who = np.clip((np.asarray(person, dtype=float) - params.person_low) / span, 0.0, 1.0)
    s = (1 - params.tfidf_weight) * cos + params.tfidf_weight * tfidf + params.name_weight * names
    gap = np.where(days >= 0, days, params.undated_days)
    # a person bridges time: full weight from window_days apart; none for an undated pair
    bridge = np.where(days >= 0, np.clip(days / max(1, params.window_days), 0.0, 1.0), 0.0)
    s = s + params.person_weight * who * bridge
    far = params.date_weight * np.log1p(gap) / math.log1p(365)
    far = far * (1.0 - params.recall_relief * np.asarray(recalls_date, dtype=float))
    s = s - far * (1.0 - params.name_relief * names)
    s = s - params.outlet_penalty * np.asarray(same_outlet, dtype=float)
    return np.clip(s, 0.0, 1.0)


def story_score(p: Pair, params: Params = PARAMS) -> float:
    """How likely two articles report the same story, roughly 0..1.

    Embedding cosine and full-text TF-IDF cosine, plus shared rare names, minus a long-tailed
    date penalty (log of the days apart). Shared rare names can take back part of that penalty
    (``name_relief``; the dev sweep currently leaves it at 0). A follow-up weeks or months later
    (the arrest, the charges, the trial) names the same victim or suspect: a rare shared full
    person name adds up to ``person_weight`` (:func:`person_of`) to a pair dated weeks apart
    (in full from ``window_days`` on; near in time the names already count in ``name_w``, and
    an undated pair gets none: on ECB+, one person in two events of a topic is the hard
    negative). It often recalls the incident's date too ("the Jan. 5 shooting"): then the gap is explained and
    ``recall_relief`` of the date penalty is taken back (:func:`recalls_day`). A missing date
    counts as a gap of ``undated_days`` (a pair with no time evidence is less sure than a pair
    dated the same day, and much surer than one a month apart). Two pages of the same outlet lose
    ``outlet_penalty``: their shared template words and names are no evidence.
    """
    if p.scored_with is params:
        return p.story
    days = -1 if p.days is None else p.days
    return float(
        story_scores(
            p.cos, p.tfidf, p.name_w, days, p.same_outlet, params, p.person, p.recalls_date
        )
    )


def score_pairs(pairs: Sequence[Pair], params: Params = PARAMS) -> None:
    """:func:`story_score` of many pairs in one vectorised call, kept on each pair."""
    if not pairs:
        return
    cols = zip(
        *(
            (
                p.cos,
                p.tfidf,
                p.name_w,
                -1 if p.days is None else p.days,
                p.same_outlet,
                p.person,
                p.recalls_date,
            )
            for p in pairs
        ),
        strict=True,
    )
    cos, tfidf, name_w, days, outlet, person, recalls = (list(c) for c in cols)
    got = story_scores(cos, tfidf, name_w, days, outlet, params, person, recalls)
    for p, v in zip(pairs, got, strict=True):
        p.story, p.scored_with = float(v), params


def classify(p: Pair, params: Params = PARAMS) -> tuple[str, float] | None:
    """The relation a pair supports, with its score, or None."""
    if p.same_text or (p.containment >= params.dup_containment and p.size_ratio >= 0.5):
        return "duplicate_of", 1.0 if p.same_text else round(p.containment, 4)
    if p.containment >= params.rewrite_containment or p.cos >= params.rewrite_cos:
        return "rewrite_of", round(max(p.containment, p.cos), 4)
    s = story_score(p, params)
    if s >= params.story_threshold:
        return "same_story_as", round(s, 4)
    return None


def is_copy(p: Pair, params: Params = PARAMS) -> bool:
    """A copy, or a paraphrase or translation: weighs 1 in clustering, whatever else differs.

    A partial overlap (``rewrite_containment``) does not count: pages of one outlet share
    enough furniture to reach it without being about the same event.
    """
    return (
        p.same_text
        or (p.containment >= params.dup_containment and p.size_ratio >= 0.5)
        or p.cos >= params.rewrite_cos
    )


def pair_weight(p: Pair, params: Params = PARAMS) -> float:
    """A pair's weight for clustering: copies and paraphrases weigh 1, others their story score."""
    return 1.0 if is_copy(p, params) else story_score(p, params)


def assign_clusters(
    order: Sequence[Any],
    edges: dict[Any, list[tuple[Any, float]]],
    threshold: float,
    cluster_of: dict[Any, Any] | None = None,
    size: dict[Any, int] | None = None,
) -> dict[Any, Any]:
    """Incremental average linkage: a batch's new items are agglomerated among themselves and
    onto the existing clusters.

    ``edges[x]`` lists (other item, weight) for each new item x; the other item is an earlier
    new item or one already clustered (``cluster_of``, with the stored ``size`` of its
    cluster). Starting from the new items as singletons and the existing clusters as they are,
    the two groups with the highest average weight between their members merge, as long as
    that average reaches ``threshold``; two existing clusters never merge (stored assignments
    are not rewritten). Members that are not among each other's candidates count as 0, so one
    close match cannot pull an article into a big unrelated cluster, and one loose link cannot
    chain two stories together (single linkage would). Agglomerating the batch first lets the
    new reports of one event find each other before any of them is compared with a similar
    older cluster (the second event of the same kind). A batch of one is the greedy rule: the
    item joins the cluster it matches best on average. A new cluster is named after its first
    member in ``order``.
    """
    cluster_of = dict(cluster_of or {})
    stored: Counter[Any] = Counter(size or {})
    rank = {x: i for i, x in enumerate(order)}
    # groups: ("n", rank) for a new item, ("o", cluster) for an existing cluster
    group: dict[Any, tuple[str, Any]] = {x: ("n", i) for x, i in rank.items()}
    n_of: dict[tuple[str, Any], int] = {g: 1 for g in group.values()}
    sums: dict[tuple[str, Any], dict[tuple[str, Any], float]] = defaultdict(dict)

    def link(g: tuple[str, Any], h: tuple[str, Any], w: float) -> None:
        sums[g][h] = sums[g].get(h, 0.0) + w
        sums[h][g] = sums[h].get(g, 0.0) + w

    for x in order:
        gx = group[x]
        seen: set[Any] = set()
        for y, w in edges.get(x, ()):
            if y == x or y in seen:
                continue
            seen.add(y)
            if y in rank:
                if rank[y] < rank[x]:  # a pair inside the batch counts once
                    link(gx, group[y], w)
            elif y in cluster_of:
                c = cluster_of[y]
                gy = ("o", c)
                if gy not in n_of:
                    n_of[gy] = max(stored[c], 1)
                link(gx, gy, w)
    heap = [
        (-v / (n_of[g] * n_of[h]), g, h) for g, row in sums.items() for h, v in row.items() if g < h
    ]
    heapq.heapify(heap)
    parent: dict[tuple[str, Any], tuple[str, Any]] = {}
    while heap:
        neg, g, h = heapq.heappop(heap)
        if -neg < threshold:
            break
        if g in parent or h in parent or g[0] == h[0] == "o":
            continue
        if -neg != sums[g].get(h, 0.0) / (n_of[g] * n_of[h]):
            continue  # stale: one of the two has grown since
        keep, gone = (h, g) if g[0] == "n" and (h[0] == "o" or h < g) else (g, h)
        parent[gone] = keep
        n_of[keep] += n_of[gone]
        row = sums.pop(gone)
        row.pop(keep, None)
        sums[keep].pop(gone, None)
        for other, v in row.items():
            sums[other].pop(gone, None)
            link(keep, other, v)
        for other, v in sums[keep].items():
            if other in parent:
                continue
            if keep[0] == other[0] == "o":
                continue
            a, b = (keep, other) if keep < other else (other, keep)
            heapq.heappush(heap, (-v / (n_of[a] * n_of[b]), a, b))

    def root(g: tuple[str, Any]) -> tuple[str, Any]:
        while g in parent:
            g = parent[g]
        return g

    for x in order:
        r = root(group[x])
        cluster_of[x] = r[1] if r[0] == "o" else order[r[1]]
    return cluster_of


# -- reading and writing the store -------------------------------------------------------------


def _load_new(store: Store, ids: Sequence[str]) -> list[dict[str, Any]]:
    a = schema.articles
    rows: list[dict[str, Any]] = []
    with store.read() as conn:
        for part in in_chunks(list(ids)):
            q = select(
                a.c.id, a.c.seq, a.c.title, a.c.text, a.c.pub_date, a.c.content_hash, a.c.supersedes
            ).where(a.c.id.in_(list(part)))
            rows += [dict(r) for r in conn.execute(q).mappings()]
    return rows


def _stored_vectors(conn: Connection, ids: Sequence[str]) -> dict[str, np.ndarray]:
    e = schema.embeddings
    out: dict[str, np.ndarray] = {}
    for part in in_chunks(list(ids)):
        q = select(e.c.article_id, e.c.vector).where(
            e.c.article_id.in_(list(part)), e.c.model == embed.MODEL_NAME
        )
        out.update((r.article_id, embed.from_blob(r.vector)) for r in conn.execute(q))
    return out


def vector_index(
    store: Store, conn: Connection
) -> tuple[embed.VectorIndex | pgvector.PgVectorIndex, int]:
    """The store's ANN index, in step with its ``embeddings`` table, and how many vectors that
    holds: pgvector's table where the server has it (written in this transaction), else the
    in-process usearch index (saved after the transaction commits)."""
    index: embed.VectorIndex | pgvector.PgVectorIndex
    if store.dialect == "postgresql" and pgvector.enable(conn):
        index = pgvector.PgVectorIndex(conn)
    else:
        index = embed.index_for(store.location, store.dialect)
    n_vec = int(conn.execute(select(func.count()).select_from(schema.embeddings)).scalar_one())
    index.sync(n_vec, lambda: _all_vectors(conn))
    return index, n_vec


def _all_vectors(conn: Connection) -> tuple[np.ndarray, np.ndarray]:
    e, a = schema.embeddings, schema.articles
    q = select(a.c.seq, e.c.vector).join(a, a.c.id == e.c.article_id)
    keys, vecs = [], []
    for r in conn.execute(q):
        keys.append(r.seq)
        vecs.append(embed.from_blob(r.vector))
    if not keys:
        return np.zeros(0, dtype=np.uint64), np.zeros((0, embed.DIM), dtype=np.float32)
    return np.asarray(keys, dtype=np.uint64), np.stack(vecs)


def _load_feats(conn: Connection, ids: Sequence[str]) -> dict[str, Feat]:
    a, e = schema.articles, schema.embeddings
    out: dict[str, Feat] = {}
    for part in in_chunks(list(ids)):
        q = (
            select(
                a.c.id,
                a.c.seq,
                a.c.pub_date,
                a.c.content_hash,
                a.c.supersedes,
                e.c.vector,
                e.c.minhash,
                e.c.n_shingles,
                e.c.terms,
                e.c.names,
            )
            .join(e, e.c.article_id == a.c.id)
            .where(a.c.id.in_(list(part)))
        )
        for r in conn.execute(q):
            out[r.id] = f = Feat(
                id=r.id,
                seq=r.seq,
                day=day_of(r.pub_date),
                content_hash=r.content_hash,
                vector=embed.from_blob(r.vector),
                minhash=np.frombuffer(r.minhash, dtype="<u8")
                if r.minhash
                else np.zeros(NUM_PERM, dtype=np.uint64),
                n_shingles=r.n_shingles or 0,
                supersedes=r.supersedes,
            )
            if r.terms is not None and r.names is not None:
                f.terms, f.names, f.stored = dict(r.terms), set(r.names), True
    return out


def _ids_by_keys(conn: Connection, kind: str, keys: Sequence[str]) -> list[tuple[str, str]]:
    k = schema.link_keys
    out: list[tuple[str, str]] = []
    for part in in_chunks(list(keys)):
        q = select(k.c.key, k.c.article_id).where(k.c.kind == kind, k.c.key.in_(list(part)))
        out += [(r.key, r.article_id) for r in conn.execute(q)]
    return out


def _doc_freq(conn: Connection, names: Sequence[str]) -> dict[str, int]:
    """How many stored articles hold each name (``key_df``: no counting of key rows)."""
    k = schema.key_df
    out: dict[str, int] = {}
    for part in in_chunks(list(names)):
        q = select(k.c.key, k.c.df).where(k.c.kind == "name", k.c.key.in_(list(part)))
        out.update((r.key, int(r.df)) for r in conn.execute(q))
    return out


def _names_of_ids(conn: Connection, ids: Sequence[str]) -> dict[str, set[str]]:
    k = schema.link_keys
    out: dict[str, set[str]] = defaultdict(set)
    for part in in_chunks(list(ids)):
        q = select(k.c.article_id, k.c.key).where(
            k.c.kind == "name", k.c.article_id.in_(list(part))
        )
        for r in conn.execute(q):
            out[r.article_id].add(r.key)
    return out


_a = schema.articles
# the ANN index's hits, read in the covering index (seq, id, pub_date): no article row
SEQ_HITS = select(_a.c.seq, _a.c.id, _a.c.pub_date).where(
    _a.c.seq.in_(bindparam("seqs", expanding=True))
)


def _hits_by_seq(conn: Connection, seqs: Iterable[int]) -> dict[int, tuple[str, int | None]]:
    """Article seq (the ANN index's key) -> (id, publication day)."""
    out: dict[int, tuple[str, int | None]] = {}
    for part in in_chunks(sorted(set(seqs))):
        rows = conn.execute(SEQ_HITS, {"seqs": list(part)})
        out.update((r.seq, (r.id, day_of(r.pub_date))) for r in rows)
    return out


def _count_terms(conn: Connection, dialect: str, docs: Sequence[dict[str, float]]) -> None:
    """Add these articles' words to the document frequencies (one upsert per distinct word)."""
    _add_df(conn, dialect, schema.term_df, {}, "term", Counter(w for t in docs for w in t))


def _count_keys(conn: Connection, dialect: str, docs: Sequence[set[str]]) -> None:
    """Add these articles' names to ``key_df`` (one upsert per distinct name)."""
    _add_df(
        conn, dialect, schema.key_df, {"kind": "name"}, "key", Counter(n for d in docs for n in d)
    )


def _add_df(
    conn: Connection, dialect: str, t: Any, fixed: dict[str, str], col: str, df: Counter[str]
) -> None:
    """``df += count`` per key of a document-frequency table, inserting the keys it lacks."""
    if not df:
        return
    stmt = _upsert(dialect)(t)
    stmt = stmt.on_conflict_do_update(
        index_elements=[t.c[c] for c in (*fixed, col)], set_={"df": t.c.df + stmt.excluded.df}
    )
    # one statement run over many rows: a multi-row VALUES would be compiled anew per batch size
    rows = [{**fixed, col: k, "df": c} for k, c in sorted(df.items())]
    for part in in_chunks(rows, 5000):
        conn.execute(stmt, list(part))


def _upsert(dialect: str) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    return upsert


def _idf(conn: Connection, terms: Iterable[str], n_total: int) -> dict[str, float]:
    t = schema.term_df
    out: dict[str, float] = {}
    for part in in_chunks(sorted(set(terms)), 900):
        for r in conn.execute(select(t.c.term, t.c.df).where(t.c.term.in_(list(part)))):
            out[r.term] = math.log((n_total + 1) / (r.df + 1)) + 1.0
    return out


def _texts(conn: Connection, ids: Sequence[str]) -> dict[str, str]:
    a = schema.articles
    out: dict[str, str] = {}
    for part in in_chunks(list(ids)):
        out.update(
            (r.id, r.text)
            for r in conn.execute(select(a.c.id, a.c.text).where(a.c.id.in_(list(part))))
        )
    return out


def _outlets(conn: Connection, ids: Sequence[str]) -> dict[str, str]:
    """Article id -> outlet, lower-cased (articles without one are left out)."""
    a = schema.articles
    out: dict[str, str] = {}
    for part in in_chunks(list(ids)):
        q = select(a.c.id, a.c.outlet).where(a.c.id.in_(list(part)), a.c.outlet.is_not(None))
        out.update((r.id, r.outlet.strip().lower()) for r in conn.execute(q) if r.outlet.strip())
    return out


def _order_key(f: Feat) -> tuple[int, int]:
    return (f.day if f.day is not None else 10**9, f.seq)


def _earlier(x: Feat, y: Feat) -> bool:
    """Whether x came first (by date when both are dated and differ, else by insertion)."""
    if x.day is not None and y.day is not None and x.day != y.day:
        return x.day < y.day
    return x.seq < y.seq


def link_articles(
    store: Store,
    article_ids: Sequence[str],
    *,
    embedder: embed.Embedder | None = None,
    params: Params = PARAMS,
    collect: list[Pair] | None = None,
    vectors: Mapping[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Find copies, rewrites and same-story reports of these articles; write ``relations``.

    Returns counts per relation kind. ``collect``, when given, receives every candidate pair's
    evidence (the evaluation uses it to tune thresholds without re-linking). ``vectors``: the
    articles' passage vectors where the workers already computed them (the rest are embedded
    here).
    """
    ids = list(dict.fromkeys(article_ids))
    rows = _load_new(store, ids)
    counts: dict[str, int] = {"articles": len(rows), "candidates": 0}
    if not rows:
        return counts
    embedder = embedder or embed.embed_texts
    k, e, r = schema.link_keys, schema.embeddings, schema.relations
    with store.read() as conn:
        have = _stored_vectors(conn, [row["id"] for row in rows])
    fresh = {row["id"] for row in rows if row["id"] not in have}  # not counted in term_df yet
    if vectors:
        have.update((i, vectors[i]) for i in fresh if i in vectors)
    todo = [row for row in rows if row["id"] not in have]
    if todo:
        texts = [embed.passage(row["title"], row["text"]) for row in todo]
        vecs = embed.passage_vectors(texts, embedder)
        have.update((row["id"], v) for row, v in zip(todo, vecs, strict=True))
    new: dict[str, Feat] = {}
    for row in rows:
        sh = shingles(row["text"])
        new[row["id"]] = Feat(
            id=row["id"],
            seq=row["seq"],
            day=day_of(row["pub_date"]),
            content_hash=row["content_hash"],
            vector=have[row["id"]],
            minhash=minhash_of(sh),
            n_shingles=len(sh),
            names=names_of(row["title"], row["text"]),
            terms=terms_of(row["text"]),
            supersedes=row["supersedes"],
            recalled=recalled_days(row["text"], day_of(row["pub_date"])),
        )
    order = sorted(new.values(), key=_order_key)
    with store.transaction() as conn:
        store.lock_linking(conn)
        index, n_vec = vector_index(store, conn)
        for part in in_chunks(ids):
            conn.execute(delete(k).where(k.c.article_id.in_(list(part))))
            conn.execute(delete(e).where(e.c.article_id.in_(list(part))))
            conn.execute(delete(r).where(r.c.article_id.in_(list(part))))
            conn.execute(delete(r).where(r.c.other_id.in_(list(part))))
        conn.execute(
            insert(e),
            [
                {
                    "article_id": f.id,
                    "model": embed.MODEL_NAME,
                    "vector": embed.to_blob(f.vector),
                    "minhash": f.minhash.astype("<u8").tobytes(),
                    "n_shingles": f.n_shingles,
                    "terms": f.terms,
                    "names": sorted(f.names),
                }
                for f in order
            ],
        )
        key_rows = [
            {"kind": "lsh", "key": key, "article_id": f.id}
            for f in order
            if f.n_shingles
            for key in lsh_keys(f.minhash)
        ] + [{"kind": "name", "key": n, "article_id": f.id} for f in order for n in f.names]
        for part in in_chunks(key_rows, 5000):
            conn.execute(insert(k), list(part))
        _count_terms(conn, store.dialect, [f.terms for f in order if f.id in fresh])
        _count_keys(conn, store.dialect, [f.names for f in order if f.id in fresh])
        seqs = np.asarray([f.seq for f in order], dtype=np.uint64)
        index.remove(seqs)
        index.add(seqs, np.stack([f.vector for f in order]))

        n_now = n_vec + sum(1 for f in order if f.id in fresh)
        loaded: dict[str, Feat] = {}
        pairs = _candidate_pairs(conn, order, index, params, n_now, loaded)
        score_pairs(pairs, params)
        counts["candidates"] = len(pairs)
        if collect is not None:
            collect.extend(pairs)
        rel_rows = _relations(pairs, new, params, conn, loaded)
        for part in in_chunks(rel_rows, 5000):
            conn.execute(insert(r), list(part))
        clusters = _assign(conn, order, pairs, params)
        counts["clusters_joined"] = sum(1 for f in order if clusters[f.id] != f.id)
    index.save()
    for row in rel_rows:
        if row["article_id"] in new:
            counts[row["kind"]] = counts.get(row["kind"], 0) + 1
    log.info("linked %d articles: %s", len(rows), counts)
    return counts


def _candidate_pairs(
    conn: Connection,
    order: list[Feat],
    index: embed.VectorIndex | pgvector.PgVectorIndex,
    params: Params,
    n_total: int,
    loaded: dict[str, Feat] | None = None,
) -> list[Pair]:
    """Blocking: LSH buckets, rare shared names, and dated vector neighbours.

    ``loaded``, when given, receives the candidates' features (read once per batch)."""
    n_total = max(1, n_total)
    new_ids = {f.id for f in order}
    all_names = sorted({n for f in order for n in f.names})
    df = _doc_freq(conn, all_names)
    rare = [n for n in all_names if df.get(n, 0) <= MAX_DF]
    idf = {n: math.log1p(n_total / max(1, df.get(n, 1))) for n in all_names}
    top_idf = math.log1p(n_total)  # the idf of a name held by one article
    by_name: dict[str, list[str]] = defaultdict(list)
    for key, aid in _ids_by_keys(conn, "name", rare):
        by_name[key].append(aid)
    by_bucket: dict[str, list[str]] = defaultdict(list)
    all_buckets = sorted({b for f in order if f.n_shingles for b in lsh_keys(f.minhash)})
    for key, aid in _ids_by_keys(conn, "lsh", all_buckets):
        if len(by_bucket[key]) < MAX_PER_BUCKET:  # 500 copies of one wire story: a sample will do
            by_bucket[key].append(aid)
    hits = index.search(np.stack([f.vector for f in order]), params.ann_k + 1)
    by_seq = _hits_by_seq(conn, (s for row in hits for s, _ in row))

    # new id -> its candidates in the order found (LSH, then names, then vectors): a dict as
    # an ordered set
    cand: dict[str, dict[str, None]] = {}
    for f, near in zip(order, hits, strict=True):
        c: dict[str, None] = {}
        if f.n_shingles:
            bucket_hits = Counter(
                chain.from_iterable(by_bucket.get(b, ()) for b in lsh_keys(f.minhash))
            )
            c.update(dict.fromkeys(aid for aid, _n in bucket_hits.most_common(MAX_CANDIDATES)))
        name_hits: dict[str, float] = defaultdict(float)
        for n in sorted(f.names):  # not set order: the hash seed would pick the cap's ties
            if n in by_name:
                for aid in by_name[n]:
                    name_hits[aid] += idf[n]
        top = sorted(name_hits.items(), key=lambda x: -x[1])[:MAX_CANDIDATES]
        c.update(dict.fromkeys(aid for aid, _w in top))
        c.update(
            dict.fromkeys(
                by_seq[s][0]
                for s, _cos in near
                if s in by_seq and not _far(f.day, by_seq[s][1], params)
            )
        )
        c.pop(f.id, None)
        cand[f.id] = c

    need = sorted({aid for c in cand.values() for aid in c} - new_ids)
    feats = {f.id: f for f in order}
    feats.update(_load_feats(conn, need))
    if loaded is not None:
        loaded.update(feats)
    old = [aid for aid in need if aid in feats and not feats[aid].stored]  # linked before v2
    names = _names_of_ids(conn, old)
    texts = _texts(conn, old)
    for aid in old:
        feats[aid].names = names.get(aid, set())
        feats[aid].terms = terms_of(texts.get(aid, ""))
    term_idf = _idf(conn, (w for f in feats.values() for w in f.terms), n_total)
    outlet = _outlets(conn, sorted(feats))
    min_idf = 1.0 + math.log(1.0 / params.max_term_share)  # _idf's value at that share
    tfidf = {aid: tfidf_vector(f.terms, term_idf, min_idf) for aid, f in feats.items()}
    pos = {f.id: i for i, f in enumerate(order)}
    pairs: list[Pair] = []
    for f in order:
        for aid in cand[f.id]:
            g = feats.get(aid)
            if g is None:
                continue
            if aid in pos and pos[aid] > pos[f.id]:
                continue  # a pair inside the batch is scored once, from the later article
            if g.supersedes == f.id or f.supersedes == g.id:
                continue  # a new version of the same source, not another report
            shared = f.names & g.names
            name_w = sum(idf[n] for n in sorted(shared))  # a float sum: in a fixed order
            p = pair_of(f, g, name_w)
            p.tfidf = sparse_cos(tfidf[f.id], tfidf[aid])
            p.person = person_of(shared, idf, top_idf)
            p.recalls_date = recalls_day(g, f) if _earlier(f, g) else recalls_day(f, g)
            p.same_outlet = outlet.get(f.id) is not None and outlet.get(f.id) == outlet.get(aid)
            pairs.append(p)
    return pairs


def _far(day: int | None, other: int | None, params: Params) -> bool:
    """A vector neighbour outside the date window: not a candidate. In a big archive most
    neighbours are look-alike stories of other years; a report of the same story months
    later shares a rare name with it, and the name look-up finds it at any distance."""
    return day is not None and other is not None and abs(day - other) > params.window_days


def _relations(
    pairs: list[Pair],
    new: dict[str, Feat],
    params: Params,
    conn: Connection,
    known: dict[str, Feat] | None = None,
) -> list[dict[str, Any]]:
    """Rows for ``relations``: the best few per new article, directed from copy to original."""
    by_article: dict[str, list[tuple[float, str, str, str]]] = defaultdict(list)
    feats = {**(known or {}), **new}
    need = {p.b for p in pairs if p.b not in feats}
    feats.update(_load_feats(conn, sorted(need)))
    for p in pairs:
        rel = classify(p, params)
        if rel is None:
            continue
        kind, score = rel
        fa, fb = feats[p.a], feats[p.b]
        late, early = (fa, fb) if _earlier(fb, fa) else (fb, fa)
        by_article[p.a].append((score, kind, late.id, early.id))
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for _aid, rels in by_article.items():
        rels.sort(key=lambda x: (-(1.0 if x[1] != "same_story_as" else 0.0), -x[0]))
        for score, kind, late, early in rels[: params.max_relations]:
            if kind == "same_story_as":
                for x, y in ((late, early), (early, late)):
                    rows[(x, y, kind)] = {
                        "article_id": x,
                        "other_id": y,
                        "kind": kind,
                        "score": score,
                    }
            else:
                rows[(late, early, kind)] = {
                    "article_id": late,
                    "other_id": early,
                    "kind": kind,
                    "score": score,
                }
    return list(rows.values())


SET_CLUSTER = (
    update(schema.articles)
    .where(schema.articles.c.id == bindparam("aid"))
    .values(cluster_id=bindparam("cid"))
)


def _assign(
    conn: Connection, order: list[Feat], pairs: list[Pair], params: Params
) -> dict[str, str]:
    """Put each new article in a same-event cluster and store it as ``articles.cluster_id``."""
    a = schema.articles
    new_ids = [f.id for f in order]
    edges: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for p in pairs:
        edges[p.a].append((p.b, pair_weight(p, params)))
    others = sorted({p.b for p in pairs} - set(new_ids))
    cluster_of: dict[str, str] = {}
    for part in in_chunks(others):
        q = select(a.c.id, a.c.cluster_id).where(a.c.id.in_(list(part)))
        cluster_of.update((row.id, row.cluster_id or row.id) for row in conn.execute(q))
    size: dict[str, int] = {c: 1 for c in cluster_of.values()}
    cids = sorted(set(cluster_of.values()))
    for part in in_chunks(cids):
        q = (
            select(a.c.cluster_id, func.count())
            .where(a.c.cluster_id.in_(list(part)), a.c.id.notin_(new_ids))
            .group_by(a.c.cluster_id)
        )
        size.update((row[0], int(row[1])) for row in conn.execute(q))
    out = assign_clusters(new_ids, edges, params.cluster_threshold, cluster_of, size)
    if new_ids:  # one statement, not one per cluster (a round trip each on PostgreSQL)
        conn.execute(SET_CLUSTER, [{"aid": x, "cid": out[x]} for x in new_ids])
    # an older article that founded a cluster before clusters were stored gets its own id
    founders = sorted({out[x] for x in new_ids} - set(new_ids))
    conn.execute(
        update(a).where(a.c.id.in_(founders), a.c.cluster_id.is_(None)).values(cluster_id=a.c.id)
    )
    return out


def story_clusters(store: Store) -> dict[str, str]:
    """Article id -> same-event cluster id (the id of the cluster's first article)."""
    a = schema.articles
    with store.read() as conn:
        return {
            row.id: row.cluster_id or row.id
            for row in conn.execute(select(a.c.id, a.c.cluster_id).order_by(a.c.seq))
        }
