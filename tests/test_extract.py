"""The extract stage: boilerplate removal, title, outlet, publication date, language, non-articles.

Sample-corpus tests check general properties (no caption survives, every body paragraph does);
synthetic cases pin each rule, with negatives for the real text each rule must not touch.
"""

from __future__ import annotations

import re

import pytest
from conftest import DEMO

from storyline.extract import boilerplate as bp
from storyline.extract import extract
from storyline.records import RawDoc

# An agency / photo credit closing a line: "(AP)", "(Getty Images)", "(Name/AP)", "... . AP"
CREDIT_AT_END = re.compile(
    r"(\((?:[^()]*[/,]\s*|[^()]*\bvia\s+)?(?:AP|AFP|REUTERS|Reuters|Getty Images|EPA)\)"
    r"|[.!?]\s+(?:AP|AFP|Reuters|Getty Images))\s*$"
)
SENTENCE_END = re.compile(r"[.!?][\"'”’)]*$")
LEADING_ISO_DATE = re.compile(r"^\s*date\s+\d{4}-\d\d-\d\d\s*", re.I)


def text_doc(text: str, source: str = "/tmp/a.txt", **meta: object) -> RawDoc:
    return RawDoc(source=source, data=text.encode("utf-8"), kind="text", meta=dict(meta))


def body(*sentences: str) -> str:
    """A paragraph of ordinary news prose (long enough to count as body text)."""
    return " ".join(sentences)


P1 = body(
    "The city council voted on Tuesday to approve the new transit budget after a long debate.",
    "Supporters said the plan would cut commuting times across the region.",
)
P2 = body(
    "Opponents argued that the cost estimates were too optimistic and asked for an audit.",
    "The mayor said she would sign the measure later this week.",
)
P3 = body(
    "Construction is expected to start next spring, officials said, and to last three years.",
    "The first new line would open in the northern suburbs.",
)


def demo_files():
    return sorted(DEMO.glob("*.txt"))


@pytest.fixture(scope="module")
def demo_articles():
    from storyline.read import iter_docs

    out = {}
    for raw in iter_docs([str(DEMO)]):
        out[raw.source] = (raw, extract(raw))
    assert len(out) == len(demo_files())
    return out


# ---------------------------------------------------------------------------------------------
# The sample corpus: general properties


def test_no_caption_with_agency_credit_survives(demo_articles):
    for _raw, art in demo_articles.values():
        for line in art.text.splitlines():
            assert not CREDIT_AT_END.search(line.strip()), (art.source, line)


def test_every_body_paragraph_survives_verbatim(demo_articles):
    checked = 0
    for raw, art in demo_articles.values():
        original = raw.data.decode("utf-8")
        for para in re.split(r"\n\s*\n|\n", original):
            para = LEADING_ISO_DATE.sub("", para).strip()
            long_prose = len(para.split()) >= 15 and SENTENCE_END.search(para)
            if long_prose and not CREDIT_AT_END.search(para):
                assert para in art.text, (art.source, para[:80])
                checked += 1
    assert checked > 80  # the property was really exercised


def test_removed_spans_are_kept_with_a_reason(demo_articles):
    reasons = set()
    for raw, art in demo_articles.values():
        original = " ".join(raw.data.decode("utf-8").split())
        for r in art.removed:
            assert r.reason and r.text
            assert " ".join(r.text.split()) in original
            assert 0 <= r.position <= len(art.text)
            reasons.add(r.reason)
    assert {"caption-credit", "newsletter"} <= reasons


def test_dates_from_the_text_or_unknown(demo_articles):
    for raw, art in demo_articles.values():
        head = raw.data.decode("utf-8")[:40]
        m = re.search(r"\d{4}-\d\d-\d\d", head)
        if m:
            assert art.pub_date == m.group(0)
            assert art.pub_date_source == "text" and art.pub_date_precision == "day"
        else:
            assert art.pub_date is None and art.pub_date_source == "unknown"


def test_sample_articles_are_english_articles(demo_articles):
    for _raw, art in demo_articles.values():
        assert art.language == "en"
        assert art.is_article
        assert art.words > 200


