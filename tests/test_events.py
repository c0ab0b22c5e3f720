"""Event mentions: PLOVER type and mode, status, actors, place, date, evidence sentence.

The component reads entity mentions and time expressions that earlier components write. To test
it on its own contract, mentions come from the real spaCy NER here and time expressions are the
records the timex component would write; one test runs the whole annotate stage.
"""

from __future__ import annotations

import pytest

from storyline.annotate import Context, _sentences
from storyline.annotate import events as ev
from storyline.records import Annotations, EventMention, Mention, Timex

pytestmark = pytest.mark.model

PLOVER = {
    "AGREE", "CONSULT", "SUPPORT", "CONCEDE", "COOPERATE", "AID", "RETREAT", "REQUEST", "ACCUSE",
    "REJECT", "THREATEN", "PROTEST", "SANCTION", "MOBILIZE", "COERCE", "ASSAULT", "FIGHT",
}  # fmt: skip


@pytest.fixture(scope="module")
def nlp():
    from storyline.annotate.nlp import load_nlp

    return load_nlp()


def _timex(text: str, phrase: str, value: str, occurrence: int = 0) -> Timex:
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(phrase, start + 1)
    return Timex(start, start + len(phrase), phrase, "DATE", value, sentence=0)


def run_events(nlp, text: str, pub_date: str | None = None, timexes=()) -> list[EventMention]:
    doc = nlp(text)
    ctx = Context("t", text, pub_date, doc, Annotations(article_id="t"))
    _sentences(ctx)
    sents = [s.start for s in ctx.ann.sentences]
    for ent in doc.ents:
        if ent.label_ in ("PERSON", "ORG", "GPE", "LOC", "NORP", "FAC"):
            si = sum(1 for s in sents if s <= ent.start_char) - 1
            ctx.ann.mentions.append(
                Mention(ent.start_char, ent.end_char, ent.text, ent.label_, si, canonical=ent.text)
            )
    for tx in timexes:
        tx.sentence = sum(1 for s in sents if s <= tx.start) - 1
        ctx.ann.timexes.append(tx)
    ev.run(ctx)
    return ctx.ann.events


def by_trigger(events: list[EventMention], word: str) -> EventMention:
    hits = [e for e in events if e.trigger.lower() == word]
    assert hits, f"no event on {word!r} in {[e.trigger for e in events]}"
    return hits[0]


def test_lexicon_uses_only_plover_types():
    lex = ev.load_lexicon()
    types = {t for t, _m in [*lex.verbs.values(), *lex.nouns.values()]}
    types |= {t for t, _m in lex.particle_verbs.values()}
    assert types <= PLOVER
    assert {"say", "tell", "add"}.isdisjoint(lex.verbs)  # reporting verbs are quotes


@pytest.mark.parametrize(
    ("text", "trigger", "etype", "status"),
    [
        ("Xi Jinping will visit Moscow next month.", "visit", "CONSULT", "planned"),
        ("Xi plans to visit Paris in the spring.", "visit", "CONSULT", "planned"),
        ("The summit is set to be held in Geneva.", "summit", "CONSULT", "planned"),
        ("Both sides confirmed the planned visit.", "visit", "CONSULT", "planned"),
        ("Putin is due to travel to Beijing.", "travel", "CONSULT", "planned"),
        ("Vladimir Putin met Xi Jinping in Samarkand.", "met", "CONSULT", "happened"),
        ("Xi Jinping did not meet Joe Biden in Paris.", "meet", "CONSULT", "denied"),
        ("Officials never attacked the convoy.", "attacked", "ASSAULT", "denied"),
        ("Beijing denied that it sent weapons to Russia.", "sent", "AID", "denied"),
        ("China could send weapons to Russia.", "send", "AID", "hypothetical"),
        ("If Russia invades Moldova, Europe would respond.", "invades", "FIGHT", "hypothetical"),
        ("Moscow threatened to expel the diplomats.", "expel", "SANCTION", "hypothetical"),
        ("The ministers cancelled the talks.", "talks", "CONSULT", "denied"),
    ],
)
def test_type_and_status(nlp, text, trigger, etype, status):
    e = by_trigger(run_events(nlp, text), trigger)
    assert (e.type, e.status) == (etype, status)


