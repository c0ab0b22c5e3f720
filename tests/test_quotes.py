"""Quotes with speakers: each form on synthetic text, through the real annotate components."""

from __future__ import annotations

import hashlib
import json

import pytest
from conftest import DEMO

from storyline.annotate.quotes import MAX_OPEN_CHARS, find_direct_spans
from storyline.eval.quotes import Span, same_speaker, score_doc
from storyline.records import Quote


def quotes_of(text: str) -> list[Quote]:
    """Parse and run every annotate component, as ingest does; check the offsets contract."""
    from storyline.annotate import annotate_doc
    from storyline.annotate.nlp import load_nlp

    ann = annotate_doc("t", text, None, load_nlp()(text))
    for q in ann.quotes:
        assert text[q.start : q.end] == q.text
        sent = ann.sentences[q.sentence]
        assert sent.start <= q.start < sent.end
        if q.speaker_start is not None:
            assert text[q.speaker_start : q.speaker_end]
    return ann.quotes


def one(quotes: list[Quote], contains: str, kind: str | None = None) -> Quote:
    found = [q for q in quotes if contains in q.text and (kind is None or q.kind == kind)]
    assert len(found) == 1, [(q.kind, q.text) for q in quotes]
    return found[0]


# --- quote marks, without a model ------------------------------------------------------------


def test_marks_pair_straight_and_curly_and_exclude_the_marks():
    text = 'He said "we will win" today. She said “they will lose” later.'
    spans = find_direct_spans(text)
    assert [text[p[0][0] : p[-1][1]] for p in spans] == ["we will win", "they will lose"]


def test_open_quote_continues_into_a_paragraph_that_opens_with_a_mark():
    text = "“The first part goes on\n\n“and the second part ends here,” she said.\n\nPlain text."
    spans = find_direct_spans(text)
    assert len(spans) == 1 and len(spans[0]) == 2
    start, end = spans[0][0][0], spans[0][-1][1]
    assert text[start:end].startswith("The first part") and text[start:end].endswith("ends here")


def test_unbalanced_mark_stops_at_the_paragraph_end():
    text = "He said “this never ends.\n\nThe next paragraph is narrative. " + "More text. " * 20
    spans = find_direct_spans(text)
    assert all(p[-1][1] <= text.index("\n\n") for p in spans)


def test_unbalanced_mark_in_a_long_paragraph_swallows_nothing():
    text = "A stray “ mark " + "and a very long paragraph " * 60 + "\n\nNext."
    spans = find_direct_spans(text)
    assert all(sum(e - s for s, e in p) <= MAX_OPEN_CHARS for p in spans)


# --- direct quotes ---------------------------------------------------------------------------


@pytest.mark.model
def test_direct_quote_with_speaker_after():
    text = "Emmanuel Macron arrived in Berlin.\n\n“We must act together on energy,” Macron said."
    q = one(quotes_of(text), "act together", "direct")
    assert q.text == "We must act together on energy"
    assert q.speaker == "Macron"
    assert q.speaker_canonical == "Emmanuel Macron"
    assert text[q.speaker_start : q.speaker_end] == "Macron"


@pytest.mark.model
def test_direct_quote_after_colon_with_addressee():
    text = (
        "Olaf Scholz met Emmanuel Macron in Paris on Monday.\n\n"
        "Scholz told Macron: “Europe needs a common answer to this crisis.”"
    )
    q = one(quotes_of(text), "common answer", "direct")
    assert q.speaker_canonical == "Olaf Scholz"
    assert q.addressee == "Emmanuel Macron"


@pytest.mark.model
def test_quote_paragraph_without_speaker_takes_the_previous_one():
    text = (
        "“We will rebuild every street,” Mayor Anne Hidalgo said on Tuesday.\n\n"
        "“Nothing will stop us. The city is strong and its people are stronger.”\n\n"
        "The fire destroyed three buildings."
    )
    q = one(quotes_of(text), "Nothing will stop us")
    assert q.kind == "direct"
    assert q.speaker_canonical == "Anne Hidalgo"


@pytest.mark.model
def test_quote_paragraph_after_reported_speech_takes_its_speaker():
    text = (
        "Mayor Anne Hidalgo said the city would recover quickly from the fire.\n\n"
        "“We will rebuild every street, and we will do it together with the people.”"
    )
    q = one(quotes_of(text), "rebuild every street", "direct")
    assert q.speaker_canonical == "Anne Hidalgo"


