"""The link stage on real stores: entities, events, dating and utterances across articles.

Most tests write annotation records (the contract between annotate and link) straight into a
real SQLite store, so they test linking whatever the annotators of the day produce; one test
runs the whole real pipeline (spaCy model included) on small generated texts.
"""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from sqlalchemy import insert, select

from storyline.link import link_new
from storyline.records import (
    Annotations,
    Article,
    EventMention,
    Mention,
    Quote,
    Sentence,
    Timex,
)
from storyline.store import schema


@pytest.fixture(autouse=True)
def _no_article_linking(monkeypatch, request):
    """Near-duplicate linking (another module, with the embedding model) is not under test
    here, except in the whole-pipeline test."""
    if "model" not in request.keywords:
        monkeypatch.setattr("storyline.link.link_articles", None)


def make(aid: str, sentences: list[str], pub_date: str | None, outlet: str = "Wire") -> tuple:
    text = " ".join(sentences)
    art = Article(
        id=aid,
        source=f"/tmp/{aid}.txt",
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        text=text,
        title=sentences[0][:40],
        outlet=outlet,
        pub_date=pub_date,
        pub_date_source="metadata" if pub_date else "unknown",
        pub_date_precision="day" if pub_date else None,
    )
    ann = Annotations(article_id=aid)
    pos = 0
    for i, s in enumerate(sentences):
        ann.sentences.append(Sentence(i, pos, pos + len(s), s))
        pos += len(s) + 1
    return art, ann


def mention(ann: Annotations, text: str, label: str, sentence: int = 0, **kw) -> None:
    s = ann.sentences[sentence]
    start = s.start + max(s.text.find(text), 0)
    ann.mentions.append(
        Mention(
            start,
            start + len(text),
            text,
            label,
            sentence,
            canonical=kw.pop("canonical", text),
            **kw,
        )
    )


def event(ann: Annotations, trigger: str, etype: str, actors: list[str], **kw) -> None:
    sentence = kw.pop("sentence", 0)
    s = ann.sentences[sentence]
    start = s.start + max(s.text.find(trigger), 0)
    ann.events.append(
        EventMention(trigger, start, start + len(trigger), sentence, etype, actors=actors, **kw)
    )


def timex(ann: Annotations, text: str, value: str, sentence: int = 0, **kw) -> int:
    s = ann.sentences[sentence]
    start = s.start + max(s.text.find(text), 0)
    ann.timexes.append(Timex(start, start + len(text), text, "DATE", value, sentence, **kw))
    return len(ann.timexes) - 1


def add(store, *items) -> list[str]:
    with store.transaction() as conn:
        ids = store.add_articles(conn, list(items))
    link_new(store, ids)
    return ids


def rows(store, table, **where):
    t = schema.TABLES[table]
    q = select(t)
    for k, v in where.items():
        q = q.where(t.c[k] == v)
    with store.read() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def test_a_surname_stored_alone_joins_the_full_name_a_later_batch_names(store):
    """ "Xi" alone in one batch, "Xi Jinping" in the next: the surname-only entity is folded
    into the full name, its mentions with it; "Lee" (two people in the store) stays."""
    a_art, a = make("a1", ["Xi spoke in Beijing.", "Lee listened."], "2022-11-14")
    mention(a, "Xi", "PERSON")
    mention(a, "Lee", "PERSON", sentence=1)
    add(store, (a_art, a))
    assert {"per:xi", "per:lee"} <= {e["id"] for e in rows(store, "entities")}
    b_art, b = make(
        "b1", ["Xi Jinping arrived with Ann Lee and Bo Lee.", "They talked."], "2022-11-15"
    )
    for name in ("Xi Jinping", "Ann Lee", "Bo Lee"):
        mention(b, name, "PERSON")
    add(store, (b_art, b))
    ids = {e["id"] for e in rows(store, "entities")}
    assert "per:xi" not in ids and "per:lee" in ids
    xi = rows(store, "entities", id="per:xi-jinping")[0]
    assert xi["mentions"] == 2 and "Xi" in xi["aliases"]
    first = {m["text"]: m["entity_id"] for m in rows(store, "mentions", article_id="a1")}
    assert first == {"Xi": "per:xi-jinping", "Lee": "per:lee"}


def summit_report(aid: str, pub: str, outlet: str, *, day: str | None = None) -> tuple:
    """A report that Putin and Xi met (with an explicit date when ``day`` is given)."""
    art, ann = make(
        aid,
        ["Vladimir Putin and Xi Jinping met in Samarkand on Thursday.", "Xi smiled."],
        pub,
        outlet,
    )
    mention(ann, "Vladimir Putin", "PERSON")
    mention(ann, "Xi Jinping", "PERSON")
    mention(ann, "Samarkand", "GPE")
    mention(ann, "Xi", "PERSON", sentence=1)
    tx = timex(ann, "Thursday", day or pub) if day else None
    event(
        ann,
        "met",
        "CONSULT",
        ["Vladimir Putin", "Xi Jinping"],
        mode="meeting",
        location="Samarkand",
        date=day or pub,
        precision="day",
        timex=tx,
    )
    return art, ann


