"""Time expressions: find dates, times, durations and sets and normalise them (TIMEX3).

Why our own finder: dateparser's ``search_dates`` is slow and finds dates in anything; spaCy's
DATE entities miss TimeML's conventions. So spans come from precompiled rules over the text
(each tried only at the words that can begin it; no parse needed), and values come from small
pure functions that know TimeML's formats (``2022-09-15``, ``2013-W11``, ``2012-SU``, ``P6M``, ``XXXX-WXX-4``, ...).
The parse is used only to read the tense of the verb that governs a weekday or a month name
("met on Thursday" -> the Thursday before, "will meet on Thursday" -> the one after).

Relative values depend on the publication date (DCT). Each relative value is first written as a
symbolic form, kept in ``Timex.symbolic``; ``resolve_symbolic(form, dct)`` turns it into a TIMEX3
value. When the article is undated the value is a placeholder (``XXXX-XX-XX``, ``XXXX-WXX``, ...)
with ``anchored=False`` and ``resolve(timex, pub_date)`` fills it in later. The forms:

``DCT@G±N[|SUFFIX]``
    shift the DCT by N units of G and print at that granularity. G is D (day), W (ISO week),
    M (month), Q (quarter), Y (year), DE (decade), CE (century). ``DCT@D-1`` is "yesterday",
    ``DCT@W-1`` "last week", ``DCT@M-6`` "six months ago", ``DCT@Y+0|-Q3`` "the third quarter".
``DCT<WDn`` / ``DCT>WDn`` / ``DCT-WDn`` / ``DCT+WDn`` / ``DCT~WDn`` ``[|SUFFIX]``
    ISO weekday n (1 = Monday): the latest on or before the DCT (``<``), the first on or after
    it (``>``), strictly before (``-``, "last Friday"), strictly after (``+``), or nearest (``~``).
``DCT<Mmm[-dd]`` (same five directions, and ``p`` / ``f``) ``[|SUFFIX]``
    a month (and day) named without a year. For a month and day, ``~`` is the DCT's year
    unless that is more than six months away (then the nearest), ``p`` (past tense) the DCT's
    year unless that is over 60 days after the DCT (then the year before), ``f`` the mirror;
    for a month alone the same with 120 days between the first days of the months.
``DCT<Smm|-SU``
    a season starting in month mm, printed as ``YYYY-SU`` (also SP, FA, WI).

``SUFFIX`` is appended to the printed value as is (``TMO``, ``-WE``, ``-Q3``, ``T15:00``).
"""

from __future__ import annotations

import calendar
import logging
import re
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from ..records import Timex

if TYPE_CHECKING:
    from spacy.tokens import Doc

    from . import Context

log = logging.getLogger(__name__)

__all__ = ["run", "find_timexes", "resolve", "resolve_symbolic", "to_timex", "Found"]

# --------------------------------------------------------------------------------------------
# vocabulary

MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
WEEKDAYS = {
    "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4,
    "friday": 5, "saturday": 6, "sunday": 7,
}  # fmt: skip
NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "a hundred": 100,
    "a couple of": 2, "a couple": 2, "couple of": 2, "half a": 0.5, "a half": 0.5,
    "a dozen": 12, "dozen": 12,
}  # fmt: skip
VAGUE = {"several", "few", "a few", "many", "some", "numerous", "a number of", "the few"}
ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4,
    "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10,
    "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14, "fifteenth": 15,
    "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
    "twentieth": 20, "twenty-first": 21, "twenty first": 21,
}  # fmt: skip
# unit -> (granularity for dates, duration letter, is a time unit)
UNITS = {
    "second": ("S", "S", True), "minute": ("MI", "M", True), "hour": ("H", "H", True),
    "day": ("D", "D", False), "night": ("D", "D", False), "week": ("W", "W", False),
    "fortnight": ("W", "W", False), "weekend": ("W", "WE", False), "month": ("M", "M", False),
    "quarter": ("Q", "Q", False), "year": ("Y", "Y", False), "decade": ("DE", "DE", False),
    "century": ("CE", "CE", False),
}  # fmt: skip
SEASONS = {"spring": ("SP", 3), "summer": ("SU", 6), "fall": ("FA", 9), "autumn": ("FA", 9),
           "winter": ("WI", 12)}  # fmt: skip
DAYPARTS = {"morning": "TMO", "afternoon": "TAF", "evening": "TEV", "night": "TNI"}
PLACEHOLDER = {
    "D": "XXXX-XX-XX", "W": "XXXX-WXX", "M": "XXXX-XX", "Q": "XXXX-QX", "Y": "XXXX",
    "DE": "XXX", "CE": "XX",
}  # fmt: skip

# --------------------------------------------------------------------------------------------
# regex pieces (compiled once at import)

_MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december"
    r"|(?:jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\.|(?:jan|feb|aug|sept?|oct|nov|dec)(?=\s+\d))"
)
_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_NUMW = (
    r"(?:\d+(?:\.\d+)?(?:\s+1/2)?|(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
    r"(?:[-\s](?:one|two|three|four|five|six|seven|eight|nine))?|one|two|three|four|five|six|"
    r"seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|"
    r"nineteen|a\s+hundred|hundred|a\s+couple\s+of|couple\s+of|a\s+dozen|dozen|half\s+an?|an?)"
)
_VAGUE = r"(?:several|a\s+few|few|many|some|numerous|a\s+number\s+of)"
_UNIT = (
    r"(?:seconds?|minutes?|hours?|days?|nights?|weeks?|fortnights?|weekends?|months?|quarters?"
    r"|years?|decades?|centur(?:y|ies))"
)
_UNIT_SG = r"(?:day|night|week|weekend|month|quarter|year|decade|century)"
_SEASON = r"(?:spring|summer|fall|autumn|winter)"
_DAYPART = r"(?:morning|afternoon|evening|night)"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:1[5-9]\d\d|20\d\d)"
_PRE = (
    r"(?:(?:the\s+)?(?:very\s+)?(?:early|late|mid|earlier|later)(?:\s+in)?[\s-]+"
    r"|the\s+(?:end|beginning|start|middle|first\s+half|second\s+half|rest|remainder)\s+of\s+)"
)
_REL = r"(?:this|last|next|past|coming|previous|following|current|same)"
_ORD = (
    r"(?:first|second|third|fourth|1st|2nd|3rd|4th|fifth|sixth|seventh|eighth|ninth|tenth|"
    r"eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|"
    r"nineteenth|twentieth|twenty[-\s]first|\d{1,2}(?:st|nd|rd|th))"
)
_TIMEOFDAY = (
    r"(?:(?:[01]?\d|2[0-3])(?::[0-5]\d)?\s*(?:a\.m\.|p\.m\.|am\b|pm\b|a\.m\b|p\.m\b)"
    r"|(?:[01]?\d|2[0-3]):[0-5]\d(?:\s*(?:GMT|UTC|EST|EDT|CST|PST|ET))?"
    r"|noon|midday|midnight)"
)
_MOD = (
    r"(?:(?:nearly|almost|about|around|roughly|approximately|more\s+than|less\s+than|at\s+least|"
    r"at\s+most|up\s+to|over|just|only|barely|some)\s+)"
)
_TZ = r"(?:\s+(?:GMT|UTC|EST|EDT|CST|CDT|PST|PDT|ET|local\s+time))?"


@dataclass
class Found:
    """A time expression as the finder sees it, before it becomes a ``Timex`` record."""

    start: int
    end: int
    type: str
    value: str | None = None  # absolute TIMEX3 value, when the text alone fixes it
    sym: str | None = None  # symbolic DCT-relative form, when the value depends on the DCT
    gran: str = "D"  # granularity of a symbolic value (for the placeholder)
    parts: list[Found] | None = None  # the two ends of a range
    priority: int = 0


