"""Time expressions: spans, TIMEX3 values against a publication date, symbolic values, scoring."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from conftest import run_cli

from storyline.annotate import timex
from storyline.annotate.timex import find_timexes, resolve, resolve_symbolic, to_timex
from storyline.eval.timex import Counts, score_doc
from storyline.records import Article

DCT = "2022-09-16"  # a Friday, ISO week 37


@pytest.fixture(scope="module")
def nlp():
    from storyline.annotate.nlp import load_nlp

    return load_nlp()


def timexes(nlp, text: str, pub_date: str | None = DCT):
    doc = nlp(text)
    return [to_timex(f, text, 0) for f in find_timexes(text, doc, pub_date)]


def only(nlp, text: str, pub_date: str | None = DCT):
    found = timexes(nlp, text, pub_date)
    assert len(found) == 1, [(t.text, t.value) for t in found]
    return found[0]


# ---- pure functions (no model) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("sym", "dct", "value"),
    [
        ("DCT@D-1", "2013-03-22", "2013-03-21"),
        ("DCT@W-1", "2013-03-22", "2013-W11"),
        ("DCT@M-6", "2022-09-16", "2022-03"),
        ("DCT@M+4", "2022-09-16", "2023-01"),
        ("DCT@Y+0|-Q3", "1989-11-02", "1989-Q3"),
        ("DCT@Q-1", "1989-11-02", "1989-Q3"),
        ("DCT<WD4", "2013-03-22", "2013-03-21"),
        ("DCT<WD5", "2013-03-22", "2013-03-22"),
        ("DCT>WD4", "2013-03-22", "2013-03-28"),
        ("DCT-WD5", "2013-03-22", "2013-03-15"),
        ("DCT<WD4|TMO", "2013-03-22", "2013-03-21TMO"),
        ("DCT<M12", "2013-03-22", "2012-12"),
        ("DCT>M02", "2013-03-22", "2014-02"),
        ("DCT~M09-15", "2022-09-16", "2022-09-15"),
        ("DCT~M11-25", "2000-01-07", "1999-11-25"),
        ("DCTpM10-23", "1999-05-06", "1998-10-23"),
        ("DCTpM05-20", "1999-05-06", "1999-05-20"),
        ("DCTfM01-10", "1999-11-06", "2000-01-10"),
        ("DCT-S06|-SU", "2013-03-22", "2012-SU"),
        ("DCT@DE+0", "2013-03-22", "201"),
    ],
)
def test_resolve_symbolic(sym, dct, value):
    assert resolve_symbolic(sym, dct) == value


def test_resolve_symbolic_rejects_garbage():
    with pytest.raises(ValueError):
        resolve_symbolic("yesterday", "2013-03-22")
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        resolve_symbolic("DCT@D-1", "2013-03")


def test_month_precision_pub_date_leaves_values_symbolic():
    found = find_timexes("They met yesterday, on March 3, 2013.", None, "2013-03")
    by_sym = {f.sym: f.value for f in found}
    assert by_sym == {"DCT@D-1": None, None: "2013-03-03"}


def test_resolve_symbolic_handles_month_ends():
    # shifting 31 March back a month must not invent 31 February
    assert resolve_symbolic("DCT@M-1", date(2013, 3, 31)) == "2013-02"
    assert resolve_symbolic("DCT@D+1", date(2012, 2, 28)) == "2012-02-29"


# ---- the candidate scan: each pattern is tried only where its match can begin -------------

SCAN_TEXTS = [
    "",
    "'",
    "'90",
    "2020",
    "Today",
    "in the '90s, the 1990s, mid-'90s and the mid-1990s; x'80s",
    "mid-2010, the very early 1980s, late in 2003, earlier in the year, the end of March",
    "Jan. 5, Jan 5, 2020, JANUARY 5, 2020, january5, Jan.5 and sept 11 2001",
    "5 January 2020, the 5th of May, Monday, 3 March, 20-22 March 2023, Sept. 15 to 16",
    "2020-01-05, 1/5/2020, 12/31/99, 2009-2010, 2009-10, 2019-nCoV, pre-2020 and 2020x x2020",
    "next week, three days ago, a couple of years ago, the past 24 hours, 24 hours a day",
    "10:30 a.m. EST, 9pm, at noon Friday, Friday night, yesterday morning, last night",
    "last Christmas, New Year's Eve, fiscal 2020, FY2020, the first quarter of 2020",
    "the third-quarter, year-earlier quarter, nineteen eighty-four, the nineties",
    "the twenty-first century, 21st century, each Monday, every other week, daily",
    "recently, the near future, now, right now, these days, for years, the coming months",
    "Mayor Smith may come in May. Augusta marched in March; Marching, maybe Junebug",
    '(Monday) —Tuesday "March 3" [2012] {next year} <b>last May</b> _Monday a_2020',
    "José said Monday; ſeptember 5, 2020; ٢٠٢٠-٠١-٠٥; March\u00a05, 2020; the\u00a0weekend",
    "in 2020’s first half; \u212aing; İn the 1990s; the second half of 2019 ended",
    "A 6-year-old, a 16-hour flight, three-quarters, 2000 people, $2000, No 2000 and 1,500",
    "He left on the 3rd. Shot at 2 a.m. Sunday, he died Tuesday at 10.",
]


def _reference_candidates(text: str) -> list[timex.Found]:
    """``_candidates`` as it was: every rule's plain ``finditer`` over the whole text."""
    out = []
    for rule in timex._RULES:
        for m in rule.regex.finditer(text):
            try:
                f = rule.handler(m)
            except (ValueError, KeyError):
                continue
            if f is not None and f.end > f.start:
                f.priority = rule.priority
                out.append(f)
    return out