# ---------------------------------------------------------------------------------------------
# Boilerplate rules, one synthetic case each


def extract_text(text: str, **meta: object):
    return extract(text_doc(text, **meta))


def reasons_of(art) -> dict[str, str]:
    return {r.text: r.reason for r in art.removed}


@pytest.mark.parametrize(
    "caption",
    [
        "The mayor speaks to reporters outside City Hall on Monday (AP)",
        "Rescue workers search the rubble of the building (Getty Images)",
        "Protesters gather near the parliament (Jane Doe/AP)",
        "The two leaders shake hands (Sergei Ivanov, Sputnik, Pool Photo via AP)",
        "The president arrives at the summit in Geneva. AP",
        "Firefighters at the scene of the blaze (via REUTERS)",
    ],
)
def test_caption_with_credit_is_removed(caption):
    art = extract_text(f"{P1}\n\n{caption}\n\n{P2}")
    assert caption not in art.text
    assert reasons_of(art)[caption] == "caption-credit"
    assert P1 in art.text and P2 in art.text


@pytest.mark.parametrize(
    "paragraph",
    [
        "WASHINGTON (AP) — The Senate voted 52-48 on Thursday to confirm the nominee after weeks "
        "of debate, handing the administration a narrow victory.",
        "The figures were first reported by the Associated Press (AP), which obtained a copy of "
        "the internal memo from two officials.",
        "Officials confirmed the casualty figures to the Associated Press (AP).",
    ],
)
def test_real_paragraph_mentioning_an_agency_is_kept(paragraph):
    art = extract_text(f"{P1}\n\n{paragraph}\n\n{P2}")
    assert paragraph in art.text


def test_newsletter_block_is_removed():
    signup = (
        "Sign up to our free breaking news emails. Please enter a valid email address. "
        "Read our privacy notice. You can unsubscribe at any time"
    )
    art = extract_text(f"{signup}\n\n{P1}\n\n{P2}")
    assert reasons_of(art)[signup] == "newsletter"
    assert art.text.startswith(P1)


def test_a_sentence_about_a_newsletter_is_kept():
    sentence = (
        "The company said on Friday that its newsletter, which reaches two million readers, "
        "would close next month after twenty years."
    )
    art = extract_text(f"{P1}\n\n{sentence}\n\n{P2}")
    assert sentence in art.text


def test_listen_promo_is_removed():
    art = extract_text(f"NEWYou can now listen to Example News articles!\n{P1}\n{P2}")
    assert not art.text.startswith("NEW")
    assert "promo" in reasons_of(art).values()


def test_all_caps_related_headline_is_removed():
    related = "MAYOR UNVEILS NEW PLAN TO FIX CITY ROADS, CRITICS CALL IT TOO LITTLE"
    art = extract_text(f"{P1}\n{related}\n{P2}")
    assert related not in art.text
    assert reasons_of(art)[related] == "related-headline"


def test_all_caps_quote_and_shouted_text_are_kept():
    quote = '"WE WILL NOT BACK DOWN," the governor told the crowd outside the capitol on Monday.'
    transcript = (
        "A VIOLENT NIGHT ON THE WEST SIDE. WHAT STARTED AS A VIGIL TURNED INTO A SHOOTING. "
        "POLICE SAY TWO PEOPLE WERE HURT AND TAKEN TO THE HOSPITAL"
    )
    art = extract_text(f"{P1}\n\n{quote}\n\n{transcript}\n\n{P2}")
    assert quote in art.text
    assert transcript in art.text


def test_section_label_and_stray_headline_before_the_real_headline():
    text = (
        "World News\n\nFive injured as storm hits coastal town\n\n"
        "Council approves transit budget after long debate\n\n"
        f"{P1}\n\n{P2}"
    )
    art = extract_text(text)
    assert art.title == "Council approves transit budget after long debate"
    got = reasons_of(art)
    assert got["World News"] == "section-label"
    assert got["Five injured as storm hits coastal town"] == "stray-headline"
    assert art.text.startswith(P1)