@dataclass
class _Rule:
    name: str
    regex: re.Pattern[str]
    handler: object
    priority: int = 0


_RULES: list[_Rule] = []


def _rule(pattern: str, priority: int = 0, flags: int = re.IGNORECASE):
    def deco(fn):
        _RULES.append(_Rule(fn.__name__, re.compile(pattern, flags), fn, priority))
        return fn

    return deco


def _month_num(s: str) -> int:
    return MONTHS[s.strip().lower()[:3]]


def _int(s: str) -> int:
    return int(re.sub(r"\D", "", s))


def _num(s: str) -> float | None:
    """A number written in digits or words; None for vague amounts ("several")."""
    s = re.sub(r"\s+", " ", s.strip().lower())
    if s in VAGUE:
        return None
    if re.fullmatch(r"\d+(\.\d+)?", s):
        return float(s)
    if re.fullmatch(r"\d+ 1/2", s):
        return float(s.split()[0]) + 0.5
    if s in NUMBERS:
        return float(NUMBERS[s])
    m = re.fullmatch(r"(\w+)[- ](\w+)", s)
    if m and m.group(1) in NUMBERS and m.group(2) in NUMBERS:
        return float(NUMBERS[m.group(1)] + NUMBERS[m.group(2)])
    if s.startswith("half"):
        return 0.5
    return None


def _fmt_num(n: float | None) -> str:
    if n is None:
        return "X"
    return str(int(n)) if n == int(n) else str(n)


def _unit_key(u: str) -> str:
    u = u.lower()
    if u.startswith("centur"):
        return "century"
    return u[:-1] if u.endswith("s") else u


def duration_value(n: float | None, unit: str) -> str:
    """TIMEX3 duration: ``P6M``, ``PT3H``, ``P10Y`` for a decade, ``PXY`` for "years"."""
    key = _unit_key(unit)
    _, letter, is_time = UNITS[key]
    if is_time and n is not None and n != int(n) and key in ("hour", "minute"):
        small = "M" if key == "hour" else "S"  # "5 1/2 hours": PT5H30M
        return f"PT{int(n)}{letter}{int(round((n - int(n)) * 60))}{small}"
    if key == "year" and n is not None and n != int(n) and (n * 12) == int(n * 12):
        return f"P{int(n)}Y{int(n * 12) % 12}M" if int(n) else f"P{int(n * 12)}M"  # P2Y6M
    if key == "decade":
        return f"P{_fmt_num(n * 10)}Y" if n is not None else "PXDE"
    if key == "century":
        return f"P{_fmt_num(n * 100)}Y" if n is not None else "PXCE"
    if key == "weekend":
        return f"P{_fmt_num(n * 2)}D" if n is not None else "PXWE"
    if key == "fortnight":
        return f"P{_fmt_num(n * 2)}W" if n is not None else "PXW"
    if key == "quarter":
        return f"P{_fmt_num(n * 3)}M" if n is not None else "PXQ"
    return f"P{'T' if is_time else ''}{_fmt_num(n)}{letter}"


def _valid(y: int, m: int, d: int | None = None) -> bool:
    if not 1 <= m <= 12:
        return False
    return d is None or 1 <= d <= calendar.monthrange(y, m)[1]


# --------------------------------------------------------------------------------------------
# rules: each handler gets the match and returns a Found (or None to reject the match)


@_rule(rf"\b(?:{_WEEKDAY},?\s+)?({_MONTH})\s*({_DAY}),?\s+({_YEAR})\b", 30)
def _month_day_year(m: re.Match[str]) -> Found | None:
    y, mo, d = int(m[3]), _month_num(m[1]), _int(m[2])
    if not _valid(y, mo, d):
        return None
    return Found(m.start(), m.end(), "DATE", value=f"{y:04d}-{mo:02d}-{d:02d}")


@_rule(rf"\b(?:{_WEEKDAY},?\s+)?(?:the\s+)?({_DAY})\s+(?:of\s+)?({_MONTH}),?\s+({_YEAR})\b", 30)
def _day_month_year(m: re.Match[str]) -> Found | None:
    y, mo, d = int(m[3]), _month_num(m[2]), _int(m[1])
    if not _valid(y, mo, d):
        return None
    return Found(m.start(), m.end(), "DATE", value=f"{y:04d}-{mo:02d}-{d:02d}")


@_rule(r"\b(\d{4})-(\d{2})-(\d{2})\b", 30, 0)
def _iso_date(m: re.Match[str]) -> Found | None:
    y, mo, d = int(m[1]), int(m[2]), int(m[3])
    if not _valid(y, mo, d):
        return None
    return Found(m.start(), m.end(), "DATE", value=f"{y:04d}-{mo:02d}-{d:02d}")


@_rule(r"\b(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\b", 30, 0)
def _us_date(m: re.Match[str]) -> Found | None:
    mo, d, y = int(m[1]), int(m[2]), int(m[3])
    if y < 100:
        y += 1900 if y > 30 else 2000
    if not _valid(y, mo, d):
        return None
    return Found(m.start(), m.end(), "DATE", value=f"{y:04d}-{mo:02d}-{d:02d}")


@_rule(rf"\b(?:{_WEEKDAY},?\s+)?({_MONTH})\s*({_DAY})\b(?!\s*(?:,\s*)?\d)", 20)
def _month_day(m: re.Match[str]) -> Found | None:
    mo, d = _month_num(m[1]), _int(m[2])
    if not _valid(2000, mo, d):
        return None
    return Found(m.start(), m.end(), "DATE", sym=f"DCT?M{mo:02d}-{d:02d}", gran="D")


@_rule(rf"\b(?:{_WEEKDAY},?\s+)?(?:the\s+)?({_DAY})\s+(?:of\s+)?({_MONTH})(?!\s*,?\s*\d)", 20)
def _day_month(m: re.Match[str]) -> Found | None:
    mo, d = _month_num(m[2]), _int(m[1])
    if not _valid(2000, mo, d):
        return None
    return Found(m.start(), m.end(), "DATE", sym=f"DCT?M{mo:02d}-{d:02d}", gran="D")


@_rule(rf"\b({_PRE})?({_MONTH}),?\s+(?:of\s+)?(this|last|next)\s+year\b", 25)
def _month_rel_year(m: re.Match[str]) -> Found:
    shift = {"this": 0, "last": -1, "next": 1}[m[3].lower()]
    return Found(
        m.start(), m.end(), "DATE", sym=f"DCT@Y{shift:+d}|-{_month_num(m[2]):02d}", gran="M"
    )


@_rule(rf"\b({_PRE})?({_MONTH}),?\s+(?:of\s+)?({_YEAR})\b", 25)
def _month_year(m: re.Match[str]) -> Found:
    return Found(m.start(), m.end(), "DATE", value=f"{int(m[3]):04d}-{_month_num(m[2]):02d}")


@_rule(rf"\b({_PRE})?(?:(this|last|next|the\s+past|the\s+coming)\s+)?({_MONTH})(?!\s*\d)", 10)
def _month(m: re.Match[str]) -> Found | None:
    mo = _month_num(m[3])
    word = m[3]
    if not word[0].isupper():
        return None  # "may", "march" as verbs
    d = {"this": "~", "last": "-", "next": "+"}.get(m[2].split()[-1].lower() if m[2] else "", "?")
    if m[2] and "past" in m[2].lower():
        d = "-"
    if m[2] and "coming" in m[2].lower():
        d = "+"
    return Found(m.start(), m.end(), "DATE", sym=f"DCT{d}M{mo:02d}", gran="M")