def test_future_in_the_past_under_a_reporting_verb_is_planned(nlp):
    text = "Officials said the documents would be signed during the visit."
    e = by_trigger(run_events(nlp, text), "signed")
    assert (e.type, e.mode, e.status) == ("AGREE", "sign", "planned")


def test_denial_is_an_event_and_what_it_denies_is_denied(nlp):
    events = run_events(nlp, "The Kremlin denied that Putin plans to visit Kyiv.")
    assert by_trigger(events, "denied").type == "REJECT"
    assert by_trigger(events, "denied").status == "happened"
    assert by_trigger(events, "visit").status == "denied"


def test_actors_and_targets_from_the_parse(nlp):
    e = by_trigger(run_events(nlp, "Chinese President Xi Jinping met Vladimir Putin."), "met")
    assert e.actors == ["Xi Jinping"]  # "Chinese" only qualifies the named actor
    assert e.targets == ["Vladimir Putin"]

    e = by_trigger(run_events(nlp, "Ukraine was attacked by Russia on Friday."), "attacked")
    assert e.actors == ["Russia"] and e.targets == ["Ukraine"]

    e = by_trigger(run_events(nlp, "The United States imposed sanctions on Russia."), "sanctions")
    assert e.type == "SANCTION"
    assert e.actors == ["The United States"] or e.actors == ["United States"]
    assert e.targets == ["Russia"]


def test_shared_subject_of_plans_and_conjuncts(nlp):
    e = by_trigger(run_events(nlp, "Putin plans to visit China."), "visit")
    assert e.actors == ["Putin"] and e.targets == ["China"]
    assert e.mode == "visit" and e.location == "China"


def test_location_from_prepositional_phrase(nlp):
    events = run_events(nlp, "Putin and Xi met at a summit in Astana.")
    assert by_trigger(events, "met").location == "Astana"
    assert by_trigger(events, "summit").location == "Astana"
    assert by_trigger(events, "met").actors == ["Putin", "Xi"]


def test_dated_by_the_timex_attached_to_the_trigger(nlp):
    text = "Putin, who arrived on Monday, met Xi on Thursday."
    txs = [_timex(text, "Monday", "2022-09-12"), _timex(text, "Thursday", "2022-09-15")]
    e = by_trigger(run_events(nlp, text, "2022-09-16", txs), "met")
    assert (e.date, e.precision, e.timex) == ("2022-09-15", "day", 1)
    assert e.sentence == 0


def test_week_timex_gives_a_range_and_a_future_date_makes_planned(nlp):
    text = "Xi's visit next week is aimed at deepening trust."
    tx = _timex(text, "next week", "2023-W12")
    e = by_trigger(run_events(nlp, text, "2023-03-17", [tx]), "visit")
    assert (e.date, e.date_end, e.precision) == ("2023-03-20", "2023-03-26", "day")
    assert e.status == "planned"
    assert e.actors == ["Xi"]


def test_unanchored_timex_is_kept_for_later_dating(nlp):
    text = "Xi's visit next week is aimed at deepening trust."
    tx = _timex(text, "next week", "XXXX-WXX")
    tx.anchored, tx.symbolic = False, "DCT@W+1"
    e = by_trigger(run_events(nlp, text, None, [tx]), "visit")
    assert (e.timex, e.date) == (0, None)  # the link stage fills the date once it knows it
    assert e.status == "planned"  # it points after the publication date


