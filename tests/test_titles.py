"""Short names in event and story titles."""

from __future__ import annotations

from storyline.link.events import short_name
from storyline.tell.stories import _distinct_names


def test_short_names_skip_generational_suffixes():
    assert short_name("Hubert Allen Jr.", "PERSON") == "Allen"
    assert short_name("Dennis Clark III", "PERSON") == "Clark"
    assert short_name("Xi Jinping", "PERSON", ["Xi"]) == "Xi"
    assert short_name("Government of China", "GOV") == "China"


def test_story_titles_never_repeat_a_short_name():
    info = {
        "per:john-zawahri": ("John Zawahri", "PERSON", []),
        "per:christopher-zawahri": ("Christopher Zawahri", "PERSON", []),
        "per:vladimir-putin": ("Vladimir Putin", "PERSON", []),
    }
    ids = ["per:john-zawahri", "per:christopher-zawahri", "per:vladimir-putin"]
    assert _distinct_names(ids, info) == ["John Zawahri", "Christopher Zawahri"]
    assert _distinct_names(ids[1:], info) == ["Zawahri", "Putin"]
