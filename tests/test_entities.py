"""Entity mentions: roles, short forms, descriptions, metonyms, nationalities, gazetteer."""

from __future__ import annotations

import pytest

from storyline.annotate.entities import clean_span, initials, is_junk, name_words, role_fits
from storyline.annotate.gazetteer import gazetteer, norm
from storyline.records import Annotations, Mention


def mentions(text: str) -> list[Mention]:
    """Run the real sentences + entities components over one text."""
    from storyline.annotate import Context, _sentences, entities
    from storyline.annotate.nlp import load_nlp

    doc = load_nlp()(text)
    ctx = Context("t", doc.text, None, doc, Annotations(article_id="t"))
    _sentences(ctx)
    entities.run(ctx)
    return ctx.ann.mentions


def find(ms: list[Mention], text: str, **want: object) -> Mention:
    hits = [m for m in ms if m.text == text and all(getattr(m, k) == v for k, v in want.items())]
    assert hits, f"no mention {text!r} {want} in {[(m.text, m.label, m.kind) for m in ms]}"
    return hits[0]


# -- pure helpers (no model) ---------------------------------------------------------------


def test_clean_span_strips_possessive_article_and_unclosed_bracket() -> None:
    text = "the Shanghai Cooperation Organization (SCO said; Xi’s trip; U.S."
    s, e = clean_span(text, 0, text.index(" said"))
    assert text[s:e] == "Shanghai Cooperation Organization"
    i = text.index("Xi’s")
    s, e = clean_span(text, i, i + 4)
    assert text[s:e] == "Xi"
    i = text.index("U.S.")
    s, e = clean_span(text, i, i + 4)
    assert text[s:e] == "U.S."


def test_junk_and_name_words() -> None:
    assert is_junk("mosques") and is_junk("--") and is_junk("COVID-19")
    assert not is_junk("Kremlin")
    assert name_words("Mr. Putin") == ("Putin",)
    assert initials("Shanghai Cooperation Organisation") == "SCO"
    assert initials("North Atlantic Treaty Organization") == "NATO"
    assert role_fits("leader", "Chinese President") is True
    assert role_fits("leader", "foreign minister") is False
    assert role_fits("leader", None) is None


def test_gazetteer_countries_cities_curated() -> None:
    g = gazetteer()
    assert norm("the U.S.'s") == "u.s."
    for name, code in [("the U.S.", "US"), ("America", "US"), ("Britain", "GB"), ("Russia", "RU")]:
        assert g.country_code(name) == code, name
    assert g.country_code("South Korea") == "KR" and g.country_code("Iran") == "IR"
    assert g.country_name("RU") == "Russia"
    assert g.demonym("Ukrainians") == "UA" and g.demonym("anti-Western") is None
    city = g.lookup("Samarkand")
    assert city and city.country == "UZ" and city.kind == "city" and abs(city.lat - 39.65) < 0.1
    kiev = g.lookup("Kiev")  # an alternate name of Kyiv
    assert kiev and kiev.name == "Kyiv" and kiev.country == "UA"
    sea = g.lookup("the East China Sea")
    assert sea and sea.kind == "sea" and sea.lat is not None and sea.country is None
    assert g.lookup("Crimea").country == "UA"
    assert g.lookup("Paris").country == "FR"
    assert g.lookup("Paris", near="US").country == "US"
    assert g.lookup("Tripoli", prefer={"LB"}).country == "LB"  # big enough to win
    assert g.lookup("Moscow", prefer={"US"}).country == "RU"  # Moscow, Idaho is too small
    assert g.lookup("Nowhereville") is None
    assert gazetteer() is g  # built once per process


# -- the component on real text -----------------------------------------------------------


