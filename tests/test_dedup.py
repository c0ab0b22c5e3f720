"""Near-duplicates, rewrites and same-story links between articles (storyline/link/articles.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import run_cli

from storyline.extract import article_id, content_hash
from storyline.link.articles import (
    PARAMS,
    Feat,
    Pair,
    Params,
    assign_clusters,
    classify,
    containment,
    day_of,
    link_articles,
    lsh_keys,
    minhash_of,
    names_of,
    score_pairs,
    shingles,
    story_clusters,
    story_score,
    tfidf_vector,
)
from storyline.link.embed import index_for
from storyline.records import Article

WIRE = (
    "Flooding forced the evacuation of 3,200 residents from the riverside town of Kellerby "
    "on Tuesday after the Arden river burst its banks following three days of heavy rain, "
    "officials said. Mayor Harriet Olumide said emergency shelters had been opened at the "
    "Kellerby community college and at St Brennan's church, and that two people were taken "
    "to hospital with minor injuries. The regional water authority said the river peaked at "
    "6.4 metres, the highest level since records began in 1911. Engineers from the Dunmore "
    "county council were inspecting the Holloway bridge, which was closed to traffic as a "
    "precaution. Forecasters expect more rain on Thursday, and the authority warned that "
    "villages downstream, including Ashcombe and Pell Marsh, could be flooded overnight. "
    "Olumide urged residents not to return to their homes until the water had receded and "
    "the electricity company had checked the supply."
)

PARAPHRASE = (
    "Thousands of people in Kellerby had to leave their homes this week when the swollen Arden "
    "river overflowed after days of torrential downpours. According to Mayor Harriet Olumide, "
    "evacuees are being housed at the local college and at St Brennan's church, while a pair "
    "of residents needed hospital treatment for light injuries. Water reached a record 6.4 "
    "metres, the authority responsible for the river reported, beating a mark set in 1911. "
    "The Holloway bridge has been shut while Dunmore council engineers check it, and "
    "communities further down the valley, such as Ashcombe and Pell Marsh, have been told to "
    "prepare for flooding."
)

UNRELATED = (
    "Northfield United won the regional cup final on Saturday, beating Castlegate Rovers 3-1 in "
    "front of a sell-out crowd at Ridgeway Park. Striker Tomasz Wierzbicki scored twice in the "
    "second half after Rovers had taken an early lead through a penalty. Manager Colette "
    "Amadi praised her squad's resilience and said the club would celebrate with a parade "
    "through the town centre on Sunday afternoon. Ticket sales for next season opened online."
)


def add(store, source: str, text: str, title: str | None = None, date: str | None = None) -> str:
    digest = content_hash(text.encode())
    art = Article(
        id=article_id(source, None, digest),
        source=source,
        content_hash=digest,
        text=text,
        title=title,
        pub_date=date,
        pub_date_source="metadata" if date else "unknown",
        pub_date_precision="day" if date else None,
    )
    with store.transaction() as conn:
        return store.add_articles(conn, [(art, None)])[0]


def relations(store, aid: str) -> dict[str, tuple[str, float]]:
    """other article -> (kind, score) for one article's relations."""
    with store.read() as conn:
        rels = store.relations_of(conn, [aid])[aid]
    return {r["other_id"]: (r["kind"], r["score"]) for r in rels}


# -- pure parts (no model) ---------------------------------------------------------------------


def test_containment_survives_a_new_top_and_tail():
    core = shingles(WIRE)
    framed = shingles("By Staff Reporter. Subscribe now for updates. " + WIRE + " Copyright 2024.")
    jac = float(np.mean(minhash_of(core) == minhash_of(framed)))
    assert containment(jac, len(core), len(framed)) > 0.8
    assert set(lsh_keys(minhash_of(core))) & set(lsh_keys(minhash_of(framed)))
    assert not set(lsh_keys(minhash_of(core))) & set(lsh_keys(minhash_of(shingles(UNRELATED))))