def test_entities_merge_aliases_but_not_namesakes(store):
    a_art, a = make(
        "a1",
        [
            "Chinese President Xi Jinping met Joe Biden in Bali.",
            "Xi said Beijing wants calm, and the Chinese leader smiled.",
        ],
        "2022-11-14",
    )
    mention(a, "Xi Jinping", "PERSON")
    mention(a, "Joe Biden", "PERSON")
    mention(a, "Xi", "PERSON", sentence=1)
    mention(a, "Beijing", "GOV", sentence=1)
    mention(a, "the Chinese leader", "PERSON", sentence=1, kind="title", canonical="Xi Jinping")
    b_art, b = make(
        "b1", ["President Xi spoke.", "Hunter Biden testified; Biden denied it."], "2022-11-15"
    )
    mention(b, "President Xi", "PERSON")
    mention(b, "Hunter Biden", "PERSON", sentence=1)
    mention(b, "Biden", "PERSON", sentence=1)
    add(store, (a_art, a))
    add(store, (b_art, b))
    xi = rows(store, "entities", id="per:xi-jinping")
    assert xi, [e["id"] for e in rows(store, "entities")]
    assert {"Xi", "Xi Jinping", "President Xi", "the Chinese leader"} <= set(xi[0]["aliases"])
    assert xi[0]["mentions"] == 4
    ids = {e["id"] for e in rows(store, "entities")}
    assert "per:xi" not in ids  # the surname joined the full name
    assert {"per:joe-biden", "per:hunter-biden"} <= ids  # namesakes stay apart
    b_biden = [m for m in rows(store, "mentions", article_id="b1") if m["text"] == "Biden"]
    assert b_biden[0]["entity_id"] == "per:hunter-biden"
    gov = rows(store, "entities", id="gov:cn")
    assert gov and gov[0]["country"] == "CN" and gov[0]["type"] == "GOV"


def test_planned_then_happened_is_one_event_with_both_evidence(store):
    art, ann = make(
        "plan", ["Putin and Xi Jinping will meet in Samarkand on Sept. 15."], "2022-09-07", "Fox"
    )
    mention(ann, "Putin", "PERSON", canonical="Vladimir Putin")
    mention(ann, "Xi Jinping", "PERSON")
    tx = timex(ann, "Sept. 15", "2022-09-15")
    event(
        ann,
        "meet",
        "CONSULT",
        ["Vladimir Putin", "Xi Jinping"],
        mode="meeting",
        status="planned",
        location="Samarkand",
        date="2022-09-15",
        precision="day",
        timex=tx,
    )
    add(store, (art, ann))
    ev = rows(store, "events")
    assert len(ev) == 1 and ev[0]["status"] == "planned"
    eid = ev[0]["id"]
    add(store, summit_report("done", "2022-09-15", "Reuters", day="2022-09-15"))
    ev = rows(store, "events", id=eid)[0]  # same id: the event kept it
    assert ev["status"] == "happened"
    assert [h["status"] for h in ev["status_history"]] == ["planned", "happened"]
    assert ev["date"] == "2022-09-15" and ev["precision"] == "day"
    assert ev["n_articles"] == 2 and ev["outlets"] == ["Fox", "Reuters"]
    assert "Putin" in ev["title"] and "Xi" in ev["title"] and "Samarkand" in ev["title"]
    evidence = {m["article_id"] for m in rows(store, "event_mentions", event_id=eid)}
    assert evidence == {"plan", "done"}


def test_different_meetings_stay_apart(store):
    add(store, summit_report("s22", "2022-09-15", "Reuters", day="2022-09-15"))
    add(store, summit_report("s24", "2024-05-16", "AP", day="2024-05-16"))
    assert len(rows(store, "events")) == 2


def test_background_event_dated_with_month_precision(store):
    items = []
    for i, pub in enumerate(["2023-03-17", "2024-05-17"]):
        art, ann = make(
            f"bg{i}",
            ["In February 2022 Russia and China struck a no limits partnership."],
            pub,
            f"Outlet{i}",
        )
        mention(ann, "Russia", "GPE")
        mention(ann, "China", "GPE")
        tx = timex(ann, "February 2022", "2022-02")
        event(
            ann,
            "partnership",
            "COOPERATE",
            ["Russia", "China"],
            date="2022-02",
            precision="month",
            timex=tx,
        )
        items.append((art, ann))
    add(store, items[0])
    add(store, items[1])
    ev = rows(store, "events")
    assert len(ev) == 1
    assert ev[0]["date"] == "2022-02" and ev[0]["precision"] == "month"
    assert ev[0]["n_articles"] == 2 and set(ev[0]["actors"]) == {"country:ru", "country:cn"}