@pytest.mark.model
def test_told_a_news_organisation_is_a_channel_not_an_addressee():
    text = (
        "Police Officer Frank Robertson told NBC News that seven victims were in stable condition."
    )
    q = one(quotes_of(text), "seven victims", "indirect")
    assert q.channel == "told NBC News"
    assert q.addressee is None


@pytest.mark.model
def test_multi_paragraph_quote_is_one_quote():
    text = (
        "Angela Merkel spoke at length.\n\n"
        "“The first thing we have to do is stabilise the banks\n\n"
        "“and the second is to protect the savings of ordinary people,” Merkel said."
    )
    quotes = [q for q in quotes_of(text) if q.kind == "direct"]
    assert len(quotes) == 1
    q = quotes[0]
    assert q.text.startswith("The first thing") and q.text.endswith("ordinary people")
    assert q.speaker_canonical == "Angela Merkel"


@pytest.mark.model
def test_partial_quote_counts_but_a_scare_quote_does_not():
    text = (
        "Emmanuel Macron said the plan was a “historic step for Europe” and urged a quick vote.\n\n"
        "The so-called “deal” collapsed a week later."
    )
    quotes = quotes_of(text)
    q = one(quotes, "historic step", "direct")
    assert q.text == "historic step for Europe"
    assert q.speaker_canonical == "Emmanuel Macron"
    assert not [q for q in quotes if q.text == "deal"]


@pytest.mark.model
def test_unbalanced_marks_do_not_swallow_the_article():
    text = (
        "Angela Merkel said “the talks will go on.\n\n"
        "The next paragraph is narrative and belongs to the reporter.\n\n"
        "“We are not finished yet,” Merkel said."
    )
    quotes = quotes_of(text)
    assert not [q for q in quotes if "narrative" in q.text]
    last = one(quotes, "not finished", "direct")
    assert last.speaker_canonical == "Angela Merkel"


# --- indirect speech -------------------------------------------------------------------------


@pytest.mark.model
def test_said_that_gives_an_indirect_quote():
    text = "Emmanuel Macron said that France would send more aid to the region."
    q = one(quotes_of(text), "France would send", "indirect")
    assert q.text == "France would send more aid to the region"
    assert q.speaker_canonical == "Emmanuel Macron"


@pytest.mark.model
def test_according_to_a_person():
    text = "The talks will resume in Geneva next week, according to Olaf Scholz."
    q = one(quotes_of(text), "talks will resume", "indirect")
    assert q.speaker_canonical == "Olaf Scholz"
    assert "according" not in q.text


@pytest.mark.model
def test_told_reporters_is_a_channel():
    text = "Olaf Scholz told reporters on Friday that the deal was close."
    q = one(quotes_of(text), "the deal was close", "indirect")
    assert q.speaker_canonical == "Olaf Scholz"
    assert q.channel == "told reporters"
    assert q.addressee is None and not q.second_hand


@pytest.mark.model
def test_in_a_statement_and_tweeted_are_channels():
    text = (
        "“We condemn the attack in the strongest terms,” the ministry said in a statement.\n\n"
        "Dmytro Kuleba tweeted that the talks had been productive."
    )
    quotes = quotes_of(text)
    assert one(quotes, "condemn the attack").channel == "in a statement"
    tweet = one(quotes, "talks had been productive", "indirect")
    assert tweet.channel == "tweeted"
    assert tweet.speaker_canonical == "Dmytro Kuleba"


# --- second hand -----------------------------------------------------------------------------


@pytest.mark.model
def test_was_quoted_as_saying_by_an_agency_is_second_hand():
    text = (
        "We are open to dialogue, but any talks must respect our interests, "
        "Vladimir Putin was quoted as saying by the official Xinhua news agency."
    )
    q = one(quotes_of(text), "open to dialogue", "indirect")
    assert q.speaker_canonical == "Vladimir Putin"
    assert q.second_hand
    assert "Xinhua" in (q.channel or "")


@pytest.mark.model
def test_media_reported_him_saying_resolves_the_pronoun():
    text = (
        "The summit will open on Monday, Andrey Denisov, Russian envoy to Beijing, "
        "told reporters on Wednesday.\n\n"
        "“This summit promises to be interesting,” Russian media outlets reported him saying."
    )
    quotes = quotes_of(text)
    said = one(quotes, "summit will open", "indirect")
    assert said.text == "The summit will open on Monday"  # the attribution is not reported speech
    assert said.speaker_canonical == "Andrey Denisov"
    q = one(quotes, "promises to be interesting", "direct")
    assert q.speaker == "him"
    assert q.speaker_canonical == "Andrey Denisov"
    assert q.second_hand
    assert "reported" in (q.channel or "")