def test_names_keep_people_places_and_surnames_not_sentence_starts():
    names = names_of("Floods in Kellerby", WIRE)
    assert {"harriet olumide", "olumide", "kellerby", "holloway"} <= names
    assert "flooding" not in names and "the" not in names and "tuesday" not in names


def test_tfidf_leaves_out_words_too_common_in_the_store():
    terms = {"shooting": 1.0, "kellerby": 1.0}
    idf = {"shooting": 1.2, "kellerby": 5.0}
    assert set(tfidf_vector(terms, idf)) == {"shooting", "kellerby"}
    v = tfidf_vector(terms, idf, min_idf=2.0)
    assert set(v) == {"kellerby"} and v["kellerby"] == pytest.approx(1.0)


def test_day_of_handles_partial_and_bad_dates():
    assert day_of("2022-09-15") - day_of("2022-09-01") == 14
    assert day_of("2022-09") == day_of("2022-09-01")
    assert day_of(None) is None and day_of("sometime") is None


def _pair(**kw) -> Pair:
    base = dict(
        a="x",
        b="y",
        cos=0.2,
        jaccard=0.0,
        containment=0.0,
        size_ratio=1.0,
        name_w=0.0,
        days=0,
        same_text=False,
    )
    base.update(kw)
    return Pair(**base)


def test_classify_kinds_and_date_penalty():
    assert classify(_pair(same_text=True)) == ("duplicate_of", 1.0)
    assert classify(_pair(containment=0.95))[0] == "duplicate_of"
    assert classify(_pair(containment=0.95, size_ratio=0.2))[0] == "rewrite_of"
    assert classify(_pair(cos=0.93))[0] == "rewrite_of"
    assert classify(_pair(cos=0.2)) is None
    p = Params(
        tfidf_weight=0.5, name_weight=0.3, name_cap=12.0, date_weight=0.3, story_threshold=0.6
    )
    near = classify(_pair(cos=0.75, tfidf=0.6, days=1), p)
    assert near is not None and near[0] == "same_story_as"
    # the same similarity a year apart, with nothing else shared, is not the same story
    assert classify(_pair(cos=0.75, tfidf=0.6, days=400), p) is None
    # ...unless rare names (a victim's, a suspect's) are shared: the follow-up case
    assert classify(_pair(cos=0.75, tfidf=0.6, days=120, name_w=40.0), p) is not None
    # an undated pair counts as a few days apart: surer than a month apart, less than same-day
    undated = story_score(_pair(cos=0.7, tfidf=0.5, days=None), p)
    assert story_score(_pair(cos=0.7, tfidf=0.5, days=30), p) < undated
    assert undated < story_score(_pair(cos=0.7, tfidf=0.5, days=0), p)


def test_shared_names_soften_the_date_penalty_and_one_outlet_is_no_evidence():
    p = Params(name_relief=0.5, outlet_penalty=0.15)
    flat = Params(name_relief=0.0, outlet_penalty=0.15)
    months = _pair(cos=0.6, tfidf=0.3, days=90, name_w=45.0)
    # the arrest three months later naming the victim loses less than without the relief
    assert story_score(months, p) > story_score(months, flat)
    # the relief needs names: without them the penalty is the same
    bare = _pair(cos=0.6, tfidf=0.3, days=90)
    assert story_score(bare, p) == pytest.approx(story_score(bare, flat))
    # two pages of one outlet share furniture: the same similarity counts for less
    same = _pair(cos=0.6, tfidf=0.3, days=1, same_outlet=True)
    other = _pair(cos=0.6, tfidf=0.3, days=1)
    assert story_score(same, p) == pytest.approx(story_score(other, p) - 0.15)


def test_clusters_join_on_average_not_on_one_loose_link():
    # c matches a strongly but b (in a's cluster) not at all: the average decides
    edges = {"b": [("a", 1.0)], "c": [("a", 0.7), ("b", 0.0)], "d": [("a", 0.9), ("b", 0.9)]}
    cl = assign_clusters(["a", "b", "c", "d"], edges, 0.5)
    assert cl["a"] == cl["b"] == cl["d"] == "a"
    assert cl["c"] == "c"  # 0.35 on average: its own cluster, named after itself
    # existing clusters and their sizes come from the store in the real linker
    cl = assign_clusters(["e"], {"e": [("x", 0.9)]}, 0.5, {"x": "k"}, {"k": 3})
    assert cl["e"] == "e"  # 0.9 / 3 members is below the threshold


