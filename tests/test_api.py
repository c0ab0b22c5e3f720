"""The Python API a notebook user sees: typed records and DataFrames over a real store."""

from __future__ import annotations

import pytest
from conftest import DEMO

import storyline

pytestmark = pytest.mark.model


def test_api_round_trip(tmp_path):
    with storyline.open(tmp_path / "news.db") as sl:
        report = sl.ingest([DEMO])
        assert len(report.added) == 5
        arts = list(sl.articles())
        assert all(isinstance(a, storyline.Article) for a in arts)
        assert {a.pub_date_source for a in arts} <= {"text", "inferred", "unknown", "metadata"}
        one = sl.article(arts[0].id[:8])  # a unique prefix is enough
        assert one.text == arts[0].text
        assert sl.search("Samarkand")
        entries = sl.timeline(show_all=True, limit=None)
        assert entries and entries == sorted(entries, key=lambda e: e.date or "9999")
        events = sl.events()
        assert {e["id"] for e in events} >= {e.id for e in entries}
        putin = sl.quotes(speaker="putin")
        assert putin and all("putin" in q["speaker"].lower() for q in putin)
        df = sl.dataframe("articles")
        assert list(df["id"]) == [a.id for a in arts]
        assert len(sl.dataframe("timeline")) == len(entries)
        with pytest.raises(ValueError):
            sl.dataframe("nonsense")
    with pytest.raises(storyline.NotFound):
        storyline.open(tmp_path / "news.db", read_only=True).article("doesnotexist")