def undated_report(aid: str, clues: list[tuple[str, str, str]]) -> tuple:
    """An undated article: for each clue (sentence, time text, symbolic), a Putin-Xi meeting."""
    art, ann = make(aid, [c[0] for c in clues], None, "Undated")
    for i, (sent, text, sym) in enumerate(clues):
        mention(ann, "Vladimir Putin", "PERSON", sentence=i)
        mention(ann, "Xi Jinping", "PERSON", sentence=i)
        status = "planned" if "will" in sent else "happened"
        tx = timex(ann, text, "XXXX-XX-XX", sentence=i, anchored=False, symbolic=sym)
        event(
            ann,
            "meet" if status == "planned" else "met",
            "CONSULT",
            ["Vladimir Putin", "Xi Jinping"],
            sentence=i,
            mode="meeting",
            status=status,
            timex=tx,
        )
    return art, ann


def test_undated_article_dated_from_another_articles_event(store):
    add(store, summit_report("known", "2022-09-15", "Reuters", day="2022-09-15"))  # a Thursday
    art, ann = undated_report(
        "later", [("Vladimir Putin and Xi Jinping met on Thursday.", "Thursday", "DCT<WD4")]
    )
    add(store, (art, ann))
    a = rows(store, "articles", id="later")[0]
    assert a["pub_date_source"] == "inferred"
    assert "2022-09-15" <= a["pub_date"] <= "2022-09-18"
    assert "Thursday" in a["pub_date_evidence"]
    tx = rows(store, "timexes", article_id="later")[0]
    assert tx["anchored"] and tx["value"] == "2022-09-15"  # resolved against the new date
    em = rows(store, "event_mentions", article_id="later")[0]
    assert em["date"] == "2022-09-15"
    known_event = rows(store, "event_mentions", article_id="known")[0]["event_id"]
    assert em["event_id"] == known_event  # and its report joined the known event


def test_planned_next_week_pins_the_week_before(store):
    add(store, summit_report("known", "2022-09-15", "Reuters", day="2022-09-15"))
    art, ann = undated_report(
        "announce", [("Vladimir Putin and Xi Jinping will meet next week.", "next week", "DCT@W+1")]
    )
    add(store, (art, ann))
    a = rows(store, "articles", id="announce")[0]
    assert "2022-09-05" <= a["pub_date"] <= "2022-09-11"


def test_conflicting_clues_leave_the_article_undated(store):
    add(store, summit_report("known", "2022-09-15", "Reuters", day="2022-09-15"))
    art, ann = undated_report(
        "confused",
        [
            ("Vladimir Putin and Xi Jinping met on Thursday.", "Thursday", "DCT<WD4"),
            ("Vladimir Putin and Xi Jinping will meet next week.", "next week", "DCT@W+1"),
        ],
    )
    add(store, (art, ann))
    a = rows(store, "articles", id="confused")[0]
    assert a["pub_date"] is None and a["pub_date_source"] == "unknown"
    assert "conflicting" in a["pub_date_evidence"]


def test_no_clue_leaves_a_reason(store):
    art, ann = undated_report(
        "alone", [("Vladimir Putin and Xi Jinping met on Thursday.", "Thursday", "DCT<WD4")]
    )
    add(store, (art, ann))
    a = rows(store, "articles", id="alone")[0]
    assert a["pub_date"] is None and a["pub_date_evidence"]


def putin_quote(ann: Annotations, words: str, sentence: int = 0, offset: int = 13) -> None:
    """A direct quote of Putin's, ``offset`` characters into the sentence, up to its '."'."""
    s = ann.sentences[sentence]
    ann.quotes.append(
        Quote(
            s.start + offset,
            s.end - 2,
            words,
            "direct",
            sentence,
            speaker="Putin",
            speaker_canonical="Vladimir Putin",
        )
    )


def test_utterances_group_wordings_of_one_statement(store):
    items = []
    wordings = [
        "We highly value the balanced position of our Chinese friends on the Ukraine crisis",
        "we highly value the balanced position of our Chinese friends when it comes to Ukraine",
    ]
    for i, w in enumerate(wordings):
        art, ann = make(
            f"q{i}",
            [f'Putin told Xi: "{w}."', 'Putin added: "The weather is fine."'],
            "2022-09-15",
            f"O{i}",
        )
        mention(ann, "Putin", "PERSON", canonical="Vladimir Putin")
        putin_quote(ann, w, offset=14)
        putin_quote(ann, "The weather is fine.", sentence=1)
        items.append((art, ann))
    add(store, items[0])
    add(store, items[1])
    qs = rows(store, "quotes")
    by_text = {q["text"]: q for q in qs}
    assert by_text[wordings[0]]["utterance_id"] == by_text[wordings[1]]["utterance_id"]
    assert by_text["The weather is fine."]["utterance_id"] != by_text[wordings[0]]["utterance_id"]
    assert {q["speaker_id"] for q in qs} == {"per:vladimir-putin"}
    ut = rows(store, "utterances", id=by_text[wordings[0]]["utterance_id"])[0]
    assert ut["n_quotes"] == 2