def test_a_batch_finds_its_own_event_before_a_similar_older_cluster():
    # k: an older cluster of three (x, y, z) about another event of the same kind. The batch
    # b1, b2, b3 reports one new event; b1 alone looks like k (0.45 on average), the others less
    old = {"x": "k", "y": "k", "z": "k"}
    edges = {
        "b1": [("x", 0.45), ("y", 0.45), ("z", 0.45)],
        "b2": [("b1", 0.9), ("x", 0.2), ("y", 0.2), ("z", 0.2)],
        "b3": [("b1", 0.9), ("b2", 0.9), ("x", 0.2), ("y", 0.2), ("z", 0.2)],
    }
    cl = assign_clusters(["b1", "b2", "b3"], edges, 0.4, old, {"k": 3})
    assert cl["b1"] == cl["b2"] == cl["b3"] == "b1"  # together: 0.28 on average to k
    # one at a time (batches of one), b1 would have joined k on its own
    assert assign_clusters(["b1"], edges, 0.4, old, {"k": 3})["b1"] == "k"
    # two older clusters never merge through a new article
    cl = assign_clusters(["n"], {"n": [("x", 1.0), ("w", 1.0)]}, 0.4, {"x": "k", "w": "m"})
    assert cl["n"] in ("k", "m") and cl["x"] == "k" and cl["w"] == "m"
    _ = Feat  # the feature record is part of the public surface


# -- the real model and store --------------------------------------------------------------------


@pytest.mark.model
def test_copies_rewrites_and_unrelated(store):
    wire = add(
        store, "wire/1.txt", WIRE, "Thousands evacuated as Arden floods Kellerby", "2024-03-05"
    )
    copy = add(
        store, "paper/1.txt", WIRE, "Thousands evacuated as Arden floods Kellerby", "2024-03-05"
    )
    framed = add(
        store,
        "paper/2.txt",
        "By Staff Reporter | The Dunmore Gazette\n\nSign up for our morning briefing.\n\n"
        + WIRE
        + "\n\nMore from the Gazette: council tax rises approved; school term dates announced.",
        "Kellerby floods: 3,200 evacuated",
        "2024-03-05",
    )
    para = add(store, "blog/1.txt", PARAPHRASE, "Arden river overflows in Kellerby", "2024-03-06")
    other = add(store, "sport/1.txt", UNRELATED, "Northfield lift the cup", "2024-03-05")
    counts = link_articles(store, [wire, copy, framed, para, other])
    assert counts["articles"] == 5

    assert relations(store, copy)[wire][0] == "duplicate_of"
    assert relations(store, framed)[wire][0] in ("duplicate_of", "rewrite_of")
    para_rel = relations(store, para)
    assert para_rel.get(wire, ("none",))[0] in ("rewrite_of", "same_story_as")
    assert relations(store, other) == {}
    assert wire not in relations(store, other) and other not in relations(store, wire)
    clusters = story_clusters(store)
    assert clusters[wire] == clusters[copy] == clusters[framed] == clusters[para]
    assert clusters[other] != clusters[wire]
    # every copy stays stored and visible
    assert store.count() == 5


@pytest.mark.model
def test_vector_neighbours_count_only_inside_the_date_window(store, monkeypatch):
    first = add(store, "wire/1.txt", WIRE, "Thousands evacuated as Arden floods", "2024-03-05")
    link_articles(store, [first])

    def found(aid: str) -> set[str]:
        pairs: list[Pair] = []
        link_articles(store, [aid], collect=pairs)
        return {p.b for p in pairs if p.a == aid}

    later = add(store, "blog/1.txt", PARAPHRASE, "The Arden overflows", "2024-09-20")
    assert first in found(later)  # six months on: its rare names (Olumide, Kellerby) find it
    monkeypatch.setattr("storyline.link.articles.MAX_DF", 0)  # as if every name were common
    again = add(store, "blog/2.txt", PARAPHRASE + " More rain is due.", None, "2024-09-21")
    assert first not in found(again)  # a look-alike months away, met only in the vector index
    near = add(store, "blog/3.txt", PARAPHRASE + " Schools stay shut.", None, "2024-03-20")
    assert first in found(near)  # the same look, inside the window