@_rule(rf"\b({_PRE})?(?:(?:fiscal|calendar|the\s+year|the\s+fiscal\s+year|fy)\s*)?({_YEAR})\b", 8)
def _year(m: re.Match[str]) -> Found | None:
    return Found(m.start(), m.end(), "DATE", value=m[2])


@_rule(rf"\b(?:the\s+)?({_PRE})?(?:(?:19|20)(\d)0|'(\d)0)'?s\b", 12)
def _decade(m: re.Match[str]) -> Found | None:
    text = m[0]
    dm = re.search(r"(\d{4})|'(\d)0", text)
    if not dm:
        return None
    cent = dm[1][:3] if dm[1] else "19" + dm[2]
    return Found(m.start(), m.end(), "DATE", value=cent)


@_rule(rf"\b(?:the\s+)?({_ORD})\s+century\b", 12)
def _century(m: re.Match[str]) -> Found | None:
    n = ORDINALS.get(m[1].lower()) or _int(m[1])
    return Found(m.start(), m.end(), "DATE", value=f"{n - 1:02d}")


_TENS = {"twenties": 2, "thirties": 3, "forties": 4, "fifties": 5, "sixties": 6, "seventies": 7,
         "eighties": 8, "nineties": 9}  # fmt: skip
_TENS_Y = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
           "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
           "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
           "ninety": 90}  # fmt: skip
_ONES = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
         "nine": 9}  # fmt: skip


@_rule(r"\b(?:the\s+)?(?:nineteen[\s-]+)?(" + "|".join(_TENS) + r")\b", 12)
def _decade_words(m: re.Match[str]) -> Found:
    return Found(m.start(), m.end(), "DATE", value=f"19{_TENS[m[1].lower()]}")


@_rule(
    rf"\b(nineteen|eighteen)[\s-]+({'|'.join(_TENS_Y)})(?:[\s-]+({'|'.join(_ONES)}))?\b",
    13,
)
def _spelled_year(m: re.Match[str]) -> Found:
    century = 19 if m[1].lower() == "nineteen" else 18
    y = century * 100 + _TENS_Y[m[2].lower()] + (_ONES[m[3].lower()] if m[3] else 0)
    return Found(m.start(), m.end(), "DATE", value=str(y))


@_rule(r"\bthe\s+weekend\b", 14)
def _the_weekend(m: re.Match[str]) -> Found:
    return Found(m.start(), m.end(), "DATE", sym="DCT?WD6|WE", gran="W")


@_rule(r"\b(today|tonight|tomorrow|yesterday)\b", 15)
def _deictic(m: re.Match[str]) -> Found:
    w = m[1].lower()
    shift = {"today": 0, "tonight": 0, "tomorrow": 1, "yesterday": -1}[w]
    if w == "tonight":
        return Found(m.start(), m.end(), "TIME", sym="DCT@D+0|TNI", gran="D")
    return Found(m.start(), m.end(), "DATE", sym=f"DCT@D{shift:+d}", gran="D")


@_rule(rf"\b(this|yesterday|tomorrow|last|the\s+next)\s+({_DAYPART})\b", 18)
def _deictic_part(m: re.Match[str]) -> Found:
    w = m[1].lower()
    shift = {"this": 0, "yesterday": -1, "tomorrow": 1, "last": -1}.get(w, 1)
    if w == "last" and m[2].lower() != "night":
        return Found(m.start(), m.end(), "TIME", sym=f"DCT@D-1|{DAYPARTS[m[2].lower()]}")
    return Found(m.start(), m.end(), "TIME", sym=f"DCT@D{shift:+d}|{DAYPARTS[m[2].lower()]}")


_REFS = {
    "now": "PRESENT_REF", "currently": "PRESENT_REF", "nowadays": "PRESENT_REF",
    "at present": "PRESENT_REF", "at the moment": "PRESENT_REF", "these days": "PRESENT_REF",
    "the present": "PRESENT_REF", "right now": "PRESENT_REF", "recently": "PAST_REF",
    "lately": "PAST_REF", "the past": "PAST_REF", "in the past": "PAST_REF",
    "recent years": "PAST_REF", "recent months": "PAST_REF", "recent weeks": "PAST_REF",
    "recent days": "PAST_REF", "the future": "FUTURE_REF", "soon": "FUTURE_REF",
    "the near future": "FUTURE_REF", "future": "FUTURE_REF", "former": None,
}  # fmt: skip


@_rule(
    r"\b(?:right\s+now|now|currently|nowadays|these\s+days|the\s+present|recently|lately|"
    r"the\s+(?:near\s+)?future|the\s+past|recent\s+(?:years|months|weeks|days))\b",
    5,
)
def _ref(m: re.Match[str]) -> Found | None:
    text = re.sub(r"\s+", " ", m[0].lower())
    val = _REFS.get(text)
    if val is None:
        return None
    return Found(m.start(), m.end(), "DATE", value=val)


@_rule(
    rf"\b({_PRE})?(?:the\s+)?({_REL})\s+({_UNIT_SG}|{_SEASON})\b(?!\s*(?:ago|earlier|later))", 14
)
def _rel_unit(m: re.Match[str]) -> Found | None:
    rel, unit = m[2].lower(), m[3].lower()
    shift = {"this": 0, "current": 0, "same": 0, "last": -1, "past": -1, "previous": -1,
             "next": 1, "coming": 1, "following": 1}[rel]  # fmt: skip
    if unit in SEASONS:
        code, start = SEASONS[unit]
        d = {-1: "-", 0: "~", 1: "+"}[shift]
        return Found(m.start(), m.end(), "DATE", sym=f"DCT{d}S{start:02d}|-{code}", gran="Y")
    if rel == "past" and unit != "weekend" and not m[1]:
        return Found(m.start(), m.end(), "DURATION", value=duration_value(1, unit))
    if rel == "following" or rel == "same":
        return None  # relative to another expression, not to the DCT
    if unit in ("day", "night"):
        return None
    g = UNITS[unit][0]
    if unit == "weekend":
        return Found(m.start(), m.end(), "DATE", sym=f"DCT@W{shift:+d}|-WE", gran="W")
    return Found(m.start(), m.end(), "DATE", sym=f"DCT@{g}{shift:+d}", gran=g)


@_rule(rf"\b({_PRE})(?:the\s+)?(year|month|week|decade|century)\b", 13)
def _pre_unit(m: re.Match[str]) -> Found:
    g = UNITS[m[2].lower()][0]
    return Found(m.start(), m.end(), "DATE", sym=f"DCT@{g}+0", gran=g)


@_rule(rf"\b(?:(last|next|this|coming|past)\s+)?({_WEEKDAY})(?:\s+({_DAYPART}))?\b", 16)
def _weekday(m: re.Match[str]) -> Found | None:
    if not m[2][0].isupper():
        return None
    wd = WEEKDAYS[m[2].lower()]
    d = {"last": "-", "past": "-", "next": "+", "coming": "+", "this": "~"}.get(
        (m[1] or "").lower(), "?"
    )
    suffix = f"|{DAYPARTS[m[3].lower()]}" if m[3] else ""
    typ = "DATE"  # "Friday night": DATE with a TNI value, as TBAQ mostly has it
    return Found(m.start(), m.end(), typ, sym=f"DCT{d}WD{wd}{suffix}", gran="D")