@pytest.mark.model
def test_roles_attached_to_people() -> None:
    ms = mentions(
        "Chinese President Xi Jinping met Russian envoy to Beijing Andrey Denisov and "
        "Kremlin spokesman Dmitry Peskov. Wang Yi, China's foreign minister, said so."
    )
    xi = find(ms, "Xi Jinping", label="PERSON")
    assert (xi.role, xi.canonical, xi.country) == ("Chinese President", "Xi Jinping", "CN")
    denisov = find(ms, "Andrey Denisov", label="PERSON")
    assert denisov.role.startswith("Russian envoy") and denisov.country == "RU"
    peskov = find(ms, "Dmitry Peskov", label="PERSON")
    assert peskov.role == "Kremlin spokesman" and peskov.country == "RU"
    wang = find(ms, "Wang Yi", label="PERSON")
    assert "foreign minister" in wang.role and wang.country == "CN"


@pytest.mark.model
def test_short_forms_resolve_to_the_full_name() -> None:
    ms = mentions(
        "Chinese President Xi Jinping arrived in Moscow. Xi’s visit was praised by Mr Xi's "
        "hosts. Russian President Vladimir Putin greeted him. Mr. Putin said President Xi "
        "and Jinping's aides were welcome."
    )
    people = [m for m in ms if m.label == "PERSON" and m.kind == "name"]
    texts = {m.text for m in people}
    assert {"Xi", "Putin", "Jinping"} <= texts
    assert "Xi’s" not in texts  # possessive stripped
    for m in people:
        assert m.canonical in ("Xi Jinping", "Vladimir Putin"), m
        assert set(m.text.split()) <= set(m.canonical.split()), m
    assert find(ms, "Xi", role="President").canonical == "Xi Jinping"


@pytest.mark.model
def test_descriptions_resolved_by_nationality_and_role() -> None:
    ms = mentions(
        "Chinese President Xi Jinping and Russian President Vladimir Putin met on Monday. "
        "Later Putin praised the Chinese leader, and Xi thanked the Russian president. "
        "The Iranian leader stayed away."
    )
    leader = find(ms, "the Chinese leader")
    assert (leader.kind, leader.label, leader.canonical, leader.country) == (
        "title",
        "PERSON",
        "Xi Jinping",
        "CN",
    )
    assert find(ms, "the Russian president", kind="title").canonical == "Vladimir Putin"
    iran = find(ms, "The Iranian leader", kind="title")
    assert iran.canonical is None  # nobody in the article fits


@pytest.mark.model
def test_description_not_resolved_to_a_person_with_another_role() -> None:
    ms = mentions(
        "Chinese Foreign Minister Wang Yi met reporters. The Chinese leader was not there."
    )
    assert find(ms, "The Chinese leader", kind="title").canonical is None


@pytest.mark.model
def test_people_sharing_a_surname_stay_apart() -> None:
    ms = mentions("Kim Jong Un met his sister Kim Yo Jong. Joe Biden and Hunter Biden spoke.")
    canon = {m.text: m.canonical for m in ms if m.label == "PERSON"}
    assert canon["Kim Jong Un"] == "Kim Jong Un" and canon["Kim Yo Jong"] == "Kim Yo Jong"
    assert canon["Joe Biden"] == "Joe Biden" and canon["Hunter Biden"] == "Hunter Biden"


@pytest.mark.model
def test_metonyms_are_governments() -> None:
    ms = mentions(
        "The Kremlin said it was ready. Beijing said it opposed sanctions. "
        "Washington has warned against the deal. Moscow's invasion drew criticism. "
        "He met officials in Moscow. The White House agreed. Talks were held in the Kremlin."
    )
    for text, code, name in [
        ("Kremlin", "RU", "Russia"),
        ("Beijing", "CN", "China"),
        ("Washington", "US", "United States"),
    ]:
        m = find(ms, text, label="GOV")
        assert (m.kind, m.country, m.canonical) == ("metonym", code, name)
    assert find(ms, "White House", label="GOV").country == "US"
    building = [m for m in ms if m.text == "Kremlin"][-1]
    assert building.label == "FAC" and building.lat is not None  # a place, not an actor
    moscow = [m for m in ms if m.text == "Moscow"]
    assert [m.label for m in moscow] == ["GOV", "GPE"]  # the invader, then the city
    assert moscow[1].lat is not None and moscow[1].country == "RU"


