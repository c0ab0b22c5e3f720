"""The link stage: match new articles against what the store holds.

Order matters: entities first (events and quotes refer to them), then the events of dated
articles, then dating the undated articles from those events, then their events, then quote
utterances and stories. Everything runs in one transaction: a batch is linked whole or not at
all.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import update

from ..store import Store, schema
from .articles import link_articles  # module-level, so tests of the later steps can stub it out

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)


def link_new(
    store: Store,
    article_ids: Sequence[str],
    progress: bool = False,
    vectors: Mapping[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Link the given new articles into entities, events, utterances and stories.

    ``vectors``: passage vectors the workers computed for some of them (see
    ``pipeline.process_docs(..., embed=True)``); the others are embedded here."""
    from ..tell.stories import link_stories
    from .dating import date_articles
    from .entities import link_entities
    from .events import link_events
    from .utterances import link_utterances

    ids = list(article_ids)
    report: dict[str, Any] = {}
    if link_articles is not None:  # None only where a test leaves article relations out
        report["articles"] = link_articles(store, ids, vectors=vectors)
    with store.transaction() as conn:
        store.lock_linking(conn)
        index = link_entities(conn, ids)
        touched = link_events(conn, ids, index, need_date=True)
        dated: dict[str, dict[str, Any]] = {}
        pending = ids
        while pending:  # a newly dated article's events may date the next one
            got = date_articles(conn, pending, index)
            dated.update(got)
            newly = [a for a, v in got.items() if v["date"]]
            if not newly:
                break
            touched |= link_events(conn, newly, index)
            pending = [a for a, v in got.items() if not v["date"]]
        touched |= link_events(conn, ids, index)
        n_utt = link_utterances(conn, ids, index)
        stories = link_stories(conn, touched)
        a = schema.articles
        conn.execute(update(a).where(a.c.id.in_(ids)).values(linked=True))
    report.update(
        entities=len(set(index.names)),
        events=len(touched),
        dated={k: v["date"] for k, v in dated.items()},
        utterances=n_utt,
        stories=sorted(stories),
    )
    return report