@_rule(
    rf"\b{_MOD}?({_NUMW}|{_VAGUE})[\s-]+({_UNIT})\s+(ago|earlier|before|later|from\s+now|hence)\b",
    22,
)
def _ago(m: re.Match[str]) -> Found | None:
    n = _num(m[1])
    key = _unit_key(m[2])
    if key not in UNITS:
        return None
    g = UNITS[key][0]
    direction = -1 if m[3].lower() in ("ago", "earlier", "before") else 1
    if n is None:
        return Found(
            m.start(), m.end(), "DATE", value="PAST_REF" if direction < 0 else "FUTURE_REF"
        )
    if UNITS[key][2]:
        return Found(m.start(), m.end(), "DATE", sym="DCT@D+0", gran="D")
    mult = {"fortnight": 2, "weekend": 1}.get(key, 1)
    if key == "day" or key == "night":
        g = "D"
    shift = int(round(n * mult)) * direction
    if n != int(n):  # "1 1/2 years ago": months
        if g == "Y":
            return Found(m.start(), m.end(), "DATE", sym=f"DCT@M{int(n * 12) * direction:+d}")
        g = "D"
    return Found(m.start(), m.end(), "DATE", sym=f"DCT@{g}{shift:+d}", gran=g)


_RATE = re.compile(
    r"(?:\d|million|billion|thousand|hundred|cents|dollars|percent|times|once|twice|hours|days)"
    r"\W{0,3}$",
    re.IGNORECASE,
)


@_rule(
    rf"\b(?:(?:the|a|another)\s+)?(?:(?:past|last|next|first|coming|previous|final|following|"
    rf"remaining|latest|initial|further|additional|more|other)\s+)?"
    rf"(?:(?:past|last|next|first|coming|previous|final|following)\s+)?{_MOD}?"
    rf"({_NUMW}|{_VAGUE})(?:\s+(?:more|full|straight|consecutive|successive|long|trading|"
    rf"business|working|calendar))?"
    rf"[\s-]+({_UNIT})(?:[\s-]+(?:long|old))?\b",
    11,
)
def _duration(m: re.Match[str]) -> Found | None:
    n = _num(m[1])
    if re.search(r"old$", m[0], re.I):
        return None  # ages ("a 6-year-old") are not time expressions in TimeML
    if re.match(r"\d", m[1]) and n is not None and n >= 1000 and _unit_key(m[2]) != "year":
        return None
    if m[0].lower().startswith(("a ", "an ")) and _RATE.search(m.string, 0, m.start()):
        return None  # "$2 million a year", "24 hours a day": a rate, not a duration
    key = _unit_key(m[2])
    if key not in UNITS or (key == "quarter" and "-" in m[0]):  # "three-quarters"
        return None
    start = m.start()
    lead = re.match(r"(?:the|a|an)\s+(?=\S+-)", m[0], re.I)
    if lead and m[0][lead.end() :].count(" ") == 0:  # "a 16-hour flight": the timex is "16-hour"
        start += lead.end()
    return Found(start, m.end(), "DURATION", value=duration_value(n, m[2]))


@_rule(rf"\b(?:(?:the\s+)?(?:past|last|next|coming)\s+)?(?:for\s+)?({_UNIT})\b", 3)
def _bare_units(m: re.Match[str]) -> Found | None:
    unit = m[1].lower()
    if not unit.endswith("s") or unit.startswith("second"):
        return None
    lead = m[0][: m.start(1) - m.start()].lower()
    if "for" in lead:  # "for years": the span is the unit only
        return Found(m.start(1), m.end(), "DURATION", value=duration_value(None, unit))
    if lead.strip():
        return Found(m.start(), m.end(), "DURATION", value=duration_value(None, unit))
    return None


@_rule(
    rf"\b(?:(?:each|every|per)\s+(?:other\s+)?(?:({_NUMW})\s+)?({_UNIT}|{_WEEKDAY}|{_SEASON}|{_DAYPART})"
    rf"|(daily|weekly|monthly|yearly|nightly|hourly|biweekly))\b",
    17,
)
def _set(m: re.Match[str]) -> Found | None:
    if m[3]:
        w = m[3].lower()
        # "annually" / "quarterly" are not matched: TE3's gold writes "annually" as XXXX where
        # P1Y would follow this table; matching them with P1Y measured value F1 79.09 -> 78.79
        val = {"daily": "P1D", "weekly": "P1W", "monthly": "P1M", "yearly": "P1Y",
               "nightly": "P1D", "hourly": "PT1H", "biweekly": "P2W"}[w]  # fmt: skip
        return Found(m.start(), m.end(), "SET", value=val)
    w = m[2].lower()
    if w in WEEKDAYS:
        return Found(m.start(), m.end(), "SET", value=f"XXXX-WXX-{WEEKDAYS[w]}")
    if w in SEASONS:
        return Found(m.start(), m.end(), "SET", value=f"XXXX-{SEASONS[w][0]}")
    if w in DAYPARTS:
        return Found(m.start(), m.end(), "SET", value=f"XXXX-XX-XX{DAYPARTS[w]}")
    n = _num(m[1]) if m[1] else 1.0
    if "other" in m[0].lower():
        n = (n or 1) * 2
    return Found(m.start(), m.end(), "SET", value=duration_value(n, w))


@_rule(
    rf"\b(?:({_WEEKDAY}|today|tonight|yesterday|tomorrow)(?:,)?\s+(?:at\s+)?)?({_TIMEOFDAY}){_TZ}"
    rf"(?:\s+(?:on\s+)?({_WEEKDAY}|today|yesterday|tomorrow))?",
    19,
)
def _time(m: re.Match[str]) -> Found | None:
    t = m[2].lower().replace(" ", "")
    if t in ("noon", "midday"):
        hm = "12:00"
    elif t == "midnight":
        hm = "24:00"
    else:
        tm = re.match(r"(\d{1,2})(?::(\d\d))?(a\.?m\.?|p\.?m\.?)?", t)
        if not tm:
            return None
        h, mi = int(tm[1]), int(tm[2] or 0)
        if tm[3] and tm[3].startswith("p") and h < 12:
            h += 12
        if tm[3] and tm[3].startswith("a") and h == 12:
            h = 0
        if not tm[3] and not tm[2]:
            return None
        hm = f"{h:02d}:{mi:02d}"
    anchor = (m[1] or m[3] or "today").lower()
    if anchor in WEEKDAYS:
        sym = f"DCT?WD{WEEKDAYS[anchor]}|T{hm}"
    else:
        shift = {"today": 0, "tonight": 0, "yesterday": -1, "tomorrow": 1}[anchor]
        sym = f"DCT@D{shift:+d}|T{hm}"
    return Found(m.start(), m.end(), "TIME", sym=sym, gran="D")


@_rule(
    rf"\b(?:the\s+)?(?:(fiscal|calendar)[\s-]+)?(?:({_YEAR})\s+)?"
    rf"(?:(first|second|third|fourth|1st|2nd|3rd|4th|latest|current|last|previous|"
    rf"year-earlier|year-ago|comparable|same)[\s-]+)?(?:(fiscal)[\s-]+)?"
    rf"(?:(first|second|third|fourth)[\s-]+)?(quarter|half)(?:\s+of\s+({_YEAR}))?\b",
    21,
)
def _quarter(m: re.Match[str]) -> Found | None:
    which = (m[5] or m[3] or "").lower()
    unit = m[6].lower()
    year = m[7] or m[2]
    letter = "Q" if unit == "quarter" else "H"
    ordinal = {"first": 1, "second": 2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2, "3rd": 3,
               "4th": 4}.get(which)  # fmt: skip
    if ordinal is None and not m[0].lower().startswith("the") and not which:
        return None  # bare "quarter" / "half"
    if unit == "half" and ordinal is None and which not in ("first", "second"):
        return None
    if unit == "half" and ordinal is not None and ordinal > 2:
        return None
    if ordinal is not None:
        if year:
            return Found(m.start(), m.end(), "DATE", value=f"{year}-{letter}{ordinal}")
        yshift = "-1" if (m[3] or "").lower() in ("year-earlier", "year-ago") else "+0"
        return Found(m.start(), m.end(), "DATE", sym=f"DCT@Y{yshift}|-{letter}{ordinal}", gran="Y")
    if unit == "half":
        return None
    if which in ("current",):
        return Found(m.start(), m.end(), "DATE", sym="DCT@Q+0", gran="Q")
    if which in ("year-earlier", "year-ago", "comparable"):
        return Found(m.start(), m.end(), "DATE", sym="DCT@Q-5", gran="Q")
    return Found(m.start(), m.end(), "DATE", sym="DCT@Q-1", gran="Q")