def putin_says(aid: str, words: str, pub: str) -> tuple:
    """An article that quotes Putin once: 'Putin said: "<words>."'."""
    art, ann = make(aid, [f'Putin said: "{words}."'], pub, aid)
    mention(ann, "Putin", "PERSON", canonical="Vladimir Putin")
    putin_quote(ann, words)
    return art, ann


def test_a_batch_meets_its_own_statements_and_the_speakers_most_recent_first(
    any_store, monkeypatch
):
    """A batch's speakers are read once: a wording later in the batch must still meet the
    statement an earlier one started; the cap keeps the most recently quoted statements, the
    undated last, on both backends."""
    words = "We highly value the balanced position of our Chinese friends on Ukraine"
    other = "Sanctions will never stop the Russian economy from growing"
    day = date(2022, 9, 15).toordinal()
    stored = [  # (id, text, day_last)
        ("ut-old", words, day - 10),  # the same statement, but older than the two below
        ("ut-new1", "The weather in Samarkand is fine today", day - 2),
        ("ut-new2", "Our trade grew by a quarter this year", day - 1),
        ("ut-undated", other, None),
    ]
    with any_store.transaction() as conn:
        conn.execute(
            insert(schema.utterances),
            [
                {
                    "id": i,
                    "speaker_id": "per:vladimir-putin",
                    "speaker": "Vladimir Putin",
                    "text": t,
                    "n_quotes": 1,
                    "day_first": d,
                    "day_last": d,
                }
                for i, t, d in stored
            ],
        )
    monkeypatch.setattr("storyline.link.utterances.MAX_GROUPS", 2)
    two = [putin_says("a", words, "2022-09-15"), putin_says("b", words + " too", "2022-09-15")]
    add(any_store, *two)
    got = {q["article_id"]: q["utterance_id"] for q in rows(any_store, "quotes")}
    assert got["a"] == got["b"] and got["a"] not in {i for i, _, _ in stored}
    assert rows(any_store, "utterances", id=got["a"])[0]["n_quotes"] == 2

    monkeypatch.setattr("storyline.link.utterances.MAX_GROUPS", 4)  # every dated one
    add(any_store, putin_says("c", other, "2022-09-16"))
    monkeypatch.setattr("storyline.link.utterances.MAX_GROUPS", 6)  # the undated one too
    add(any_store, putin_says("d", other, "2022-09-16"))
    got = {q["article_id"]: q["utterance_id"] for q in rows(any_store, "quotes")}
    assert got["c"] != "ut-undated" and got["d"] in ("ut-undated", got["c"])


@pytest.mark.model
def test_real_pipeline_links_entities_across_articles(store, tmp_path):
    from storyline.pipeline import ingest

    (tmp_path / "a.txt").write_text(
        " date 2022-09-15 Russian President Vladimir Putin met Chinese leader Xi Jinping in "
        "Samarkand on Thursday. Putin thanked Xi for his balanced position.\n"
    )
    (tmp_path / "b.txt").write_text(
        " date 2022-09-16 Vladimir Putin said on Friday that talks with Xi Jinping went well. "
        "Mr Putin flew home to Moscow.\n"
    )
    report = ingest(store, [str(tmp_path)], progress=False)
    assert len(report.added) == 2
    putin = [m for m in rows(store, "mentions") if "Putin" in m["text"]]
    assert len(putin) >= 3
    assert {m["entity_id"] for m in putin} == {"per:vladimir-putin"}
    assert all(a["linked"] for a in rows(store, "articles"))


def test_wire_copy_takes_its_originals_date(store):
    from sqlalchemy import insert

    add(store, make("orig", ["A storm hit the coast on Tuesday."], "2021-03-02"))
    art, ann = make("copy", ["A storm hit the coast on Tuesday, officials said."], None)
    with store.transaction() as conn:
        store.add_articles(conn, [(art, ann)])
        conn.execute(
            insert(schema.relations).values(
                article_id="copy", other_id="orig", kind="duplicate_of", score=0.99
            )
        )
    link_new(store, ["copy"])
    a = rows(store, "articles", id="copy")[0]
    assert a["pub_date"] == "2021-03-02" and a["pub_date_source"] == "inferred"
    assert "copy of orig" in a["pub_date_evidence"]