@pytest.mark.model
def test_incremental_batches_link_against_the_store(store):
    first = add(store, "wire/1.txt", WIRE, "Kellerby floods", "2024-03-05")
    link_articles(store, [first])
    later = add(store, "paper/9.txt", WIRE + " Updated at noon.", "Kellerby floods", "2024-03-05")
    counts = link_articles(store, [later])
    assert counts["duplicate_of"] == 1
    assert relations(store, later)[first][0] == "duplicate_of"
    # linking the same articles again replaces their rows instead of failing or doubling them
    link_articles(store, [later])
    assert len(relations(store, later)) == 1
    # the ANN index is rebuilt from the embeddings table when its file is lost
    import os

    os.remove(store.location + ".ann.usearch")
    third = add(store, "paper/10.txt", PARAPHRASE, "Arden overflows", "2024-03-06")
    counts = link_articles(store, [third])
    assert counts["candidates"] == 2  # both stored articles came back as neighbours
    assert os.path.exists(store.location + ".ann.usearch")
    assert len(index_for(store.location, store.dialect).index) == 3


@pytest.mark.model
def test_many_wire_copies_do_not_hang(store):
    ids = []
    arts = []
    for i in range(500):
        text = f"{WIRE} Reporting by correspondent number {i}; editing by desk {i % 7}."
        digest = content_hash(text.encode())
        arts.append(
            (
                Article(
                    id=article_id(f"feed/{i}", None, digest),
                    source=f"feed/{i}",
                    content_hash=digest,
                    text=text,
                    title="Kellerby floods",
                    pub_date="2024-03-05",
                ),
                None,
            )
        )
    with store.transaction() as conn:
        ids = store.add_articles(conn, arts)
    counts = link_articles(store, ids)
    assert counts["articles"] == 500
    assert counts.get("duplicate_of", 0) >= 499  # every copy but the first points back
    with store.read() as conn:
        rels = store.relations_of(conn, ids)
    assert all(len(v) <= 5 for v in rels.values())  # a bounded number of relations each


@pytest.mark.model
def test_relations_show_in_cli_and_export(tmp_path):
    from storyline.store import open_store

    db = tmp_path / "r.db"
    s = open_store(db)
    wire = add(s, "wire/1.txt", WIRE, "Kellerby floods", "2024-03-05")
    copy = add(s, "paper/1.txt", WIRE, "Kellerby floods", "2024-03-05")
    link_articles(s, [wire, copy])
    s.close()
    res = run_cli("articles", "--db", str(db), "--json")
    assert res.returncode == 0, res.stderr.decode()
    rows = {r["id"]: r for r in json.loads(res.stdout)}
    assert {"kind": "duplicate_of", "article": wire} in [
        {k: r[k] for k in ("kind", "article")} for r in rows[copy]["relations"]
    ]
    res = run_cli("export", "--db", str(db), "--format", "json")
    assert res.returncode == 0, res.stderr.decode()
    doc = json.loads(res.stdout)
    exported = {a["id"]: a for a in doc["articles"]}
    assert exported[copy]["relations"][0]["kind"] == "duplicate_of"
    assert exported[copy]["relations"][0]["article"] == wire
    assert len(exported) == 2  # the duplicate is exported, not dropped


