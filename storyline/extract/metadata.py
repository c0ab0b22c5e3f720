"""Title, outlet and publication date of an article, each with how it was found."""

from __future__ import annotations

import re
from datetime import date, datetime
from urllib.parse import urlparse

MONTHS = (
    "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    "sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
MONTH_NUM = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
ISO_DATE = re.compile(r"\b((?:19|20)\d\d)-(\d\d)-(\d\d)(?:[T ][\d:.]+(?:Z|[+-]\d\d:?\d\d)?)?\b")
# "date 2022-09-15" at the very start of a collected text
LEADING_DATE = re.compile(
    r"^\s*(?:date|dated|published|posted|updated)?\s*:?\s*" + ISO_DATE.pattern, re.I
)
WRITTEN_DATE = re.compile(
    r"\b(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?"
    r"(?:(?P<d1>\d{1,2})(?:st|nd|rd|th)?\s+(?P<m1>" + MONTHS + r")\.?,?\s+(?P<y1>(?:19|20)\d\d)"
    r"|(?P<m2>" + MONTHS + r")\.?\s+(?P<d2>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y2>(?:19|20)\d\d))\b",
    re.I,
)
PUBLISHED_LINE = re.compile(
    r"^\s*(?:(?:first )?published|posted|updated|last updated|last modified|date)\s*(?:on|:)?\s*",
    re.I,
)
DATELINE_AGENCY = re.compile(
    r"^[A-Z][A-Z .,'’-]{1,60}(?:,\s*[A-Z][\w .]+)?\s*\((?P<agency>Reuters|AP|AFP|Bloomberg|"
    r"Xinhua|TASS|dpa|UPI|CNN|Associated Press)\)\s*[-–—]",
)

# Outlet names that, seen in removed boilerplate or a sign-off, name who published the text.
# Ambiguous short names ("Post", "Times") are left out on purpose: unknown beats wrong.
KNOWN_OUTLETS = {
    "The Independent": r"\bThe Independent\b",
    "Fox News": r"\bFox News\b",
    "Reuters": r"\bReuters\b",
    "Associated Press": r"\b(?:The )?Associated Press\b",
    "BBC": r"\bBBC(?: News)?\b",
    "CNN": r"\bCNN\b",
    "The Guardian": r"\bThe Guardian\b",
    "The New York Times": r"\bThe New York Times\b",
    "The Washington Post": r"\bThe Washington Post\b",
    "New York Post": r"\bNew York Post\b",
    "Al Jazeera": r"\bAl Jazeera\b",
    "Bloomberg": r"\bBloomberg\b",
    "NBC News": r"\bNBC News\b",
    "CBS News": r"\bCBS News\b",
    "ABC News": r"\bABC News\b",
    "Sky News": r"\bSky News\b",
    "The Telegraph": r"\bThe Telegraph\b",
    "Daily Mail": r"\bDaily Mail\b",
    "Financial Times": r"\bFinancial Times\b",
    "The Wall Street Journal": r"\bWall Street Journal\b",
    "Politico": r"\bPolitico\b",
    "Axios": r"\bAxios\b",
    "NPR": r"\bNPR\b",
    "South China Morning Post": r"\bSouth China Morning Post\b",
    "The Moscow Times": r"\bThe Moscow Times\b",
    "Deutsche Welle": r"\bDeutsche Welle\b",
    "France 24": r"\bFrance 24\b",
    "Euronews": r"\bEuronews\b",
}
AGENCY_NAMES = {
    "Reuters": "Reuters",
    "AP": "Associated Press",
    "Associated Press": "Associated Press",
    "AFP": "AFP",
    "Bloomberg": "Bloomberg",
    "Xinhua": "Xinhua",
    "TASS": "TASS",
    "dpa": "dpa",
    "UPI": "UPI",
    "CNN": "CNN",
}


def iso_from_parts(y: int, m: int, d: int) -> str | None:
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return None


def parse_written_date(text: str) -> str | None:
    m = WRITTEN_DATE.search(text)
    if not m:
        return None
    month = (m.group("m1") or m.group("m2"))[:3].lower()
    day = int(m.group("d1") or m.group("d2"))
    year = int(m.group("y1") or m.group("y2"))
    return iso_from_parts(year, MONTH_NUM[month], day)


def normalise_date(value: object) -> tuple[str, str] | None:
    """Turn a metadata date (ISO, RFC 2822, epoch, written) into (ISO date, precision)."""
    if value is None:
        return None
    if isinstance(value, int | float):
        try:
            return datetime.utcfromtimestamp(float(value)).date().isoformat(), "day"
        except (OverflowError, OSError, ValueError):
            return None
    text = str(value).strip()
    m = ISO_DATE.search(text)
    if m:
        iso = iso_from_parts(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        return (iso, "day") if iso else None
    m = re.fullmatch(r"((?:19|20)\d\d)-(\d\d)", text)
    if m and 1 <= int(m.group(2)) <= 12:
        return text, "month"
    if re.fullmatch(r"(?:19|20)\d\d", text):
        return text, "year"
    written = parse_written_date(text)
    if written:
        return written, "day"
    try:
        from email.utils import parsedate_to_datetime

        return parsedate_to_datetime(text).date().isoformat(), "day"
    except (TypeError, ValueError, IndexError):
        return None


def outlet_from_url(url: str | None) -> str | None:
    if not url:
        return None
    host = urlparse(url if "//" in url else "//" + url).hostname
    if not host:
        return None
    host = host.lower()
    return host[4:] if host.startswith("www.") else host


def outlet_from_text(body_head: str, removed: list[str]) -> tuple[str, str] | None:
    """Outlet from a dateline agency or an outlet name in removed furniture; None if unsure."""
    m = DATELINE_AGENCY.search(body_head)
    if m:
        return AGENCY_NAMES.get(m.group("agency"), m.group("agency")), "dateline"
    found = set()
    for span in removed:
        for name, pattern in KNOWN_OUTLETS.items():
            if re.search(pattern, span):
                found.add(name)
    if len(found) == 1:
        return found.pop(), "text"
    return None


# "NEW YORK, March 3, 2021 (AP) — ..." : a dateline that carries the date, at a paragraph start
DATELINE_DATE = re.compile(
    r"^[A-Z][A-Z .,'’-]{1,60}?,?\s+(?P<date>(?i:" + WRITTEN_DATE.pattern + r"))\s*"
    r"(?:\([A-Za-z .]{1,30}\)\s*)?[-–—]"
)


def date_from_dateline(block: str) -> str | None:
    """The date of a dateline that opens a paragraph; an event date later in the text is not."""
    m = DATELINE_DATE.match(block)
    return parse_written_date(m.group("date")) if m else None


def date_from_lines(lines: list[str]) -> str | None:
    """A 'Published ...' / 'Updated ...' / bare date line among the first lines of a text."""
    for line in lines[:6]:
        stripped = line.strip()
        if not stripped or len(stripped) > 120:
            continue
        if PUBLISHED_LINE.match(stripped) or len(stripped) <= 60:
            m = ISO_DATE.search(stripped)
            if m:
                iso = iso_from_parts(int(m.group(1)), int(m.group(2)), int(m.group(3)))
                if iso:
                    return iso
            written = parse_written_date(stripped)
            if written and (PUBLISHED_LINE.match(stripped) or _mostly_date(stripped)):
                return written
    return None


def _mostly_date(line: str) -> bool:
    rest = WRITTEN_DATE.sub("", line)
    rest = re.sub(r"[\d:.,|\-–—/ ]|\b(?:am|pm|gmt|utc|[ecmp][sd]t|bst|cet)\b", "", rest, flags=re.I)
    return len(rest) <= 12