@pytest.mark.model
def test_nationalities_and_countries() -> None:
    ms = mentions("Russian forces advanced while the U.S. and Britain objected.")
    assert find(ms, "Russian", label="NORP").country == "RU"
    us = find(ms, "U.S.", label="GPE")
    assert (us.country, us.canonical) == ("US", "United States")
    assert find(ms, "Britain").country == "GB"


@pytest.mark.model
def test_places_from_the_gazetteer() -> None:
    ms = mentions(
        "The leaders met in Samarkand. Warships sailed through the South China Sea and the "
        "Taiwan Strait. Fighting reached Tripoli, Lebanon. The Shanghai Cooperation "
        "Organization (SCO) met. The SCO was founded in 2001."
    )
    sam = find(ms, "Samarkand")
    assert sam.country == "UZ" and abs(sam.lat - 39.65) < 0.1 and abs(sam.lon - 66.96) < 0.1
    scs = find(ms, "South China Sea")
    assert scs.canonical == "South China Sea" and scs.lat is not None
    assert find(ms, "Taiwan Strait").lat is not None
    assert find(ms, "Tripoli").country == "LB"  # not the bigger Tripoli in Libya
    assert find(ms, "Shanghai Cooperation Organization", label="ORG")
    assert find(ms, "SCO", label="ORG").canonical == "Shanghai Cooperation Organization"


@pytest.mark.model
def test_ambiguous_city_defaults_to_the_biggest() -> None:
    assert find(mentions("Tripoli was calm on Monday."), "Tripoli").country == "LY"


@pytest.mark.model
def test_mentions_are_ordered_non_overlapping_and_point_at_their_text() -> None:
    text = (
        "Russian President Vladimir Putin and his Chinese counterpart, Xi Jinping, met in "
        "Samarkand, Uzbekistan. The Kremlin said the Chinese leader backed Moscow's stance.\n\n"
        "Kremlin spokesman Dmitry Peskov told reporters that Putin was pleased."
    )
    from storyline.annotate.nlp import load_nlp

    n_sents = len(list(load_nlp()(text).sents))
    ms = mentions(text)
    assert ms
    prev_end = -1
    for m in ms:
        assert text[m.start : m.end] == m.text
        assert m.start >= prev_end
        assert 0 <= m.sentence < n_sents
        prev_end = m.end
    assert find(ms, "Xi Jinping").role == "Chinese counterpart"
    assert find(ms, "Putin").canonical == "Vladimir Putin"


@pytest.mark.model
def test_full_name_missed_by_ner_is_recovered_from_its_short_form() -> None:
    ms = mentions(
        "In a display of support, Russia’s Vladimir Putin and China’s Xi Jinping have met. "
        "Putin told the Chinese president he was welcome. It is Xi’s first trip abroad."
    )
    xi = find(ms, "Xi Jinping", label="PERSON")
    assert xi.country == "CN"  # from "China’s"
    assert find(ms, "Xi").canonical == "Xi Jinping"
    assert find(ms, "the Chinese president", kind="title").canonical == "Xi Jinping"


def test_bodies_of_people_tagged_person_become_organisations() -> None:
    from storyline.annotate.entities import _fix_labels, _Item

    items = [
        _Item(0, 1, Mention(0, 6, "Police", "PERSON", 0)),
        _Item(2, 6, Mention(10, 40, "State Police Investigators", "PERSON", 0)),
        _Item(7, 9, Mention(50, 62, "Rick Officer", "PERSON", 1)),  # a surname, not a body
        _Item(10, 12, Mention(70, 80, "Jane Doe", "PERSON", 1)),
    ]
    _fix_labels(items, gazetteer())
    assert [it.m.label for it in items] == ["ORG", "ORG", "PERSON", "PERSON"]