def test_metadata_title_wins_and_is_not_left_in_the_text():
    title = "Council approves transit budget"
    art = extract_text(f"{title}\n\n{P1}\n\n{P2}", title=title)
    assert art.title == title
    assert not art.text.startswith(title)


def test_text_without_a_headline_keeps_its_first_paragraph():
    art = extract_text(f"{P1}\n\n{P2}\n\n{P3}")
    assert art.title is None
    assert art.text.startswith(P1)


def test_sign_off_is_removed_and_names_no_ambiguous_outlet():
    art = extract_text(f"{P1}\n\n{P2}\n\nWith Post wires")
    assert reasons_of(art)["With Post wires"] == "sign-off"
    assert art.outlet is None and art.outlet_source == "unknown"


def test_video_list_and_login_furniture_are_removed_but_article_kept():
    text = (
        "Please enable Javascript to watch this video\n\n"
        "By submitting your registration information, you agree to our Terms of Service and "
        f"Privacy Policy.\n\n{P1}\n\n{P2}\n\n{P3}"
    )
    art = extract_text(text)
    assert art.is_article
    assert art.text == f"{P1}\n\n{P2}\n\n{P3}"
    got = set(reasons_of(art).values())
    assert "promo" in got and got & {"account", "newsletter"}


def test_a_sentence_about_logging_in_is_kept():
    sentence = (
        "Investigators said the suspect had logged in to the victim's bank account twice "
        "before the shooting, according to court records."
    )
    art = extract_text(f"{P1}\n\n{sentence}\n\n{P2}")
    assert sentence in art.text


# ---------------------------------------------------------------------------------------------
# Non-articles


@pytest.mark.parametrize(
    "page",
    [
        "Just One More Thing...\n\nWe have sent you a verification email. Please check your email "
        "and click on the link to activate your profile.\n\nIf you do not receive the verification "
        "message within a few minutes of signing up, please check your Spam folder.\n\nClose",
        "Add a location to your Tweets\n\nWhen you tweet with a location, the service stores that "
        "location. You can switch location on/off before each Tweet and always have the option to "
        "delete your location history. Learn more",
        "0:43 Man found dead in park; suspect arrested Pause\n\n1:47 Wife of victim speaks\n\n"
        "1:57 Police spokeswoman talks about busts\n\n2:40 Raw video: neighbour heard shots\n\n"
        "1:58 Remains found at construction site",
        "We hope you've enjoyed your preview of Example.com.\n\nYou've now read the maximum "
        "number of stories available without a subscription.\n\nSubscribe now for complete "
        "access to the best local news.\n\nAlready have an account?",
    ],
)
def test_furniture_pages_are_not_articles(page):
    art = extract_text(page)
    assert art.is_article is False
    assert any("not an article" in n for n in art.notes)


def test_short_real_news_is_an_article():
    art = extract_text(
        "An 11-year-old girl was shot while sitting in a van on Saturday night, according to a "
        "police tweet. She was taken in critical condition to a hospital, police said."
    )
    assert art.is_article


def test_empty_text_is_not_an_article():
    art = extract_text("   \n\n  ")
    assert art.is_article is False


# ---------------------------------------------------------------------------------------------
# Publication date, outlet, language


def test_published_line_gives_the_date():
    art = extract_text(
        f"Council approves budget\n\nPublished: March 3, 2021 4:15 pm\n\n{P1}\n\n{P2}"
    )
    assert (art.pub_date, art.pub_date_source, art.pub_date_precision) == (
        "2021-03-03",
        "text",
        "day",
    )
    assert "Published: March 3, 2021 4:15 pm" not in art.text


def test_updated_line_gives_the_date():
    art = extract_text(f"Updated 2019-11-05 08:00\n\n{P1}\n\n{P2}")
    assert art.pub_date == "2019-11-05" and art.pub_date_source == "text"