_HOLIDAYS = {
    "christmas day": (12, 25), "christmas eve": (12, 24), "christmas": (12, 25),
    "new year's day": (1, 1), "new year's eve": (12, 31), "independence day": (7, 4),
    "valentine's day": (2, 14), "halloween": (10, 31), "boxing day": (12, 26),
}  # fmt: skip


@_rule(
    r"\b(?:(this|last|next)\s+)?(christmas\s+(?:day|eve)|christmas|new\s+year's\s+(?:day|eve)|"
    r"independence\s+day|valentine's\s+day|halloween|boxing\s+day|thanksgiving(?:\s+day)?)\b",
    9,
)
def _holiday(m: re.Match[str]) -> Found | None:
    name = re.sub(r"\s+", " ", m[2].lower())
    d = {"this": "~", "last": "-", "next": "+"}.get((m[1] or "").lower(), "~")
    if name.startswith("thanksgiving"):
        return Found(m.start(), m.end(), "DATE", sym=f"DCT{d}M11|THANKS", gran="D")
    mo, day = _HOLIDAYS[name]
    return Found(m.start(), m.end(), "DATE", sym=f"DCT{d}M{mo:02d}-{day:02d}", gran="D")


# ranges whose second end is only a day number: "Sept. 15 to 16", "20-22 March 2023"
_RANGE_MD = re.compile(
    rf"\b({_MONTH})\s*({_DAY})\s*(?:-|–|—|to|through|until|and)\s*({_DAY})\b(?:,?\s+({_YEAR})\b)?",
    re.IGNORECASE,
)
_RANGE_DM = re.compile(
    rf"\b({_DAY})\s*(?:-|–|—|to|and)\s*({_DAY})\s+({_MONTH})(?:,?\s+({_YEAR})\b)?", re.IGNORECASE
)
_RANGE_YY = re.compile(rf"\b({_YEAR})\s*(?:-|–|—|/)\s*({_YEAR}|\d\d)\b")


# --------------------------------------------------------------------------------------------
# symbolic values


def _parse_day(value: str) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if len(value) >= 10 else None
    except ValueError:
        return None


def _shift(d: date, g: str, n: int) -> date:
    if g == "D":
        return d + timedelta(days=n)
    if g == "W":
        return d + timedelta(weeks=n)
    months = {"M": 1, "Q": 3, "Y": 12, "DE": 120, "CE": 1200}[g] * n
    y, m = divmod(d.month - 1 + months, 12)
    y += d.year
    return date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


def _print(d: date, g: str) -> str:
    if g == "D":
        return d.isoformat()
    if g == "W":
        iy, iw, _ = d.isocalendar()
        return f"{iy:04d}-W{iw:02d}"
    if g == "M":
        return f"{d.year:04d}-{d.month:02d}"
    if g == "Q":
        return f"{d.year:04d}-Q{(d.month - 1) // 3 + 1}"
    if g == "Y":
        return f"{d.year:04d}"
    if g == "DE":
        return f"{d.year:04d}"[:3]
    return f"{d.year:04d}"[:2]


def _pick(candidates: list[date], dct: date, direction: str) -> date:
    """Choose among dates by direction relative to the DCT ('<', '>', '-', '+', '~')."""
    if direction == "<":
        return max(c for c in candidates if c <= dct)
    if direction == ">":
        return min(c for c in candidates if c >= dct)
    if direction == "-":
        return max(c for c in candidates if c < dct)
    if direction == "+":
        return min(c for c in candidates if c > dct)
    return min(candidates, key=lambda c: (abs((c - dct).days), c > dct))


def _thanksgiving(year: int) -> date:
    first = date(year, 11, 1)
    return first + timedelta(days=(3 - first.weekday()) % 7 + 21)


_SYM = re.compile(
    r"^DCT(?:@(?P<g>DE|CE|D|W|M|Q|Y)(?P<n>[+-]\d+)|(?P<dir>[<>+~?pf-])(?:WD(?P<wd>\d)"
    r"|M(?P<mo>\d\d)(?:-(?P<day>\d\d))?|S(?P<smo>\d\d)))?(?:\|(?P<suffix>.*))?$"
)