def _spans(matches) -> list[tuple]:
    return [(m.span(), m.groups()) for m in matches]


@pytest.mark.parametrize("text", [*SCAN_TEXTS, " ".join(SCAN_TEXTS), "\n".join(SCAN_TEXTS)])
def test_candidate_scan_is_plain_finditer(text):
    assert timex._candidates(text) == _reference_candidates(text)
    at = timex._start_positions(text)
    for regex in timex._PATTERNS:  # every rule's pattern and the day ranges'
        assert _spans(timex._finditer(regex, text, at)) == _spans(regex.finditer(text)), regex


def test_every_rule_is_scanned_by_its_starts():
    # a pattern the reader cannot follow is still right (scanned in full) but slow: say so
    missing = [r.name for r in timex._RULES if id(r.regex) not in timex._STARTS]
    assert not missing, f"timex: _starts cannot read these rules' patterns: {missing}"


@pytest.mark.parametrize(
    ("pattern", "starts"),
    [
        (r"\bmay\b", ({"may"}, set(), False, set())),
        (r"\bmay", (set(), {"may"}, False, set())),  # "Mayor"
        (r"\b(?:the\s+)?(?:19|20)\d\d", ({"the"}, set(), True, set())),
        (r"\b'\d0s", (set(), set(), False, {"'"})),
        (r"may", None),  # no \b: a match may start inside a word
        (r"\b\s+may", None),  # a first character it cannot list
        (r"\b(?:may)?", None),  # may match the empty string
    ],
)
def test_starts_reads_patterns(pattern, starts):
    got = timex._starts(re.compile(pattern, re.IGNORECASE))
    if starts is None:
        assert got is None
    else:
        assert (set(got.words), set(got.prefixes), got.digit, set(got.chars)) == starts


def test_scorer_strict_relaxed_and_value():
    text = "He came on Sunday morning and left 2009."
    gold = [(11, 17, "DATE", "2013-03-17"), (35, 39, "DATE", "2009")]
    system = [(11, 25, "TIME", "2013-03-17TMO"), (35, 39, "DATE", "2009"), (0, 2, "DATE", "X")]
    c, errors = score_doc(text, gold, system)
    assert (c.gold, c.system, c.strict, c.relaxed, c.value_ok, c.type_ok) == (2, 3, 1, 2, 1, 1)
    s = c.scores()
    assert s["relaxed_r"] == 100.0 and round(s["relaxed_p"], 2) == 66.67
    assert s["value_f1"] == pytest.approx(s["relaxed_f1"] * 0.5)
    assert {e[0] for e in errors} == {"value", "spurious"}