@pytest.mark.model
def test_bfloat16_vectors_agree_with_float32(monkeypatch):
    from storyline.link import embed

    if not embed.use_bf16():
        pytest.skip("this CPU has no native bfloat16: float32 is the only path")
    texts = [
        "Police arrested a man on Friday after a shooting on Main Street left two people hurt.",
        "The prime ministers met in Samarkand to sign a trade agreement.",
        "Storm warnings were issued for the coast as the hurricane approached.",
    ]
    fast = embed.embed_texts(texts)
    monkeypatch.setenv("STORYLINE_EMBED_FP32", "1")
    embed.use_bf16.cache_clear()
    try:
        exact = embed.embed_texts(texts)
    finally:
        embed.use_bf16.cache_clear()
    assert not np.array_equal(fast, exact)  # the switch does change the arithmetic
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    cos = (fast * exact).sum(axis=1)
    assert cos.min() > 0.999  # close enough that stored float32 and bf16 vectors mix
    # and it still tells different texts apart as float32 does
    assert (
        np.argsort(fast @ fast.T, axis=1).tolist() == np.argsort(exact @ exact.T, axis=1).tolist()
    )


# -- follow-ups: the arrest or the trial months after the incident ---------------------------


def test_recalled_dates_resolve_to_the_latest_such_day_before_the_article():
    from storyline.link.articles import recalled_days

    pub = day_of("2016-05-12")
    got = recalled_days(
        "Harlow is charged in the Jan. 5 shooting. He was held on March 3, 2015.", pub
    )
    assert got == {day_of("2016-01-05"), day_of("2015-03-03")}
    # a month and day after the article's own date is last year's; no year and no date: nothing
    assert recalled_days("the Dec. 30 shooting", pub) == {day_of("2015-12-30")}
    assert recalled_days("the Jan. 5 shooting", None) == set()
    assert recalled_days("Mayor 5 spoke; Feb. 30 is no day", pub) == set()


def test_a_shared_rare_full_name_is_a_person_a_common_surname_is_not():
    from storyline.link.articles import person_of

    top = 8.0  # the idf of a name held once
    idf = {"kareem mano": 7.5, "mano": 7.0, "cook county": 7.5, "county": 1.5, "kellerby": 7.9}
    assert person_of({"kareem mano", "mano", "kellerby"}, idf, top) == pytest.approx(7.0 / 8.0)
    assert person_of({"cook county", "county"}, idf, top) == pytest.approx(1.5 / 8.0)
    assert person_of({"kareem mano"}, idf, top) == 0.0  # the surname is not shared
    assert person_of({"kellerby"}, idf, top) == 0.0  # a place, not a full name


def test_a_follow_up_naming_the_victim_and_the_date_outweighs_the_months_between():
    months = dict(cos=0.55, tfidf=0.25, days=128, name_w=20.0)
    bare = _pair(**months)
    follow = _pair(**months, person=0.85, recalls_date=True)
    assert story_score(bare) < PARAMS.cluster_threshold <= story_score(follow)
    # the same rare name without the recalled date still helps, but the months count
    named = _pair(**months, person=0.85)
    assert story_score(bare) < story_score(named) < story_score(follow)
    # the person bridges time: a pair of one day, or an undated one, gains nothing from it
    for near_days in (0, None):
        near = dict(cos=0.55, tfidf=0.25, days=near_days, name_w=20.0)
        assert story_score(_pair(**near, person=0.85)) == pytest.approx(story_score(_pair(**near)))
    # a recalled date only takes back the date penalty: a same-day pair gains nothing
    near = dict(cos=0.55, tfidf=0.25, days=0, name_w=20.0)
    assert story_score(_pair(**near, recalls_date=True)) == pytest.approx(
        story_score(_pair(**near))
    )


