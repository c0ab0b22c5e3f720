"""Dating undated articles from dated reports of the same story (storyline/link/dating.py).

Annotation records are written straight into a real SQLite store, with the same-story relations
that link/articles.py would compute, so these test the dating step alone.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import insert, select
from test_link import make as _make
from test_link import timex

from storyline.link import dating, link_new
from storyline.records import Annotations, Article
from storyline.store import schema


@pytest.fixture(autouse=True)
def _no_article_linking(monkeypatch):
    """Relations are written by hand here; the embedding-based linker is not under test."""
    monkeypatch.setattr("storyline.link.link_articles", None)


def make(aid: str, sentences: list[str], pub_date: str | None) -> tuple[Article, Annotations]:
    return _make(aid, sentences, pub_date, outlet="Local")


def store_with(store, dated: list[tuple], undated: tuple, score: float = 0.6) -> str:
    """Store the dated reports, then the undated one related to each as the same story; link."""
    with store.transaction() as conn:
        store.add_articles(conn, dated)
    link_new(store, [a.id for a, _ in dated])
    aid = undated[0].id
    with store.transaction() as conn:
        store.add_articles(conn, [undated])
        for art, _ in dated:
            for x, y in ((aid, art.id), (art.id, aid)):
                conn.execute(
                    insert(schema.relations).values(
                        article_id=x, other_id=y, kind="same_story_as", score=score
                    )
                )
    link_new(store, [aid])
    return aid


def article(store, aid: str) -> dict:
    a = schema.articles
    with store.read() as conn:
        return dict(conn.execute(select(a).where(a.c.id == aid)).mappings().one())


def shooting(aid: str, pub: str, sentence: str, when: str, value: str, sym: str) -> tuple:
    art, ann = make(aid, [sentence, "Police said the investigation continues."], pub)
    timex(ann, when, value, symbolic=sym)
    return art, ann


def undated(aid: str, sentences: list[str], clues: list[tuple[int, str, str]]) -> tuple:
    """An undated article; each clue is (sentence, text, symbolic) of an unanchored timex."""
    art, ann = make(aid, sentences, None)
    for i, text, sym in clues:
        timex(ann, text, "XXXX-XX-XX", sentence=i, anchored=False, symbolic=sym)
    return art, ann


REPORT = shooting(
    "report",
    "2016-05-08",  # a Sunday
    "A man was shot Saturday night on Elm Street in Springfield, police said.",
    "Saturday night",
    "2016-05-07TNI",
    "DCT<WD6|TNI",
)


def test_weekday_is_the_day_a_same_story_report_names(store):
    aid = store_with(
        store,
        [REPORT],
        undated(
            "later",
            ["Springfield police are investigating after a man was shot on Elm Street Saturday."],
            [(0, "Saturday", "DCT<WD6")],
        ),
    )
    a = article(store, aid)
    assert a["pub_date"] == "2016-05-07" and a["pub_date_source"] == "inferred"
    assert "'Saturday' = 'Saturday night' (2016-05-07)" in a["pub_date_evidence"]
    assert "report of the same story" in a["pub_date_evidence"]
    tt = schema.timexes
    with store.read() as conn:
        tx = conn.execute(select(tt).where(tt.c.article_id == aid)).mappings().one()
    assert tx["anchored"] and tx["value"] == "2016-05-07"


def test_weekday_in_an_unrelated_sentence_stays_unknown(store):
    aid = store_with(
        store,
        [REPORT],
        undated("other", ["The school board met Saturday."], [(0, "Saturday", "DCT<WD6")]),
    )
    a = article(store, aid)
    assert a["pub_date"] is None
    assert "no weekday here matches a named day" in a["pub_date_evidence"]


def test_no_same_story_report_gives_a_reason(store):
    art, ann = undated(
        "alone", ["A man was shot on Elm Street Saturday."], [(0, "Saturday", "DCT<WD6")]
    )
    with store.transaction() as conn:
        store.add_articles(conn, [(art, ann)])
    link_new(store, ["alone"])
    a = article(store, "alone")
    assert a["pub_date"] is None and "no dated report of the same story" in a["pub_date_evidence"]


def test_past_month_day_after_the_candidate_vetoes_it(store):
    aid = store_with(
        store,
        [REPORT],
        undated(
            "followup",
            [
                "Springfield police say a man was shot on Elm Street Saturday.",
                "A suspect was arrested on June 13.",
            ],
            [(0, "Saturday", "DCT<WD6"), (1, "June 13", "DCTpM06-13")],
        ),
    )
    a = article(store, aid)
    assert a["pub_date"] is None
    assert "conflicting" in a["pub_date_evidence"] and "'June 13' (tense)" in a["pub_date_evidence"]


def test_a_scheduled_date_does_not_veto(store):
    aid = store_with(
        store,
        [REPORT],
        undated(
            "scheduled",
            [
                "Springfield police say a man was shot on Elm Street Saturday.",
                "The suspect is scheduled to appear in court June 13.",
            ],
            [(0, "Saturday", "DCT<WD6"), (1, "June 13", "DCTpM06-13")],
        ),
    )
    assert article(store, aid)["pub_date"] == "2016-05-07"


def test_two_reports_naming_different_saturdays_are_ambiguous(store):
    other = shooting(
        "report2",
        "2016-05-15",
        "A man was shot Saturday night on Elm Street in Springfield, police said.",
        "Saturday night",
        "2016-05-14TNI",
        "DCT<WD6|TNI",
    )
    aid = store_with(
        store,
        [REPORT, other],
        undated(
            "which",
            ["Springfield police are investigating after a man was shot on Elm Street Saturday."],
            [(0, "Saturday", "DCT<WD6")],
        ),
    )
    a = article(store, aid)
    assert a["pub_date"] is None and "ambiguous" in a["pub_date_evidence"]


def test_yesterday_needs_much_agreement(store):
    resign = "Mayor John Smith resigned Monday after the council vote on the budget scandal at City Hall."
    dated = shooting("resign", "2016-05-10", resign, "Monday", "2016-05-09", "DCT<WD1")
    strong = undated(
        "strong",
        [resign.replace("Monday", "yesterday")],
        [(0, "yesterday", "DCT@D-1")],
    )
    aid = store_with(store, [dated], strong)
    assert article(store, aid)["pub_date"] == "2016-05-10"


def test_yesterday_with_little_agreement_stays_unknown(store):
    resign = "Mayor John Smith resigned Monday after the council vote on the budget scandal."
    dated = shooting("resign", "2016-05-10", resign, "Monday", "2016-05-09", "DCT<WD1")
    weak = undated("weak", ["Smith resigned yesterday."], [(0, "yesterday", "DCT@D-1")])
    aid = store_with(store, [dated], weak)
    assert article(store, aid)["pub_date"] is None


# -------------------------------------------------------------------------- pure functions


def tx(text: str, sym: str | None, value: str = "XXXX-XX-XX", anchored: bool = False) -> dict:
    return {"text": text, "symbolic": sym, "value": value, "anchored": anchored}


def test_weekday_clues_and_named_days():
    assert dating.weekday_clue(tx("Saturday night", "DCT<WD6|TNI"))
    assert dating.weekday_clue(tx("10 a.m. Thursday", "DCT<WD4|T10:00"))
    assert not dating.weekday_clue(tx("Thursday, May 2", "DCT~M05-02"))
    assert not dating.weekday_clue(tx("the weekend", "DCT<WD6|WE"))
    assert not dating.weekday_clue(tx("Saturday", "DCT<WD6", "2016-05-07", anchored=True))
    assert dating.named_day(tx("Tuesday", "DCT<WD2", "2016-05-03", True)) == date(2016, 5, 3)
    assert dating.named_day(tx("Sept. 1", None, "2016-09-01", True)) == date(2016, 9, 1)
    assert dating.named_day(tx("this morning", "DCT@D+0|TMO", "2016-05-03TMO", True))
    assert dating.named_day(tx("5 p.m.", "DCT@D+0|T17:00", "2016-05-03T17:00", True)) is None
    assert dating.named_day(tx("an hour later", "DCT@D+0", "2016-05-03", True)) is None
    assert dating.named_day(tx("Tuesday", "DCT<WD2")) is None  # not anchored


def test_clue_days():
    sat = date(2016, 5, 7)
    past = dating.clue_days(tx("Saturday", "DCT<WD6"), sat)
    assert past == {date(2016, 5, 7 + k) for k in range(7)}
    coming = dating.clue_days(tx("Saturday", "DCT>WD6"), sat)
    assert coming == {date(2016, 5, 1 + k) for k in range(7)}
    assert dating.clue_days(tx("yesterday", "DCT@D-1"), sat) == {date(2016, 5, 8)}
    assert dating.clue_days(tx("Saturday", "DCT<WD6"), date(2016, 5, 8)) == set()  # a Sunday
    assert dating.day_clue(tx("last night", "DCT@D-1|TNI")) == 1
    assert dating.day_clue(tx("four days earlier", "DCT@D-4")) is None


def test_tense_conflict():
    may5 = date(2013, 5, 5)
    assert dating.tense_conflict(tx("June 13", "DCTpM06-13"), may5)  # past, yet after 5 May
    assert not dating.tense_conflict(tx("April 13", "DCTpM04-13"), may5)
    assert dating.tense_conflict(tx("April 13", "DCTfM04-13"), may5)  # future, yet before
    assert not dating.tense_conflict(tx("June 13", "DCT~M06-13"), may5)  # no tense: no veto
    assert not dating.is_clue(tx("four days earlier", "DCT@D-4"))