def test_scorer_pairs_one_to_one():
    text = "2009-2010 were bad"
    gold = [(0, 4, "DATE", "2009"), (5, 9, "DATE", "2010")]
    c, _ = score_doc(text, gold, [(0, 9, "DATE", "2009")])  # one system span over both
    assert c.relaxed == 1 and c.strict == 0
    total = Counts()
    total.add(c)
    total.add(c)
    assert total.gold == 4 and total.relaxed == 2


# ---- the annotator on real parses -----------------------------------------------------------


@pytest.mark.model
def test_weekday_follows_tense(nlp):
    past = only(nlp, "Putin met Xi on Thursday in Samarkand.")
    future = only(nlp, "Putin will meet Xi on Thursday in Samarkand.")
    assert (past.text, past.value, past.type) == ("Thursday", "2022-09-15", "DATE")
    assert future.value == "2022-09-22"
    planned = only(nlp, "The two leaders plan to meet on Monday.")
    assert planned.value == "2022-09-19"


@pytest.mark.model
@pytest.mark.parametrize(
    ("text", "span", "type_", "value"),
    [
        ("Trade grew last month, officials said.", "last month", "DATE", "2022-08"),
        ("The delegation will arrive next week.", "next week", "DATE", "2022-W38"),
        ("Russia invaded Ukraine in February.", "February", "DATE", "2022-02"),
        (
            "The statement of February 24, 2022 was clear.",
            "February 24, 2022",
            "DATE",
            "2022-02-24",
        ),
        ("They met earlier this year in Beijing.", "earlier this year", "DATE", "2022"),
        ("The deal was signed six months ago.", "six months ago", "DATE", "2022-03"),
        ("The talks lasted six months.", "six months", "DURATION", "P6M"),
        ("Officials meet every week.", "every week", "SET", "P1W"),
        ("The ministers spoke yesterday.", "yesterday", "DATE", "2022-09-15"),
        ("Fighting eased in the 1990s.", "the 1990s", "DATE", "199"),
        ("Profits rose in the third quarter.", "the third quarter", "DATE", "2022-Q3"),
        (
            "The meeting starts at 3 p.m. local time.",
            "3 p.m. local time",
            "TIME",
            "2022-09-16T15:00",
        ),
        ("He spoke at 10:30 a.m. Thursday.", "10:30 a.m. Thursday", "TIME", "2022-09-15T10:30"),
        ("A 16-hour flight took them home.", "16-hour", "DURATION", "PT16H"),
    ],
)
def test_phrases(nlp, text, span, type_, value):
    t = only(nlp, text)
    assert (t.text, t.type, t.value) == (span, type_, value)
    assert text[t.start : t.end] == span


@pytest.mark.model
def test_ranges_fill_end_value(nlp):
    t = only(nlp, "The exercises ran from Monday to Wednesday near the border.")
    assert (t.text, t.value, t.end_value) == ("Monday to Wednesday", "2022-09-12", "2022-09-14")
    t = only(nlp, "The summit was held Sept. 15 to 16 in Samarkand.")
    assert (t.text, t.value, t.end_value) == ("Sept. 15 to 16", "2022-09-15", "2022-09-16")
    t = only(nlp, "Xi visited Moscow on 20-22 March 2023.")
    assert (t.value, t.end_value) == ("2023-03-20", "2023-03-22")
    t = only(nlp, "The pandemic of 2009-2010 killed many.")
    assert (t.value, t.end_value) == ("2009", "2010")


@pytest.mark.model
def test_range_end_never_precedes_its_start(nlp):
    text = "The drills ran from Saturday to Tuesday."
    dated = only(nlp, text)
    assert (dated.value, dated.end_value) == ("2022-09-10", "2022-09-13")
    undated = only(nlp, text, None)
    assert undated.end_value == "XXXX-XX-XX" and not undated.anchored
    later = resolve(undated, DCT)
    assert (later.value, later.end_value) == (dated.value, dated.end_value)


@pytest.mark.model
def test_invalid_dates_give_no_bogus_value(nlp):
    for text in ("The treaty of February 30, 2022 is fake.", "It was due on 31 April."):
        found = timexes(nlp, text)
        assert all("02-30" not in t.value and "04-31" not in t.value for t in found)