@lru_cache(maxsize=4096)
def resolve_symbolic(sym: str, dct: str | date) -> str:
    """Turn a symbolic form (see the module docstring) into a TIMEX3 value for this DCT."""
    if isinstance(dct, str):
        dct = _parse_day(dct)
        if dct is None:
            raise ValueError("a publication date to resolve against must be YYYY-MM-DD")
    m = _SYM.match(sym)
    if not m:
        raise ValueError(f"not a symbolic time value: {sym!r}")
    suffix = m["suffix"] or ""
    direction = m["dir"] or ""
    if direction == "?":
        direction = "~" if m["mo"] else "<"
    if m["g"]:
        g = m["g"]
        return _print(_shift(dct, g, int(m["n"])), g) + suffix
    if m["wd"]:
        wd = int(m["wd"])
        base = dct - timedelta(days=dct.isoweekday() - wd)
        if direction == "~":  # "this Friday": the one in the DCT's week
            chosen = base
        else:
            cands = [base + timedelta(weeks=k) for k in (-2, -1, 0, 1, 2)]
            chosen = _pick(cands, dct, direction)
        if suffix == "WE":  # "the weekend": the ISO week of that Saturday
            return _print(chosen, "W") + "-WE"
        return chosen.isoformat() + suffix
    if m["mo"] and suffix == "THANKS":
        cands = [_thanksgiving(y) for y in (dct.year - 1, dct.year, dct.year + 1)]
        return _pick(cands, dct, direction).isoformat()
    if m["mo"]:
        mo = int(m["mo"])
        if m["day"]:
            day = int(m["day"])
            cands = [date(y, mo, day) for y in (dct.year - 1, dct.year, dct.year + 1)
                     if _valid(y, mo, day)]  # fmt: skip
            if direction in "pf" and _valid(dct.year, mo, day):
                same = date(dct.year, mo, day)
                gap = (same - dct).days if direction == "p" else (dct - same).days
                if gap <= 60:  # the same year, unless the tense says otherwise by months
                    return same.isoformat() + suffix
                direction = "-" if direction == "p" else "+"
            if direction == "~" and _valid(dct.year, mo, day):
                same = date(dct.year, mo, day)
                if abs((same - dct).days) <= 183:  # same year unless that is far: "Nov. 25"
                    return same.isoformat() + suffix  # written in January is last November
            if direction == "~" and cands:
                direction = "≈"
            if direction == "≈":
                return min(cands, key=lambda c: abs((c - dct).days)).isoformat() + suffix
            return _pick(cands, dct, direction).isoformat() + suffix
        cands = [date(y, mo, 1) for y in (dct.year - 1, dct.year, dct.year + 1)]
        this_month = date(dct.year, dct.month, 1)
        if direction in "pf":
            same = date(dct.year, mo, 1)
            gap = (same - this_month).days if direction == "p" else (this_month - same).days
            shift = 0 if gap <= 120 else (-1 if direction == "p" else 1)
            return f"{dct.year + shift:04d}-{mo:02d}" + suffix
        if direction == "~":
            return f"{dct.year:04d}-{mo:02d}" + suffix
        return _print(_pick(cands, this_month, direction), "M") + suffix
    if m["smo"]:
        mo = int(m["smo"])
        cur = dct.month if dct.month >= 3 else 12
        cur_season = date(dct.year if dct.month >= 3 else dct.year - 1, (cur - 3) // 3 * 3 + 3, 1)
        # two years back: "last winter" in January is the winter before the one now ending
        cands = [date(y, mo, 1) for y in range(dct.year - 2, dct.year + 2)]
        if direction == "~":
            return f"{dct.year:04d}" + suffix
        return f"{_pick(cands, cur_season, direction).year:04d}" + suffix
    return dct.isoformat() + suffix


_ISO_DAY = re.compile(r"\d{4}-\d\d-\d\d")


def _order(start: str | None, end: str | None, end_sym: str | None) -> str | None:
    """Keep a range's end after its start: "from Friday to Monday" ends on the next Monday."""
    if not (start and end and end_sym) or end >= start:
        return end
    if not (_ISO_DAY.match(start) and _ISO_DAY.match(end)):
        return end  # "between now and Feb. 10": nothing to order
    d, rest = date.fromisoformat(end[:10]), end[10:]
    if "WD" in end_sym:
        while d.isoformat() < start[:10]:
            d += timedelta(weeks=1)
    elif _valid(d.year + 1, d.month, d.day):
        d = d.replace(year=d.year + 1)
    return d.isoformat() + rest


def _resolved(sym: str, dct: str | date) -> str | None:
    """:func:`resolve_symbolic`, or None where the value is no calendar date ("7000 years
    ago": the year -4989): the expression is kept, symbolic, without a value."""
    try:
        return resolve_symbolic(sym, dct)
    except ValueError as exc:
        log.debug("timex: %s against %s has no value: %s", sym, dct, exc)
        return None


def resolve(timex: Timex, pub_date: str) -> Timex:
    """A copy of ``timex`` anchored to ``pub_date``: what a later stage calls once it dates
    an undated article. Absolute timexes come back unchanged."""
    if not timex.symbolic:
        return timex
    forms = timex.symbolic.split(" / ")
    value = _resolved(forms[0], pub_date)
    if value is None:
        return timex
    end_value = timex.end_value
    if len(forms) > 1:
        end_value = _resolved(forms[1], pub_date) if forms[1].startswith("DCT") else forms[1]
        end_value = _order(value, end_value, forms[1])
    return replace(timex, value=value, end_value=end_value, anchored=True)


# --------------------------------------------------------------------------------------------
# tense of the governing verb, from the parse

_FUTURE_AUX = {"will", "shall", "'ll", "wo", "would", "going"}
_PLAN_VERBS = {"plan", "expect", "schedule", "intend", "hope", "prepare", "aim", "set", "due",
               "go", "want", "seek", "propose", "promise", "vow", "pledge", "threaten"}  # fmt: skip


def _tense(doc: Doc | None, start: int, end: int) -> str | None:
    """'past', 'future' or None, read off the verb that governs the span."""
    if doc is None:
        return None
    span = doc.char_span(start, end, alignment_mode="expand")
    if span is None or not len(span):
        return None
    tok = span.root
    if tok.dep_ == "poss":  # "Thursday's ruling": reported events are past
        return "past"
    for _ in range(6):
        if tok.pos_ in ("VERB", "AUX") or tok.dep_ == "ROOT":
            break
        tok = tok.head
    for _ in range(4):  # "declined to comment Friday": the tense of "declined"
        aux = [c for c in tok.children if c.dep_ in ("aux", "auxpass")]
        if not (tok.tag_ == "VB" and any(c.lower_ == "to" for c in aux)) or tok.head is tok:
            break
        if tok.head.lemma_.lower() in _PLAN_VERBS:
            return "future"
        tok = tok.head
    aux = [c for c in tok.children if c.dep_ in ("aux", "auxpass")]
    lemmas = {c.lower_ for c in aux} | {c.lemma_.lower() for c in aux}
    if lemmas & _FUTURE_AUX:
        return "future"
    if tok.tag_ == "VBG" and any(c.lemma_ == "be" and c.tag_ in ("VBZ", "VBP") for c in aux):
        return "future"
    if tok.tag_ in ("VBD", "VBN") or any(c.tag_ in ("VBD",) for c in aux):
        return "past"
    if tok.tag_ in ("VBZ", "VBP"):
        return "present"
    return None


def _direct(f: Found, doc: Doc | None) -> None:
    """Fill the direction of weekday / month forms from the tense ('~'/'?' -> '<' or '>')."""
    if not f.sym:
        return
    m = _SYM.match(f.sym)
    if not m or m["dir"] not in ("~", "?"):
        return
    if m["dir"] != "?":
        return  # "~" (same week / same year) does not depend on the tense
    # "?": a weekday or a month named alone; measured on TBAQ: the tense of the governing
    # verb picks the right one, and past is the better default in news
    tense = _tense(doc, f.start, f.end)
    if m["mo"]:  # a month (and day): the same year, unless the tense points months away
        new = {"past": "p", "future": "f"}.get(tense or "", "~")
    else:
        new = ">" if tense == "future" else "<"
    i = f.sym.index(m["dir"], 3)
    f.sym = f.sym[:i] + new + f.sym[i + 1 :]


# --------------------------------------------------------------------------------------------
# finding
#
# Running each rule's ``finditer`` over the whole text cost ~7 ms a news article: the engine
# tries ~28 patterns at every character. But every pattern starts with ``\b`` and one of a few
# words ("the", "last", a month, a digit, ...), so each rule is tried only at the tokens that
# can begin it, with ``regex.match(text, pos)``: the same matches as finditer (``_finditer``).
# Which tokens can begin a rule is read off its compiled pattern (``_starts``), so the patterns
# stay the single source of truth; a pattern the reader cannot follow is scanned in full.


@dataclass(frozen=True)
class _Starts:
    """Where a rule's match can begin: at a ``\\w+`` token whose leading ASCII letters,
    lowercased, are one of ``words`` or begin with one of ``prefixes`` (a pattern may stop
    inside a word: ``_month`` finds "May" in "Mayor"), at a token that begins with a digit when
    ``digit``, or at one of the non-word ``chars`` (the "'" of "'90s"). Tokens with non-ASCII
    characters are tried with every rule ("ſ" matches "s" under IGNORECASE, "٢" is a ``\\d``)."""

    words: frozenset[str]
    prefixes: frozenset[str]
    digit: bool
    chars: frozenset[str]


_ASCII = [chr(i) for i in range(128)]
_ASCII_LETTERS = frozenset(c for c in _ASCII if c.isalpha())
_ASCII_WORD = frozenset(c for c in _ASCII if c.isalnum() or c == "_")


def _starts(regex: re.Pattern[str]) -> _Starts | None:
    """The starts of ``regex``'s matches, from its parse tree; None if it cannot tell.

    A walk over the pattern's first characters: literal letters build the leading word until an
    item that can match a non-letter closes it (a word) or the pattern can end (a prefix).
    Lookarounds are skipped and optional items taken both ways, so the answer is a superset.
    """
    try:
        from re import _constants as sc
        from re import _parser as sp

        items = tuple(sp.parse(regex.pattern, regex.flags).data)
    except Exception:  # another Python's private parser: scan in full
        return None
    if regex.flags & re.ASCII:  # \b would differ from the token scan's \w
        return None
    ignorecase = bool(regex.flags & re.IGNORECASE)
    categories = {
        sc.CATEGORY_DIGIT: r"\d", sc.CATEGORY_NOT_DIGIT: r"\D", sc.CATEGORY_SPACE: r"\s",
        sc.CATEGORY_NOT_SPACE: r"\S", sc.CATEGORY_WORD: r"\w", sc.CATEGORY_NOT_WORD: r"\W",
        sc.CATEGORY_LINEBREAK: r"\n", sc.CATEGORY_NOT_LINEBREAK: r"[^\n]",
    }  # fmt: skip

    def chars_of(op, av) -> tuple[frozenset[str], bool, bool] | None:
        """What a one-character item matches: its ASCII characters, and whether it may match
        non-ASCII word characters / non-ASCII others; None if it is not such an item."""
        if op is sc.ANY:
            return frozenset(_ASCII), True, True
        members, negate = [(sc.LITERAL, av)], op is sc.NOT_LITERAL
        if op is sc.IN:
            negate = bool(av) and av[0][0] is sc.NEGATE
            members = av[1:] if negate else av
        elif op not in (sc.LITERAL, sc.NOT_LITERAL):
            return None
        hit: set[str] = set()
        wide_word = wide_other = negate
        for mop, mav in members:
            if mop is sc.LITERAL:
                lo = hi = mav
            elif mop is sc.RANGE:
                lo, hi = mav
            elif mop is sc.CATEGORY and mav in categories:
                hit.update(c for c in _ASCII if re.fullmatch(categories[mav], c))
                wide_word = True  # "٢" is a \d, "é" a \w
                wide_other |= mav not in (sc.CATEGORY_DIGIT, sc.CATEGORY_WORD)  # "\u00a0" a \s
                continue
            else:
                return None
            if hi > 127 and ignorecase:  # "K" (Kelvin) matches "k"
                return None
            if hi > 127:
                wide_word = wide_other = True
            hit.update(chr(i) for i in range(lo, min(hi, 127) + 1))
        if ignorecase and hit & _ASCII_LETTERS:
            hit |= {c.swapcase() for c in hit if c in _ASCII_LETTERS}
            wide_word = True  # "ſ" matches "s"
        return (frozenset(_ASCII) - hit if negate else frozenset(hit)), wide_word, wide_other

    words: set[str] = set()
    prefixes: set[str] = set()
    chars: set[str] = set()
    digit = False
    stack: list[tuple[tuple, str, bool]] = [(items, "", False)]  # (items, word so far, after \b)
    for _ in range(50_000):
        if not stack:
            return _Starts(frozenset(words), frozenset(prefixes), digit, frozenset(chars))
        items, word, bounded = stack.pop()
        if not items:
            if not word:
                return None  # may match the empty string
            prefixes.add(word)
            continue
        (op, av), rest = items[0], items[1:]
        if op is sc.AT:
            if av is sc.AT_BOUNDARY and word:
                words.add(word)  # a letter then \b: the word ends here
            else:
                stack.append((rest, word, bounded or av is sc.AT_BOUNDARY))
        elif op in (sc.ASSERT, sc.ASSERT_NOT):
            stack.append((rest, word, bounded))  # zero-width: skipping it only adds starts
        elif op is sc.SUBPATTERN:
            _, add_flags, del_flags, sub = av
            if add_flags or del_flags:
                return None
            stack.append((tuple(sub.data) + rest, word, bounded))
        elif op is sc.ATOMIC_GROUP:
            stack.append((tuple(av.data) + rest, word, bounded))
        elif op is sc.BRANCH:
            stack.extend((tuple(alt.data) + rest, word, bounded) for alt in av[1])
        elif op in (sc.MAX_REPEAT, sc.MIN_REPEAT, sc.POSSESSIVE_REPEAT):
            lo, hi, sub = av
            if lo == 0:
                stack.append((rest, word, bounded))
            if hi != 0:
                again = (op, (max(lo - 1, 0), hi if hi is sc.MAXREPEAT else hi - 1, sub))
                stack.append((tuple(sub.data) + (again,) + rest, word, bounded))
        else:
            got = chars_of(op, av)
            if got is None or len(word) > 40:
                return None
            matched, wide_word, wide_other = got
            letters = sorted({c.lower() for c in matched & _ASCII_LETTERS})
            stack.extend((rest, word + c, bounded) for c in letters)
            if word:  # (a non-ASCII character makes the token non-ASCII: tried with all rules)
                if not (op is sc.LITERAL and chr(av) in _ASCII_LETTERS):
                    words.add(word)  # may match a non-letter: the leading letters end here
                continue
            if (wide_word or matched & _ASCII_WORD) and not bounded:
                return None  # a word character without \b before it: could start mid-token
            if wide_other or "_" in matched:
                return None  # a first character we cannot list ("\s", "[^a]", "_")
            digit = digit or any(c.isdigit() for c in matched)
            chars |= matched - _ASCII_WORD
    return None  # too many paths to follow


# the patterns scanned this way: the rules' and the day ranges' (``_day_ranges``); keyed by
# ``id(pattern)``, as a Pattern's own hash digests its whole compiled program at each lookup
_PATTERNS = [rule.regex for rule in _RULES] + [_RANGE_MD, _RANGE_YY, _RANGE_DM]
_STARTS = {id(p): s for p in _PATTERNS if (s := _starts(p)) is not None}
_BY_DIGIT = tuple(k for k, s in _STARTS.items() if s.digit)
_BY_CHAR = {
    c: [k for k, s in _STARTS.items() if c in s.chars] for s in _STARTS.values() for c in s.chars
}
_LEAD = re.compile(r"[A-Za-z]*")
_TOKEN = re.compile(r"\w+")

Positions = dict[int, list[int]]  # id(pattern) -> where its match can begin, ascending


@lru_cache(maxsize=1 << 16)
def _patterns_at(token: str) -> tuple[int, ...]:
    """The patterns (``_STARTS`` keys) whose match can begin where this ``\\w+`` token begins."""
    if not token.isascii():
        return tuple(_STARTS)
    if token[0].isdigit():
        return _BY_DIGIT
    lead = _LEAD.match(token)[0].lower()  # type: ignore[index]
    heads = {lead[:k] for k in range(1, len(lead) + 1)}
    return tuple(k for k, s in _STARTS.items() if lead in s.words or heads & s.prefixes)


def _start_positions(text: str) -> Positions:
    """One pass over the text's tokens: for each pattern in ``_STARTS``, where it can match."""
    at: Positions = {k: [] for k in _STARTS}
    for m in _TOKEN.finditer(text):
        for k in _patterns_at(m[0]):
            at[k].append(m.start())
    for c, keys in _BY_CHAR.items():
        found = [m.start() for m in re.finditer(re.escape(c), text)]
        for k in keys:
            at[k] = sorted(at[k] + found) if found else at[k]
    return at


def _finditer(regex: re.Pattern[str], text: str, at: Positions) -> list[re.Match[str]]:
    """``regex.finditer(text)``, trying only the positions in ``at`` (a superset of the match
    starts): finditer tries each position left to right and resumes at a match's end."""
    starts = at.get(id(regex))
    if starts is None:
        return list(regex.finditer(text))
    out = []
    end = 0
    for pos in starts:
        if pos >= end and (m := regex.match(text, pos)):
            if m.end() == pos:  # an empty match: leave finditer's stepping rules to finditer
                return list(regex.finditer(text))
            out.append(m)
            end = m.end()
    return out


def _candidates(text: str, at: Positions | None = None) -> list[Found]:
    """Every rule's matches, as its handler reads them (overlaps are left to ``_select``)."""
    at = _start_positions(text) if at is None else at
    out: list[Found] = []
    for rule in _RULES:
        for m in _finditer(rule.regex, text, at):
            try:
                f = rule.handler(m)
            except (ValueError, KeyError) as exc:  # a rule's bad day must not lose the article
                log.debug("timex rule %s failed on %r: %s", rule.name, m[0], exc)
                continue
            if f is not None and f.end > f.start:
                f.priority = rule.priority
                out.append(f)
    return out


def _select(cands: list[Found]) -> list[Found]:
    """Non-overlapping spans, longest first (then higher rule priority)."""
    cands.sort(key=lambda f: (-(f.end - f.start), -f.priority, f.start))
    taken: list[Found] = []
    for f in cands:
        if all(f.end <= t.start or f.start >= t.end for t in taken):
            taken.append(f)
    taken.sort(key=lambda f: f.start)
    return taken


_MONTH_PREPS = {"in", "since", "until", "till", "by", "from", "of", "during", "through", "before",
                "after", "early", "late", "mid", "last", "next", "this", "and", "or", "to"}  # fmt: skip


def _accept(f: Found, text: str, doc: Doc | None) -> bool:
    """Filters that need the parse: "May" the modal, "2000" the count."""
    s = text[f.start : f.end]
    if doc is not None and s.lower().endswith("may") and len(s) <= 4:
        before = text[max(0, f.start - 12) : f.start].lower().split()
        if before and before[-1] in _MONTH_PREPS:
            return True
        span = doc.char_span(f.start, f.end, alignment_mode="expand")
        if span is None or span.root.tag_ == "MD" or span.root.pos_ in ("VERB", "AUX"):
            return False
        return span.root.ent_type_ == "DATE" or span.root.pos_ == "PROPN"
    if re.fullmatch(r"\d{4}", s):
        nxt = text[f.end : f.end + 20]
        if re.match(r"\s*(?:%|percent|[a-z]+s\b|people|troops|tons|miles)", nxt):
            return False
        prev = text[max(0, f.start - 2) : f.start]
        if prev.endswith(("$", "#", "No", ".", ",")) and not prev.endswith(", "):
            return False
        if doc is not None:
            span = doc.char_span(f.start, f.end, alignment_mode="expand")
            if span is not None and span.root.ent_type_ in ("MONEY", "CARDINAL", "QUANTITY"):
                return False
    return True


def _ranges(found: list[Found], text: str, dct: date | None) -> list[Found]:
    """Join "from Monday to Wednesday", "Sept. 15 to 16", "2009-2010" into ranges."""
    out: list[Found] = []
    i = 0
    while i < len(found):
        f = found[i]
        if i + 1 < len(found):
            g = found[i + 1]
            between = text[f.end : g.start]
            if (
                f.type == g.type == "DATE"
                and len(between) <= 12
                and re.fullmatch(r"\s*(?:-|–|—|to|through|thru|until|till|and)\s*", between, re.I)
                and (
                    re.search(r"(?:from|between)\s*$", text[max(0, f.start - 9) : f.start], re.I)
                    or not re.search(r"[a-z]", between)
                )
            ):
                out.append(Found(f.start, g.end, "DATE", parts=[f, g]))
                i += 2
                continue
        out.append(f)
        i += 1
    return out


def _day_ranges(text: str, at: Positions | None = None) -> list[Found]:
    at = _start_positions(text) if at is None else at
    out = []
    for m in _finditer(_RANGE_MD, text, at):
        mo, d1, d2 = _month_num(m[1]), _int(m[2]), _int(m[3])
        if not (_valid(2000, mo, d1) and _valid(2000, mo, d2)) or d2 <= d1:
            continue
        a = Found(m.start(), m.end(2), "DATE")
        b = Found(m.start(3), m.end(), "DATE")
        for part, d in ((a, d1), (b, d2)):
            if m[4]:
                if not _valid(int(m[4]), mo, d):
                    break
                part.value = f"{m[4]}-{mo:02d}-{d:02d}"
            else:
                part.sym = f"DCT?M{mo:02d}-{d:02d}"
        else:
            out.append(Found(m.start(), m.end(), "DATE", parts=[a, b], priority=40))
    for m in _finditer(_RANGE_YY, text, at):
        y1, y2 = m[1], m[2] if len(m[2]) == 4 else m[1][:2] + m[2]
        if int(y2) <= int(y1):
            continue
        a = Found(m.start(1), m.end(1), "DATE", value=y1)
        b = Found(m.start(2), m.end(2), "DATE", value=y2)
        out.append(Found(m.start(), m.end(), "DATE", parts=[a, b], priority=40))
    for m in _finditer(_RANGE_DM, text, at):
        mo, d1, d2 = _month_num(m[3]), _int(m[1]), _int(m[2])
        if not (_valid(2000, mo, d1) and _valid(2000, mo, d2)) or d2 <= d1:
            continue
        a = Found(m.start(), m.end(1), "DATE")
        b = Found(m.start(2), m.end(), "DATE")
        for part, d in ((a, d1), (b, d2)):
            if m[4]:
                part.value = f"{m[4]}-{mo:02d}-{d:02d}"
            else:
                part.sym = f"DCT?M{mo:02d}-{d:02d}"
        out.append(Found(m.start(), m.end(), "DATE", parts=[a, b], priority=40))
    return out


def find_timexes(text: str, doc: Doc | None = None, pub_date: str | None = None) -> list[Found]:
    """All time expressions in ``text``, values resolved against ``pub_date`` when known.

    Ranges come back as one ``Found`` with ``parts`` (the two ends, each with its value).
    """
    dct = _parse_day(pub_date) if pub_date else None
    if pub_date and dct is None:
        log.debug("timex: publication date %r is not a day; values stay symbolic", pub_date)
    at = _start_positions(text)
    cands = _candidates(text, at) + _day_ranges(text, at)
    found = [f for f in _select(cands) if f.parts or _accept(f, text, doc)]
    found = _ranges(found, text, dct)
    for f in found:
        for part in f.parts or [f]:
            _direct(part, doc)
            if part.sym and dct is not None:
                part.value = _resolved(part.sym, dct)
        if f.parts:
            a, b = f.parts
            b.value = _order(a.value, b.value, b.sym)
            f.value, f.sym, f.gran = a.value, a.sym, a.gran
    return found


def _placeholder(f: Found) -> str:
    if f.sym and "|T" in f.sym:
        return "XXXX-XX-XXT" + f.sym.split("|T", 1)[1]
    if f.sym and "|" in f.sym:
        suffix = f.sym.split("|", 1)[1].replace("THANKS", "")
        return PLACEHOLDER.get(f.gran, "XXXX-XX-XX") + ("-WE" if suffix == "WE" else suffix)
    return PLACEHOLDER.get(f.gran, "XXXX-XX-XX")


def _sentence_of(starts: list[int], offset: int) -> int:
    import bisect

    return max(0, bisect.bisect_right(starts, offset) - 1)


def to_timex(f: Found, text: str, sentence: int) -> Timex:
    """The record for one found expression (a range keeps both ends)."""
    first = f.parts[0] if f.parts else f
    last = f.parts[1] if f.parts else None
    anchored = all(p.value is not None for p in (f.parts or [f]))
    syms = [p.sym for p in (f.parts or [f])]
    symbolic = None
    if any(syms):
        symbolic = " / ".join(p.sym or p.value or "" for p in (f.parts or [f]))
    value = first.value if first.value is not None else _placeholder(first)
    end_value = None
    if last is not None:
        end_value = last.value if last.value is not None else _placeholder(last)
    return Timex(
        start=f.start,
        end=f.end,
        text=text[f.start : f.end],
        type=f.type,  # type: ignore[arg-type]
        value=value,
        sentence=sentence,
        anchored=anchored,
        symbolic=symbolic,
        end_value=end_value,
    )


def run(ctx: Context) -> None:
    """Annotate component: append the article's time expressions to ``ctx.ann.timexes``."""
    starts = [s.start for s in ctx.ann.sentences]
    for f in find_timexes(ctx.text, ctx.doc, ctx.pub_date):
        ctx.ann.timexes.append(to_timex(f, ctx.text, _sentence_of(starts, f.start)))