# ------------------------------------------------ part 3: content order, places, TIMEX3 values


def placed_report(aid: str, pub: str, place: str, *, day: str | None = None) -> tuple:
    """Putin and Xi met in ``place``; dated by the text when ``day`` is given, else by ``pub``."""
    art, ann = make(aid, [f"Vladimir Putin and Xi Jinping met in {place}.", "Xi smiled."], pub)
    mention(ann, "Vladimir Putin", "PERSON")
    mention(ann, "Xi Jinping", "PERSON")
    mention(ann, place, "GPE")
    tx = timex(ann, "met", day) if day else None
    event(
        ann,
        "met",
        "CONSULT",
        ["Vladimir Putin", "Xi Jinping"],
        mode="meeting",
        location=place,
        date=day or pub,
        precision="day",
        timex=tx,
    )
    return art, ann


def test_shared_place_picks_which_meeting_dates_an_article(store):
    add(store, placed_report("tashkent", "2021-06-11", "Tashkent"))  # a Friday report, no time
    add(store, placed_report("minsk", "2023-03-02", "Minsk", day="2023-03-02"))  # explicit day
    art, ann = undated_report(
        "later", [("Vladimir Putin and Xi Jinping met on Friday.", "Friday", "DCT<WD5")]
    )
    ann.sentences.append(Sentence(1, len(art.text) + 1, len(art.text) + 13, "In Tashkent."))
    mention(ann, "Tashkent", "GPE", sentence=1)
    add(store, (art, ann))
    a = rows(store, "articles", id="later")[0]
    assert "2021-06-11" <= a["pub_date"] <= "2021-06-17", a["pub_date_evidence"]
    assert "Tashkent" in a["pub_date_evidence"]


def test_same_people_elsewhere_without_a_place_do_not_date(store):
    add(store, placed_report("tashkent", "2021-06-11", "Tashkent"))  # dated by its report only
    art, ann = undated_report(
        "later", [("Vladimir Putin and Xi Jinping met on Friday.", "Friday", "DCT<WD5")]
    )
    add(store, (art, ann))
    assert rows(store, "articles", id="later")[0]["pub_date"] is None


def test_dating_keeps_timex3_values_and_background_undated(store):
    add(store, placed_report("known", "2022-09-15", "Samarkand", day="2022-09-15"))
    art, ann = undated_report(
        "announce", [("Vladimir Putin and Xi Jinping will meet next week.", "next week", "DCT@W+1")]
    )
    ann.events.append(EventMention("war", 0, 3, 0, "FIGHT", actors=[]))  # a background noun
    add(store, (art, ann))
    assert rows(store, "articles", id="announce")[0]["pub_date"]
    tx = rows(store, "timexes", article_id="announce")[0]
    assert tx["anchored"] and tx["value"] == "2022-W37"  # a TIMEX3 week, not a day range
    war = [m for m in rows(store, "event_mentions", article_id="announce") if m["type"] == "FIGHT"]
    assert war[0]["date"] is None  # not put on the article's own day


def test_linking_does_not_depend_on_article_ids(tmp_path):
    from storyline.store import open_store
    from storyline.tell.timeline import timeline

    def s_pub(s, aid: str) -> tuple:
        with s.read() as conn:
            a = schema.articles
            return tuple(conn.execute(select(a.c.pub_date).where(a.c.id == aid)).one())

    def undated(aid: str) -> tuple:
        art, ann = undated_report(aid, [("Putin and Xi met on Friday.", "Friday", "DCT<WD5")])
        ann.sentences.append(Sentence(1, len(art.text) + 1, len(art.text) + 13, "In Tashkent."))
        mention(ann, "Tashkent", "GPE", sentence=1)
        return art, ann

    def run(name: str, ids: tuple[str, str, str]) -> list[tuple]:
        s = open_store(tmp_path / f"{name}.db")
        with s.transaction() as conn:
            got = s.add_articles(
                conn,
                [
                    undated(ids[0]),
                    placed_report(ids[1], "2021-06-11", "Tashkent"),
                    placed_report(ids[2], "2023-03-02", "Minsk", day="2023-03-02"),
                ],
            )
        link_new(s, got)
        out = sorted((e.date or "", e.title, e.n_articles) for e in timeline(s, show_all=True))
        out.append(s_pub(s, ids[0]))
        s.close()
        return out

    first = run("a", ("a1", "a2", "a3"))
    assert first[-1][0] is not None  # the undated report was dated
    assert first == run("b", ("z3", "z2", "z1"))