@pytest.mark.model
def test_undated_article_is_symbolic_and_resolves_later(nlp):
    text = "Xi met Putin on Thursday. They will meet again next month, six months after the summit."
    dated = timexes(nlp, text, DCT)
    undated = timexes(nlp, text, None)
    assert [t.text for t in undated] == [t.text for t in dated]
    relative = [t for t in undated if t.symbolic]
    assert relative and all(not t.anchored and t.value.startswith("XXXX") for t in relative)
    resolved = [resolve(t, DCT) for t in undated]
    assert [(t.value, t.end_value) for t in resolved] == [(t.value, t.end_value) for t in dated]
    assert all(t.anchored for t in resolved)
    # a different date gives different values: nothing was fixed before
    later = [resolve(t, "2023-03-20") for t in relative]
    assert later[0].value == "2023-03-16"


@pytest.mark.model
def test_offsets_slice_the_text_in_the_pipeline():
    from storyline.annotate import annotate

    text = (
        "MOSCOW — Chinese President Xi Jinping arrived on Monday for talks.\n\n"
        "The visit, from March 20 to 22, follows a meeting in Samarkand on Sept. 15, 2022. "
        "Putin said last week that ties were at their best in decades."
    )
    art = Article(
        id="a1",
        source="t",
        content_hash="h",
        text=text,
        pub_date="2023-03-21",
        pub_date_precision="day",
    )
    ann = annotate(art)
    assert not [n for n in ann.notes if "timex" in n]
    assert len(ann.timexes) >= 4
    for t in ann.timexes:
        assert text[t.start : t.end] == t.text
        sent = ann.sentences[t.sentence]
        assert sent.start <= t.start < sent.end
    by_text = {t.text: t for t in ann.timexes}
    assert by_text["Monday"].value == "2023-03-20"
    assert by_text["March 20 to 22"].end_value == "2023-03-22"
    assert by_text["Sept. 15, 2022"].value == "2022-09-15"
    assert by_text["last week"].value == "2023-W11"


# ---- the eval command -----------------------------------------------------------------------


def _write_set(folder, docs):
    with (folder / "timex_train.jsonl").open("w") as fh:
        for d in docs:
            fh.write(json.dumps(d) + "\n")


@pytest.mark.model
def test_eval_command_scores_ours_on_a_small_set(tmp_path):
    text = "Officials said Friday that talks lasted six months."
    docs = [
        {
            "doc": "d1",
            "dct": "2013-03-22",
            "text": text,
            "timexes": [
                {"start": 15, "end": 21, "text": "Friday", "type": "DATE", "value": "2013-03-22"},
                {"start": 40, "end": 50, "text": "six months", "type": "DURATION", "value": "P6M"},
            ],
        }
    ]
    _write_set(tmp_path, docs)
    res = run_cli("eval", "timex", str(tmp_path), "--split", "train", "--system", "ours", "--json")
    assert res.returncode == 0, res.stderr.decode()
    out = json.loads(res.stdout)
    ours = out["systems"]["ours"]
    assert out["gold_timexes"] == 2
    assert ours["strict_f1"] == 100.0 and ours["value_f1"] == 100.0
    assert out["published_heideltime"]["value_f1"] == 77.61


def test_eval_command_missing_data_is_one_line_error(tmp_path):
    res = run_cli("eval", "timex", str(tmp_path / "nope"), "--system", "baseline")
    assert res.returncode != 0
    err = res.stderr.decode().strip()
    assert "timex.jsonl" in err and "Traceback" not in err and len(err.splitlines()) == 1


def test_expressions_without_a_calendar_value_keep_the_others():
    """Seven thousand "years ago" has no year to print; "last winter" in January is the winter before
    the one now ending. Neither may cost the article its other time expressions."""
    found = find_timexes("Built 7000 YEARS AGO, it fell on March 3, 2005.", None, "2010-05-01")
    assert [(f.value, f.sym) for f in found] == [(None, "DCT@Y-7000"), ("2005-03-03", None)]
    assert [f.value for f in find_timexes("They left last winter.", None, "2005-01-06")] == [
        "2003-WI"
    ]
    assert [f.value for f in find_timexes("They left last winter.", None, "2005-06-06")] == [
        "2004-WI"
    ]