@pytest.mark.model
def test_according_to_an_outlet_after_a_speech_verb_is_the_channel():
    text = "“We will deepen our cooperation,” Xi Jinping said, according to CCTV."
    q = one(quotes_of(text), "deepen our cooperation", "direct")
    assert q.speaker_canonical == "Xi Jinping"
    assert q.channel == "according to CCTV"
    assert q.second_hand


# --- speakers through pronouns and descriptions ----------------------------------------------


@pytest.mark.model
def test_pronoun_speaker_resolves_to_the_person_in_subject_position():
    text = (
        "Angela Merkel met Emmanuel Macron in Berlin on Monday.\n\n"
        "She said the economy of the euro zone was recovering."
    )
    q = one(quotes_of(text), "economy", "indirect")
    assert q.speaker == "She"
    assert q.speaker_canonical == "Angela Merkel"


@pytest.mark.model
def test_description_resolves_by_nationality_not_just_recency():
    text = (
        "Chinese President Xi Jinping met Russian President Vladimir Putin in Moscow.\n\n"
        "“We are ready to work together for a fairer world order,” the Chinese leader said.\n\n"
        "“Our partnership has no limits,” the Russian leader said."
    )
    quotes = quotes_of(text)
    assert one(quotes, "fairer world").speaker_canonical == "Xi Jinping"
    assert one(quotes, "no limits").speaker_canonical == "Vladimir Putin"


# --- evaluation ------------------------------------------------------------------------------


def test_scoring_matches_one_to_one_by_overlap_and_kind():
    text = "x" * 100
    gold = [Span(0, 40, "direct", ["Vladimir Putin"]), Span(50, 90, "indirect", ["police"])]
    system = [
        Span(0, 38, "direct", ["Putin"]),  # overlaps, speaker right
        Span(5, 40, "direct", ["Xi"]),  # overlaps less: cannot take the same gold quote
        Span(50, 90, "direct", ["police"]),  # wrong kind
    ]
    sc = score_doc(text, gold, system)
    assert (sc.gold, sc.system, sc.overlap, sc.exact) == (2, 3, 1, 0)
    assert (sc.speaker_ok, sc.speaker_n) == (1, 1)
    # exact matching ignores the marks and a final full stop, nothing else
    text = "He said “We will win.” today."
    s = text.index("We")
    gold = [Span(s, s + len("We will win."), "direct")]
    assert score_doc(text, gold, [Span(s - 1, s + len("We will win"), "direct")]).exact == 1
    assert score_doc(text, gold, [Span(s, s + len("We will"), "direct")]).exact == 0


def test_speaker_names_match_on_their_head_word():
    assert same_speaker(["Vladimir Putin"], ["Putin"])
    assert same_speaker(["woman|mother"], ["the woman"])
    assert not same_speaker(["Xi Jinping"], ["Vladimir Putin"])
    assert not same_speaker(["police"], [])


@pytest.mark.model
def test_eval_command_runs_on_a_small_gold_set(tmp_path, capsys):
    from storyline.cli import main

    name = "000_3dcff99e2eaf5347.txt"
    text = (DEMO / name).read_text(encoding="utf-8")
    quote = "We intend to firmly adhere to the principle of ‘One China’"
    s = text.index(quote)
    e = s + len(quote)
    sha = hashlib.sha1(text[s:e].encode()).hexdigest()[:12]
    rec = {
        "id": name,
        "indirect_annotated": False,
        "quotes": [{"start": s, "end": e, "kind": "direct", "speaker": "Putin", "sha1": sha}],
    }
    (tmp_path / "sample.jsonl").write_text(json.dumps(rec) + "\n", encoding="utf-8")
    assert main(["eval", "quotes", str(tmp_path), "--no-peers", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["results"]
    direct = next(r for r in rows if r["scope"] == "direct" and r["system"] == "storyline")
    assert direct["gold"] == 1 and direct["overlap"] == 1 and direct["speaker_ok"] == 1
    assert direct["found"] >= 1

    rec["quotes"][0]["sha1"] = "0" * 12  # gold from another version of the text
    (tmp_path / "sample.jsonl").write_text(json.dumps(rec) + "\n", encoding="utf-8")
    assert main(["eval", "quotes", str(tmp_path), "--no-peers"]) == 3
    err = capsys.readouterr().err
    assert "does not match" in err and "Traceback" not in err