def test_an_articles_later_actorless_meeting_is_its_main_meeting(store):
    art, ann = make(
        "summit",
        [
            "Vladimir Putin and Xi Jinping held a summit.",
            "Putin and Xi praised each other at the meeting.",
            "Analysts talked.",
            "Thursday's meeting was long.",
        ],
        "2024-05-17",
    )
    for i, name in ((0, "Vladimir Putin"), (0, "Xi Jinping"), (1, "Putin"), (1, "Xi")):
        mention(ann, name, "PERSON", sentence=i)
    event(ann, "summit", "CONSULT", ["Vladimir Putin", "Xi Jinping"], mode="meeting")
    event(ann, "meeting", "CONSULT", ["Putin", "Xi"], mode="meeting", sentence=1)
    tx = timex(ann, "Thursday", "2024-05-16", sentence=3)
    event(
        ann,
        "meeting",
        "CONSULT",
        [],
        mode="meeting",
        sentence=3,
        timex=tx,
        date="2024-05-16",
        precision="day",
    )
    add(store, (art, ann))
    ids = {m["event_id"] for m in rows(store, "event_mentions", article_id="summit")}
    assert len(ids) == 1
    ev = rows(store, "events", id=ids.pop())[0]
    assert ev["date"] == "2024-05-16" and ev["title"] == "Putin and Xi meet"


def test_small_rules():
    from collections import Counter
    from datetime import date

    from storyline.link.dating import _as_value, range_timex3, same_place, target_rank
    from storyline.link.events import main_event

    assert range_timex3((date(2022, 9, 12), date(2022, 9, 18))) == ("2022-W37", None)
    assert range_timex3((date(2020, 1, 1), date(2020, 12, 31))) == ("2020", None)
    assert range_timex3((date(2022, 9, 1), date(2022, 9, 30))) == ("2022-09", None)
    assert range_timex3((date(2022, 9, 14), date(2022, 9, 16))) == ("2022-09-14", "2022-09-16")
    assert _as_value((date(2020, 1, 1), date(2020, 12, 31))) == ("2020", None, "year")
    assert target_rank(False, False, False) == 0
    assert target_rank(False, False, True) > target_rank(True, True, False)
    assert same_place("Samarkand", {"samarkand", "china"}) and not same_place("Minsk", {"china"})
    c = Counter({("e1", "happened"): 3, ("e2", "happened"): 1, ("e3", "planned"): 1})
    assert main_event(c, "happened") == "e1"
    assert main_event(c, "planned") is None  # one mention is not the article's main event
    assert main_event(c, "hypothetical") is None


def test_titles_name_who_acts():
    from storyline.link.events import make_title, title_mode

    ukraine = ("Ukraine", "COUNTRY")
    russia = ("Russia", "COUNTRY")
    # Ukraine only undergoes "sending forces into Ukraine": no "Ukraine mobilizes"
    assert make_title("MOBILIZE", "troops", [ukraine], None, "sending", subjects=[]) == (
        "Forces sent to Ukraine"
    )
    assert make_title("FIGHT", None, [ukraine, russia], None, "war", subjects=[russia]) == (
        "Russia fights Ukraine"
    )
    china = ("China", "COUNTRY")
    assert make_title("COOPERATE", "military", [china, russia], None, "x", subjects=[china]) == (
        "China and Russia hold military exercises"
    )
    assert make_title("CONSULT", "meeting", [("Vladimir Putin", "PERSON")], "Samarkand", "met") == (
        "Putin meets in Samarkand"
    )
    from collections import Counter

    assert title_mode(Counter({"invasion": 1}), 4) is None
    assert title_mode(Counter({"invasion": 2}), 3) == "invasion"


def test_subject_ids_from_mention_roles():
    from storyline.link.events import subject_ids

    ms = [{"actors": ["Putin"], "targets": ["Ukraine"]}, {"actors": ["Russia's"], "targets": []}]
    full = {"p": "Vladimir Putin", "u": "Ukraine", "r": "Russia"}
    assert subject_ids(ms, full) == {"p", "r"}


def test_a_dated_actorless_mention_takes_the_articles_only_parties(store):
    art, ann = make(
        "recap",
        [
            "Russia's invasion of Ukraine goes on.",
            "The offensive is the biggest since the invasion on February 24, 2022.",
        ],
        "2024-05-17",
    )
    mention(ann, "Russia", "GPE")
    mention(ann, "Ukraine", "GPE")
    event(ann, "invasion", "FIGHT", ["Russia"], targets=["Ukraine"], mode="invasion")
    tx = timex(ann, "February 24, 2022", "2022-02-24", sentence=1)
    event(
        ann,
        "invasion",
        "FIGHT",
        [],
        mode="invasion",
        sentence=1,
        timex=tx,
        date="2022-02-24",
        precision="day",
    )
    add(store, (art, ann))
    dated = [e for e in rows(store, "events") if e["date"] == "2022-02-24"]
    assert len(dated) == 1
    assert dated[0]["title"].startswith("Invasion of")  # not "Ukraine invades Russia"
    assert len(dated[0]["actors"]) == 2


