"""The tell stage: stories keep their ids, the timeline verb and the timeline exports."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from conftest import SHARED, run_cli
from test_link import add, event, make, mention, rows, summit_report, timex


@pytest.fixture(autouse=True)
def _no_article_linking(monkeypatch):
    monkeypatch.setattr("storyline.link.link_articles", None)


def partnership(aid: str, pub: str, outlet: str) -> tuple:
    art, ann = make(
        aid, ["In February 2022 Putin and Xi Jinping struck a no limits partnership."], pub, outlet
    )
    mention(ann, "Putin", "PERSON", canonical="Vladimir Putin")
    mention(ann, "Xi Jinping", "PERSON")
    tx = timex(ann, "February 2022", "2022-02")
    event(
        ann,
        "partnership",
        "COOPERATE",
        ["Vladimir Putin", "Xi Jinping"],
        date="2022-02",
        precision="month",
        timex=tx,
    )
    return art, ann


def unrelated(aid: str, pub: str) -> tuple:
    art, ann = make(aid, ["Joe Biden met Emmanuel Macron in Paris."], pub, "AP")
    mention(ann, "Joe Biden", "PERSON")
    mention(ann, "Emmanuel Macron", "PERSON")
    tx = timex(ann, "Paris", pub)
    event(
        ann,
        "met",
        "CONSULT",
        ["Joe Biden", "Emmanuel Macron"],
        mode="meeting",
        location="Paris",
        date=pub,
        precision="day",
        timex=tx,
    )
    return art, ann


def test_story_keeps_its_id_as_articles_arrive(store):
    add(store, partnership("p1", "2022-09-15", "Reuters"))
    add(store, summit_report("s1", "2022-09-15", "Reuters", day="2022-09-15"))
    stories = rows(store, "stories")
    assert len(stories) == 1
    sid = stories[0]["id"]
    assert stories[0]["n_events"] == 2 and "Putin" in stories[0]["title"]
    add(store, summit_report("s2", "2023-03-21", "AP", day="2023-03-21"))
    add(store, unrelated("u1", "2022-09-16"))
    stories = rows(store, "stories")
    assert [s["id"] for s in stories] == [sid]  # the Biden-Macron meeting is no part of it
    assert stories[0]["n_events"] == 3 and stories[0]["n_outlets"] == 2
    evs = {e["id"]: e for e in rows(store, "events")}
    assert sum(1 for e in evs.values() if e["story_id"] == sid) == 3
    assert stories[0]["date_start"] == "2022-02" and stories[0]["date_end"] == "2023-03-21"


def test_timeline_orders_filters_and_shows_evidence(store):
    from storyline.tell.timeline import timeline

    add(store, partnership("p1", "2022-09-15", "Reuters"))
    add(store, summit_report("s1", "2022-09-15", "Reuters", day="2022-09-15"))
    add(store, summit_report("s2", "2022-09-16", "AP", day="2022-09-15"))
    add(store, unrelated("u1", "2022-09-16"))
    entries = timeline(store, evidence=True)
    assert [e.date for e in entries] == sorted(e.date for e in entries)
    summit = [e for e in entries if e.date == "2022-09-15"]
    assert summit and summit[0].outlets == ["AP", "Reuters"] and summit[0].n_articles == 2
    assert any("Samarkand" in ev["sentence"] for ev in summit[0].evidence)
    only = timeline(store, actor="Macron", show_all=True)
    assert [e.title for e in only] == ["Biden and Macron meet in Paris"]
    ranged = timeline(store, date_from="2022-09-01", date_to="2022-09-30", show_all=True)
    assert all(e.date.startswith("2022-09") for e in ranged)


def test_timeline_cli_json_shape_and_bad_input(store):
    add(store, partnership("p1", "2022-09-15", "Reuters"))
    add(store, summit_report("s1", "2022-09-15", "Reuters", day="2022-09-15"))
    db = store.location
    res = run_cli("timeline", "--db", db, "--json", "--all")
    assert res.returncode == 0, res.stderr.decode()
    data = json.loads(res.stdout)
    assert len(data) == 2
    for key in ("id", "date", "precision", "status", "title", "outlets", "n_articles", "evidence"):
        assert key in data[0]
    assert data[0]["precision"] == "month" and data[1]["precision"] == "day"
    assert data[1]["evidence"][0]["sentence"].startswith("Vladimir Putin and Xi Jinping met")
    res = run_cli("timeline", "--db", db, "--evidence")
    out = res.stdout.decode()
    assert "2022-09-15" in out and "Reuters" in out and "    [Reuters]" in out
    bad = run_cli("timeline", "--db", db, "--from", "last week")
    assert bad.returncode != 0 and b"Traceback" not in bad.stderr
    assert b"ISO date" in bad.stderr


def test_timeline_exports(store):
    from storyline.export import export_string

    add(store, partnership("p1", "2022-09-15", "Reuters"))
    add(store, summit_report("s1", "2022-09-15", "Reuters", day="2022-09-15"))
    tl = json.loads(export_string(store, "timelinejs"))
    starts = sorted((s["start_date"]["year"], s["start_date"].get("day", "")) for s in tl["events"])
    assert starts == [("2022", ""), ("2022", "15")]
    assert "Putin" in tl["title"]["text"]["headline"]
    table = list(csv.DictReader(io.StringIO(export_string(store, "events-csv"))))
    assert [r["date"] for r in table] == ["2022-02", "2022-09-15"]
    assert table[1]["actors"].split(";") == ["per:vladimir-putin", "per:xi-jinping"]
    doc = export_string(store, "json")
    path = store.location + ".json"
    with open(path, "w") as fh:
        fh.write(doc)
    check = SHARED / "tools" / "check_export.py"
    if check.exists():
        res = subprocess.run([sys.executable, str(check), path], capture_output=True)
        assert res.returncode == 0, res.stdout.decode() + res.stderr.decode()


def _tls_doc(aid: str, pub, sentences: list[str]):
    from storyline.tell.tls import Doc, timex_dater

    doc = Doc(aid, pub, sentences)
    doc.refs = timex_dater(sentences, pub)
    return doc


def test_tls_ranks_referenced_days_and_picks_central_keyword_sentences():
    from datetime import date

    from storyline.tell.tls import build_timeline

    d1, d2, d3 = date(2011, 2, 11), date(2011, 2, 12), date(2011, 3, 1)
    sents = [
        "Mubarak resigned as president of Egypt on Friday after weeks of protests .",
        "Crowds in Cairo celebrated the fall of Mubarak through the night .",
        "The weather was mild .",
    ]
    docs = [_tls_doc(f"a{i}", d2, sents) for i in range(3)]
    docs.append(_tls_doc("b", d3, ["Mubarak was questioned by prosecutors in Cairo today ."]))
    assert docs[0].refs[0] == [d1]  # "on Friday" before Saturday 12 February
    tl = build_timeline(docs, n_dates=2, per_date=1, keywords=["mubarak"])
    # the day three articles refer to, then the day one refers to and one was published on:
    # a reference counts for more than a publication (three undated leads of 12 February)
    assert sorted(tl) == [d1, d3]
    assert tl[d1] == ["Mubarak resigned as president of Egypt on Friday after weeks of protests ."]
    assert all("weather" not in s for sents in tl.values() for s in sents)
    tl = build_timeline(docs, n_dates=3, per_date=1, keywords=["mubarak"])
    assert tl[d2] == ["Crowds in Cairo celebrated the fall of Mubarak through the night ."]


def test_tls_reads_treebank_dates_and_ignores_page_furniture():
    from datetime import date

    from storyline.tell.tls import candidates, rank_dates, usable

    pub = date(2011, 3, 2)
    stamp = "March 1 , 2011 at 6:22 pm | Protect Libyans from Gadhafi ?"
    doc = _tls_doc(
        "a",
        pub,
        [
            "NATO met in Brussels on Feb 10 , 2011 to discuss Libya .",  # tokenised comma
            stamp,
            "Rebels in Libya took Brega on Monday after fighting on Sunday .",
        ],
    )
    assert doc.refs[0] == [date(2011, 2, 10)]
    assert doc.refs[2] == [date(2011, 2, 28), date(2011, 2, 27)]
    assert not usable(stamp, ["libya"]) and usable(doc.sentences[0], ["libya"])
    ranked = dict(rank_dates([doc]))
    assert date(2011, 3, 1) not in ranked  # the time stamp is no vote for its day
    assert date(2011, 2, 27) not in ranked  # a sentence is about its first day only
    assert ranked[date(2011, 2, 10)] > ranked[pub]
    cands = candidates([doc], ["libya"])
    assert cands[date(2011, 2, 28)] == [doc.sentences[2]]
    assert all(stamp not in v for v in cands.values())


def test_tls_summary_adds_what_the_first_sentence_lacks():
    from sklearn.feature_extraction.text import TfidfVectorizer

    from storyline.tell.tls import summarise

    quake = "A strong earthquake struck Haiti near the capital Port-au-Prince ."
    sents = [
        quake,
        "A powerful earthquake struck Haiti near Port-au-Prince on Tuesday .",
        "The earthquake that struck Haiti destroyed much of the capital .",
        "An earthquake struck near the Haiti capital on Tuesday .",
        "Aid agencies flew doctors and water to Haiti after the earthquake .",
        "Doctors and aid agencies reached Haiti with water .",
    ]
    vec = TfidfVectorizer(stop_words="english").fit(sents)
    one, two = summarise(sents, 2, vec)
    assert "struck" in one and "capital" in one  # the most central report of the day
    assert "aid" in two.lower()  # not a second copy of the first
    assert summarise(sents[:1], 3, vec) == [quake]
    assert summarise([], 2, vec) == []


def test_default_view_keeps_background_dated_to_the_day():
    from storyline.tell.timeline import TimelineEntry, keep

    def entry(precision: str) -> TimelineEntry:
        return TimelineEntry(
            id="e",
            date="2022-02-24"[: {"day": 10, "year": 4}[precision]],
            date_end=None,
            precision=precision,
            status="happened",
            type="FIGHT",
            title="Invasion",
            location=None,
            actors=[],
            outlets=["X"],
            n_articles=1,
            n_outlets=1,
            story=None,
            salience=1.0,
            explicit_date=True,
            recalled=True,
        )

    assert keep(entry("day"), set(), set())  # "the invasion on February 24, 2022"
    assert not keep(entry("year"), set(), set())  # "a crackdown in 2020": too vague alone
