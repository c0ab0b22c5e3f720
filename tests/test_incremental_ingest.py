"""An ingest links as it goes, and picks up articles an earlier ingest stored but did not link."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from storyline import pipeline
from storyline.pipeline import ingest, merge_link_reports
from storyline.store import schema

pytestmark = pytest.mark.model

TEXT = (
    "{who} met {other} in {city} on Monday, officials said. The two leaders discussed trade "
    "and security, and {who} said the talks were useful."
)


def _write(folder, n: int, start: int = 0) -> None:
    people = ["Angela Merkel", "Emmanuel Macron", "Justin Trudeau", "Narendra Modi", "Joe Biden"]
    cities = ["Berlin", "Paris", "Ottawa", "Delhi", "Washington"]
    folder.mkdir(exist_ok=True)
    for i in range(start, start + n):
        body = TEXT.format(who=people[i % 5], other=people[(i + 1) % 5], city=cities[i % 5])
        (folder / f"{i:02d}.txt").write_text(f"2024-03-{i + 1:02d}\n\n{body}\n", encoding="utf-8")


def _unlinked(store) -> int:
    a = schema.articles
    with store.read() as conn:
        return conn.execute(select(func.count()).where(a.c.linked.is_(False))).scalar_one()


def test_a_long_ingest_links_in_parts(store, tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "LINK_EVERY", 2)
    monkeypatch.setattr(pipeline, "POOL_THRESHOLD", 10**6)  # in-process: the patch holds
    monkeypatch.setattr(pipeline, "BATCH_SIZE", 2)
    _write(tmp_path / "in", 5)
    calls = []
    real = __import__("storyline.link", fromlist=["link_new"]).link_new

    given = []

    def counting(store_, ids, progress=False, vectors=None):
        calls.append(list(ids))
        given.append(set(vectors or ()))
        return real(store_, ids, progress, vectors)

    monkeypatch.setattr("storyline.link.link_new", counting)
    report = ingest(store, [str(tmp_path / "in")], progress=False)
    assert len(report.added) == 5
    assert [len(c) for c in calls] == [2, 2, 1]  # linked while reading, the rest at the end
    # the workers embedded every article: the linker is handed their vectors, not the texts
    assert given == [set(c) for c in calls]
    assert _unlinked(store) == 0
    assert report.linked["events"] >= 1


def test_articles_stored_without_linking_are_linked_by_the_next_ingest(any_store, tmp_path):
    store = any_store  # the whole link stage, on SQLite and on PostgreSQL
    _write(tmp_path / "a", 3)
    first = ingest(store, [str(tmp_path / "a")], link=False, progress=False)
    assert len(first.added) == 3 and _unlinked(store) == 3
    _write(tmp_path / "b", 2, start=3)
    second = ingest(store, [str(tmp_path / "b")], progress=False)
    assert len(second.added) == 2
    assert _unlinked(store) == 0
    with store.read() as conn:
        linked = conn.execute(
            select(func.count(func.distinct(schema.event_mentions.c.article_id))).where(
                schema.event_mentions.c.event_id.is_not(None)
            )
        ).scalar_one()
    assert linked >= 4  # the first ingest's articles took part in linking


def test_link_reports_of_parts_add_up():
    total: dict = {}
    merge_link_reports(total, {"events": 2, "stories": ["st-a"], "dated": {"x": "2024-01-01"}})
    merge_link_reports(total, {"events": 3, "stories": ["st-b", "st-a"], "dated": {"y": None}})
    assert total == {
        "events": 5,
        "stories": ["st-a", "st-b"],
        "dated": {"x": "2024-01-01", "y": None},
    }