def test_a_recalled_event_is_found_when_its_report_came_in_the_same_batch(store):
    """Mention links and new events are written at the end of a batch: a later article's
    "since Russia's invasion" must still see the dated event an earlier one just made."""
    first, ann = make("day-one", ["Russia invaded Ukraine on February 24, 2022."], "2022-02-25")
    mention(ann, "Russia", "GPE")
    mention(ann, "Ukraine", "GPE")
    tx = timex(ann, "February 24, 2022", "2022-02-24")
    event(ann, "invaded", "FIGHT", ["Russia"], targets=["Ukraine"], mode="invasion", timex=tx)
    ann.events[-1].date, ann.events[-1].precision = "2022-02-24", "day"
    later, ann2 = make(
        "months-on", ["Kyiv still stands since Russia's invasion of Ukraine."], "2022-06-01"
    )
    mention(ann2, "Russia", "GPE")
    mention(ann2, "Ukraine", "GPE")
    event(ann2, "invasion", "FIGHT", ["Russia"], targets=["Ukraine"], mode="invasion")
    add(store, (first, ann), (later, ann2))
    by_article = {m["article_id"]: m["event_id"] for m in rows(store, "event_mentions")}
    assert by_article["day-one"] and by_article["day-one"] == by_article["months-on"]
    assert rows(store, "events", id=by_article["day-one"])[0]["date"] == "2022-02-24"


def test_article_parties_only_when_unambiguous():
    from storyline.link.events import article_parties

    def m(actors, mode="invasion", aid="a"):
        return {"article_id": aid, "type": "FIGHT", "mode": mode, "actor_ids": actors}

    got = article_parties([m(["ru", "ua"]), m(["ru", "ua"]), m([]), m(["x"], mode=None)])
    assert got == {("a", "fight", "invasion"): ("ru", "ua")}
    assert article_parties([m(["ru", "ua"]), m(["us"])]) == {}


def test_unresolved_titles_are_no_people_and_names_tie_by_text():
    from storyline.link.entities import Key, _best_name, mention_key

    row = {"label": "PERSON", "kind": "title", "canonical": None, "text": "the Chinese leader"}
    assert mention_key(row, {}) is None
    key = Key("org:sco", "shanghai cooperation organization", "ORG", None)
    names = {"Shanghai Cooperation Organization", "Shanghai Cooperation Organisation"}
    # same length: the tie goes by text, whatever order the set iterates in
    assert _best_name(key, names) == "Shanghai Cooperation Organisation"


def test_a_big_event_is_refreshed_once_per_batch_and_ends_up_whole(store):
    """5,000 wire copies of one story: past BIG_EVENT reports the event is recomputed once at
    the end of a batch, and then it counts every report and outlet."""
    from storyline.link.events import BIG_EVENT

    first = [
        summit_report(f"w{i:02d}", "2022-09-15", f"Wire {i % 3}", day="2022-09-15")
        for i in range(BIG_EVENT)
    ]
    add(store, *first)
    (ev,) = rows(store, "events")
    assert ev["n_articles"] == BIG_EVENT
    more = [
        summit_report(f"x{i:02d}", "2022-09-16", f"Paper {i}", day="2022-09-15") for i in range(5)
    ]
    add(store, *more)
    (ev,) = rows(store, "events")  # still one event, recomputed after the batch
    assert ev["n_articles"] == BIG_EVENT + 5
    assert {f"Paper {i}" for i in range(5)} <= set(ev["outlets"])
    assert ev["date"] == "2022-09-15"
    mentions = rows(store, "event_mentions")
    assert {m["event_id"] for m in mentions} == {ev["id"]}


def _quoted(aid: str, day: str, speaker: str, label: str, wording: str):
    art, ann = make(aid, [f'{speaker} said: "{wording}."'], day, f"O-{aid}")
    mention(ann, speaker, label)
    s = ann.sentences[0]
    start = s.text.index('"') + 1
    ann.quotes.append(
        Quote(
            s.start + start, s.start + start + len(wording), wording, "direct", 0, speaker=speaker
        )
    )
    return art, ann


def test_a_body_s_statements_are_grouped_within_weeks_a_person_s_for_longer(store):
    said = "The suspect fled north on foot and should be considered armed and dangerous"
    for aid, day in (("p1", "2020-01-05"), ("p2", "2020-01-07"), ("p3", "2020-06-01")):
        add(store, _quoted(aid, day, "Police", "ORG", said))
    spoke = "We will rebuild this city street by street and house by house together"
    for aid, day in (("m1", "2020-01-05"), ("m2", "2020-06-01")):
        add(store, _quoted(aid, day, "Maria Lopez", "PERSON", spoke))
    by_article = {q["article_id"]: q["utterance_id"] for q in rows(store, "quotes")}
    assert by_article["p1"] == by_article["p2"]  # two days apart: one statement
    assert by_article["p3"] != by_article["p1"]  # five months later: police say that often
    assert by_article["m1"] == by_article["m2"]  # a person's words are recalled for months