FILLER = [
    (
        "Northfield lift the cup",
        "Northfield United won the regional cup final on Saturday, beating Castlegate Rovers 3-1 "
        "at Ridgeway Park. Striker Tomasz Wierzbicki scored twice after the break.",
    ),
    (
        "Library reopens in Ashcombe",
        "The Ashcombe public library reopened on Monday after a two-year renovation paid for by "
        "the Brannock Trust. Librarian Oluwaseun Adeyemi said visitor numbers had doubled.",
    ),
    (
        "Bakery wins national prize",
        "A family bakery in Pell Marsh has won the national sourdough prize. Owner Ingrid "
        "Vasquez-Holm said the recipe came from her grandmother in Tromso.",
    ),
    (
        "Council approves tram line",
        "Dunmore county council approved a new tram line between Harwick and the airport on "
        "Thursday. Councillor Basil Ferreira-Lund called the vote historic.",
    ),
    (
        "Storm closes Holloway bridge",
        "High winds closed the Holloway bridge over the Arden river on Friday night. Engineers "
        "from Corrigan Structural said it would reopen once the cables had been checked.",
    ),
    (
        "School choir heads to Vienna",
        "The St Brennan's school choir will sing in Vienna next month after winning the youth "
        "choral contest. Conductor Ambrose Keeling-Park praised the sopranos.",
    ),
]


@pytest.mark.model
def test_a_follow_up_months_later_joins_its_incident_not_the_same_weeks_other(store):

    filler = [
        add(store, f"misc/{i}.txt", text, title, f"2016-01-0{1 + i % 4}")
        for i, (title, text) in enumerate(FILLER)
    ]
    incident = add(
        store,
        "gazette/1.txt",
        "A 24-year-old Kellerby man was shot and killed late Tuesday on Wexcombe Lane, police "
        "said. Marcus Tellefsen was found in the driveway of a house near the Quarry Road "
        "junction with several gunshot wounds and died at Kellerby General Hospital. Police "
        "are looking for a man seen running from the scene toward the railway underpass. "
        "Anyone with information is asked to call Kellerby police.",
        "Man shot dead on Wexcombe Lane in Kellerby",
        "2016-01-05",
    )
    other = add(
        store,
        "courier/1.txt",
        "A woman was wounded in a shooting outside a convenience store in Kellerby on Thursday "
        "evening, police said. Yolanda Brightwater, 41, was hit in the leg by a stray bullet "
        "on Marlow Avenue after an argument between two groups of men in the parking lot. She "
        "is expected to recover. Kellerby police have made no arrests.",
        "Woman hit by stray bullet on Marlow Avenue in Kellerby",
        "2016-01-07",
    )
    link_articles(store, [*filler, incident, other])
    follow = add(
        store,
        "courier/2.txt",
        "Prosecutors on Wednesday charged Devon Harlow, 31, with first-degree murder in the Jan. "
        "5 shooting death of Marcus Tellefsen in Kellerby. Harlow was arrested last week in "
        "Castlegate after a months-long investigation. Tellefsen's mother said in court that "
        "the family had waited four months for this day. Harlow is held without bail, and a "
        "preliminary hearing is set for June.",
        "Man charged with murder in January killing of Marcus Tellefsen",
        "2016-05-12",
    )
    link_articles(store, [follow])
    clusters = story_clusters(store)
    assert clusters[follow] == clusters[incident]
    assert clusters[other] != clusters[incident]
    assert len({clusters[a] for a in filler}) == len(filler)


def test_pairs_scored_in_one_call_score_as_one_by_one():
    import dataclasses

    pairs = [
        Pair("a", f"b{i}", cos, 0.1, 0.2, 0.9, name_w, days, False, tfidf, outlet, person, recall)
        for i, (cos, name_w, days, tfidf, outlet, person, recall) in enumerate(
            [
                (0.85, 0.0, 0, 0.8, False, 0.0, False),
                (0.4, 12.0, 90, 0.3, False, 0.8, True),
                (0.6, 3.0, None, 0.5, True, 0.0, False),
                (0.2, 0.0, 400, 0.1, False, 0.95, False),
            ]
        )
    ]
    one_by_one = [story_score(p) for p in pairs]
    score_pairs(pairs)
    assert [story_score(p) for p in pairs] == one_by_one
    other = dataclasses.replace(PARAMS, outlet_penalty=PARAMS.outlet_penalty + 0.2)
    # scores kept for one set of parameters are not used for another
    assert story_score(pairs[2], other) < story_score(pairs[2])
    assert [classify(p)[1] if classify(p) else None for p in pairs] == [
        round(s, 4) if s >= PARAMS.story_threshold else None for s in one_by_one
    ]