def test_publication_date_fallback_only_for_past_events(nlp):
    e = by_trigger(run_events(nlp, "The two leaders met in Samarkand.", "2022-09-15"), "met")
    assert (e.date, e.precision, e.timex) == ("2022-09-15", "day", None)
    assert e.confidence < 0.9  # dated by the article, not by the text

    e = by_trigger(run_events(nlp, "The two leaders will meet in Samarkand.", "2022-09-15"), "meet")
    assert e.date is None
    e = by_trigger(run_events(nlp, "The two leaders met in Samarkand.", None), "met")
    assert e.date is None
    events = run_events(nlp, "Weeks before the war, the two sides struck a deal.", "2023-03-17")
    assert by_trigger(events, "deal").date is None  # placed relative to another event


def test_evidence_sentence_index(nlp):
    text = "The weather was mild. Officials said little. Russia and China signed a treaty."
    e = by_trigger(run_events(nlp, text), "treaty")
    assert e.sentence == 2
    assert text[e.start : e.end] == "treaty"


def test_nominal_triggers_and_light_verbs(nlp):
    events = run_events(nlp, "Russia and China held joint military exercises.")
    e = by_trigger(events, "exercises")
    assert (e.type, e.mode) == ("COOPERATE", "military")
    assert e.actors == ["Russia", "China"]

    events = run_events(nlp, "Beijing and Moscow signed a partnership agreement.")
    assert [x.trigger for x in events] == ["agreement"]  # one event, not "signed" + noun
    assert (events[0].type, events[0].mode) == ("AGREE", "sign")

    e = by_trigger(run_events(nlp, "The invasion of Ukraine shocked Europe."), "invasion")
    assert e.type == "FIGHT" and e.targets == ["Ukraine"]

    e = by_trigger(run_events(nlp, "The European Union lifted sanctions on Iran."), "sanctions")
    assert (e.type, e.mode) == ("RETREAT", "ease")


def test_verbal_attack_and_organisation_titles(nlp):
    e = by_trigger(run_events(nlp, "Putin attacked the West over the war."), "attacked")
    assert (e.type, e.actors) == ("ACCUSE", ["Putin"])
    text = "U.S. House Speaker Nancy Pelosi visited Taiwan."
    e = by_trigger(run_events(nlp, text), "visited")
    assert e.actors == ["Nancy Pelosi"] and e.targets == ["Taiwan"]


def test_plain_reporting_verbs_make_no_events(nlp):
    text = "Putin said the weather was fine. Xi told reporters that he was happy, officials added."
    assert run_events(nlp, text) == []
    e = by_trigger(run_events(nlp, "Russia accused Ukraine of lying."), "accused")
    assert (e.type, e.actors, e.targets) == ("ACCUSE", ["Russia"], ["Ukraine"])


def test_needs_context_for_ambiguous_nouns(nlp):
    assert run_events(nlp, "She made a call to the bank about her exercise class.") == []
    e = by_trigger(run_events(nlp, "Xi held a phone call with Zelensky."), "call")
    assert (e.type, e.mode) == ("CONSULT", "phone")


def test_whole_annotate_stage_types_events():
    from storyline.annotate import annotate
    from storyline.records import Article

    text = (
        "Chinese President Xi Jinping will visit Russia next week. "
        "Last year the two leaders met in Samarkand."
    )
    art = Article(
        id="x", source="s", content_hash="h", text=text, pub_date="2023-03-17",
        pub_date_precision="day",
    )  # fmt: skip
    ann = annotate(art)
    visit = by_trigger(ann.events, "visit")
    assert (visit.type, visit.mode, visit.status) == ("CONSULT", "visit", "planned")
    assert by_trigger(ann.events, "met").status == "happened"
    assert by_trigger(ann.events, "met").sentence == 1


# ---------------------------------------------------------------- evaluation