def _actorless_shooting(aid: str, pub: str, said: str, value: str, precision: str) -> tuple:
    art, ann = make(aid, [f"A man was shot {said}.", "Nobody was arrested."], pub)
    tx = timex(ann, said.removeprefix("on ").removeprefix("in "), value)
    event(ann, "shot", "ASSAULT", [], mode="shooting", timex=tx, date=value, precision=precision)
    return art, ann


def test_actorless_mentions_meet_only_on_an_explicit_day(store):
    """A man "shot on March 13" and another report of a shooting that day may be one
    event; "shootings in 2013" is not any of that year's shootings."""
    add(store, _actorless_shooting("a", "2013-03-14", "on March 13, 2013", "2013-03-13", "day"))
    add(store, _actorless_shooting("b", "2013-03-14", "on March 13, 2013", "2013-03-13", "day"))
    add(store, _actorless_shooting("c", "2013-12-30", "in 2013", "2013", "year"))
    by_article = {m["article_id"]: m["event_id"] for m in rows(store, "event_mentions")}
    assert by_article["a"] == by_article["b"]
    assert by_article["c"] != by_article["a"]


# ------------------------------------------------ bad input: many dates, nothing to link


def test_an_article_of_200_dates_dates_each_event_from_its_own_sentence(store, tmp_path):
    """A chronology: 200 dated sentences in one article. Every date is read, every event gets
    the day its own sentence names (none borrows a neighbour's), and linking finishes."""
    from datetime import date, timedelta

    from storyline.pipeline import ingest

    cities = ["Cairo", "Alexandria", "Giza", "Suez", "Luxor"]
    days = [date(2011, 1, 3) + timedelta(days=3 * i) for i in range(200)]
    lines = [
        f"On {d:%B} {d.day}, {d.year}, thousands of protesters marched in {cities[i % 5]}."
        for i, d in enumerate(days)
    ]
    (tmp_path / "chronology.txt").write_text(
        " date 2012-12-31 A year of protest, day by day.\n\n" + "\n\n".join(lines) + "\n"
    )
    report = ingest(store, [str(tmp_path / "chronology.txt")], progress=False)
    assert len(report.added) == 1 and not report.failures
    (aid,) = report.added
    values = {t["value"] for t in rows(store, "timexes", article_id=aid)}
    assert {d.isoformat() for d in days} <= values
    sentences = {s["idx"]: s["text"] for s in rows(store, "sentences", article_id=aid)}
    events = {e["id"]: e for e in rows(store, "events")}
    dated = 0
    for m in rows(store, "event_mentions", article_id=aid):
        ev = events.get(m["event_id"])
        if ev is None or not ev["date"] or ev["precision"] != "day":
            continue
        d = date.fromisoformat(ev["date"])
        assert f"{d:%B} {d.day}, {d.year}" in sentences[m["sentence"]], (ev, m)
        dated += 1
    assert dated >= 150  # (nearly) every march is an event dated to its own day
    assert rows(store, "articles", id=aid)[0]["linked"]


def test_a_batch_where_nothing_links_stays_apart(store, tmp_path):
    """Unrelated articles: no relation between them, no event or story spanning two."""
    from storyline.pipeline import ingest

    texts = {
        "a.txt": " date 2019-02-04 Heavy snow closed the airport in Oslo on Monday, officials "
        "said. Flights resumed in the evening.",
        "b.txt": " date 2020-07-18 A bakery opened on Main Street in Dayton on Saturday. The "
        "owner, Maria Gonzalez, said she had saved for ten years.",
        "c.txt": " date 2021-11-09 Researchers at the University of Tartu published a study of "
        "beetles on Tuesday. The study counted 4,000 species.",
        "d.txt": " date 2022-03-27 Fishermen in Valparaiso protested on Sunday against a new "
        "fishing quota. The protest ended peacefully.",
    }
    for name, text in texts.items():
        (tmp_path / name).write_text(text + "\n")
    report = ingest(store, [str(tmp_path)], progress=False)
    assert len(report.added) == 4 and not report.failures
    assert rows(store, "relations") == []
    assert all(e["n_articles"] == 1 for e in rows(store, "events"))
    by_event: dict[str, set[str]] = {}
    for m in rows(store, "event_mentions"):
        if m["event_id"]:
            by_event.setdefault(m["event_id"], set()).add(m["article_id"])
    assert by_event and all(len(arts) == 1 for arts in by_event.values())
    assert all(a["linked"] for a in rows(store, "articles"))
