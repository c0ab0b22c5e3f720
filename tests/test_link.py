"""The link stage on real stores: entities, events, dating and utterances across articles.

Most tests write annotation records (the contract between annotate and link) straight into a
real SQLite store, so they test linking whatever the annotators of the day produce; one test
runs the whole real pipeline (spaCy model included) on small generated texts.
"""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

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
        s = ann.sentences[0]
        ann.quotes.append(
            Quote(
                s.start + 14,
                s.end - 2,
                w,
                "direct",
                0,
                speaker="Putin",
                speaker_canonical="Vladimir Putin",
            )
        )
        s1 = ann.sentences[1]
        ann.quotes.append(
            Quote(
                s1.start + 13,
                s1.end - 2,
                "The weather is fine.",
                "direct",
                1,
                speaker="Putin",
                speaker_canonical="Vladimir Putin",
            )
        )
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