def test_event_date_in_the_body_is_not_the_publication_date():
    art = extract_text(
        f"{P1}\n\nThe summit was held in Geneva on 15 September 2022, the ministry said.\n\n{P2}"
    )
    assert art.pub_date is None and art.pub_date_source == "unknown"


def test_metadata_date_and_outlet_win():
    art = extract_text(
        f"{P1}\n\n{P2}", date="2020-01-02T10:00:00Z", outlet="Example Times", url="https://x.org/a"
    )
    assert (art.pub_date, art.pub_date_source) == ("2020-01-02", "metadata")
    assert (art.outlet, art.outlet_source) == ("Example Times", "metadata")


def test_outlet_from_url_host():
    art = extract_text(f"{P1}\n\n{P2}", url="https://www.example-news.com/2020/01/story")
    assert (art.outlet, art.outlet_source) == ("example-news.com", "url")


def test_outlet_from_a_dateline_agency():
    art = extract_text(f"GENEVA (Reuters) - {P1}\n\n{P2}")
    assert (art.outlet, art.outlet_source) == ("Reuters", "dateline")


def test_unknown_outlet_stays_unknown():
    art = extract_text(f"{P1}\n\n{P2}\n\n{P3}")
    assert art.outlet is None and art.outlet_source == "unknown"


def test_language_is_detected():
    german = (
        "Der Stadtrat hat am Dienstag nach einer langen Debatte den neuen Haushalt für den "
        "Nahverkehr beschlossen. Die Befürworter sagten, der Plan werde die Fahrzeiten in der "
        "ganzen Region verkürzen."
    )
    art = extract_text(german)
    assert art.language == "de"
    assert any("language de" in n for n in art.notes)
    assert extract_text(f"{P1}\n\n{P2}").language == "en"


def test_same_bytes_same_id_other_bytes_other_id():
    a = extract_text(f"{P1}\n\n{P2}")
    b = extract_text(f"{P1}\n\n{P2}")
    c = extract_text(f"{P1}\n\n{P3}")
    assert a.id == b.id and a.content_hash == b.content_hash
    assert c.id != a.id and c.content_hash != a.content_hash


def test_block_rules_are_narrow():
    assert bp.classify_block(P1) is None
    assert bp.classify_block("Your notification has been saved.") == "account"
    assert bp.classify_block("He had to register the gun with the police.") is None


def test_live_blog_timestamps_are_not_a_video_list():
    text = (
        "8:27 AM THURSDAY: Police confirm this morning that the shot was fired by accident.\n\n"
        "7:05 AM: Officers were called to a home on the north side, a spokesman said.\n\n"
        f"{P1}"
    )
    art = extract_text(text)
    assert art.is_article
    assert art.text.startswith("8:27 AM THURSDAY: Police confirm")


def test_a_dateline_on_its_own_line_is_kept():
    art = extract_text(f"{P1}\n\nBEDFORD, N.H. -\n\n{P2}")
    assert "BEDFORD, N.H. -" in art.text


def test_outlet_is_not_guessed_from_a_photo_credit_or_a_contributor():
    caption = "The mayor speaks to reporters outside City Hall on Monday (Reuters)"
    art = extract_text(
        f"{P1}\n\n{caption}\n\n{P2}\n\nThe Associated Press contributed to this report."
    )
    assert caption not in art.text
    assert art.outlet is None and art.outlet_source == "unknown"


def test_outlet_named_in_a_promo_is_the_publisher():
    art = extract_text(f"NEWYou can now listen to Fox News articles!\n{P1}\n{P2}")
    assert (art.outlet, art.outlet_source) == ("Fox News", "text")


def test_a_dateline_with_a_date_gives_the_publication_date():
    art = extract_text(f"NEW YORK, March 3, 2021 (AP) — {P1}\n\n{P2}")
    assert (art.pub_date, art.pub_date_source) == ("2021-03-03", "text")
    assert art.text.startswith("NEW YORK, March 3, 2021 (AP) —")  # the dateline stays in place
    later = extract_text(f"{P1}\n\nNEW YORK, March 3, 2021 — a protest was held, police said.")
    assert later.pub_date is None