def test_trigger_scoring_counts_overlaps_and_occurrence_mentions():
    from storyline.eval.events import GoldSentence, score_triggers

    s = GoldSentence("d", 1, "Police arrested a man after the shooting on Main Street.")
    s.mentions = [("arrested", "ACTION_OCCURRENCE"), ("shooting", "ACTION_OCCURRENCE"),
                  ("said", "ACTION_REPORTING")]  # fmt: skip
    pred = [[(7, 15, "COERCE", "arrest"), (0, 6, "X", None)]]  # "arrested" and a wrong "Police"
    sc = score_triggers([s], pred, "t")
    assert (sc.gold, sc.found, sc.gold_occ, sc.found_occ) == (3, 1, 2, 1)
    assert (sc.predicted, sc.pred_on_gold) == (2, 1)


def test_status_gold_loader_rejects_bad_rows(tmp_path):
    from storyline.errors import InputError
    from storyline.eval.events import load_status_gold

    (tmp_path / "sentences.jsonl").write_text(
        '{"id": "a", "text": "He left.", "trigger": "left", "status": "maybe"}\n'
    )
    with pytest.raises(InputError, match="bad row a"):
        load_status_gold(tmp_path)
    with pytest.raises(InputError, match="not found"):
        load_status_gold(tmp_path / "nowhere")


def test_eval_command_on_a_tiny_ecbplus(tmp_path):
    import json

    from click.testing import CliRunner

    from storyline.eval.events import command

    text = "Police arrested two men.\nThe men met with lawyers on Friday."
    doc = {"id": "1_1ecb", "topic": "1", "event": "1_ecb", "text": text, "first_sentence": 0}
    mentions = [
        {"doc": "1_1ecb", "sentence": 0, "tokens": "arrested", "type": "ACTION_OCCURRENCE",
         "gold_sentence": True},
        {"doc": "1_1ecb", "sentence": 1, "tokens": "met", "type": "ACTION_OCCURRENCE",
         "gold_sentence": True},
        {"doc": "1_1ecb", "sentence": 1, "tokens": "lawyers", "type": "HUMAN_PART_PER",
         "gold_sentence": True},
    ]  # fmt: skip
    (tmp_path / "docs.jsonl").write_text(json.dumps(doc) + "\n")
    (tmp_path / "mentions.jsonl").write_text("".join(json.dumps(m) + "\n" for m in mentions))
    res = CliRunner().invoke(command, ["--ecbplus", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "2 event mentions" in res.output
    line = next(x for x in res.output.splitlines() if x.startswith("storyline"))
    assert float(line.split()[3]) == 1.0  # both gold events found by our triggers
    bad = CliRunner().invoke(command, ["--ecbplus", str(tmp_path / "missing")])
    assert bad.exit_code != 0 and "not found" in str(bad.exception)  # the CLI prints one line


@pytest.mark.model
def test_date_of_the_start_of_an_event_is_that_events(nlp):
    text = (
        "His forces launch an offensive in the north, the biggest push since the start of "
        "the invasion on February 24, 2022."
    )
    evs = run_events(nlp, text, "2024-05-17", [_timex(text, "February 24, 2022", "2022-02-24")])
    assert by_trigger(evs, "invasion").date == "2022-02-24"
    assert by_trigger(evs, "offensive").date != "2022-02-24"


@pytest.mark.model
def test_trigger_words_inside_names_are_no_events(nlp):
    evs = run_events(nlp, "Former Cold War allies, China and Russia have grown closer.")
    assert not [e for e in evs if e.trigger.lower() == "war"]
    evs = run_events(nlp, "The war in Ukraine goes on.")
    assert [e for e in evs if e.trigger.lower() == "war"]


@pytest.mark.model
def test_seeing_a_person_is_a_meeting_seeing_a_thing_is_not(nlp):
    evs = run_events(nlp, "Vladimir Putin saw Xi Jinping in Beijing.")
    seen = by_trigger(evs, "saw")
    assert seen.type == "CONSULT" and "Xi Jinping" in seen.actors + seen.targets
    assert not [
        e for e in run_events(nlp, "The country saw a rise in prices.") if e.trigger == "saw"
    ]
