"""Boilerplate inside plain text: which blocks of a collected article are not the story.

Each rule looks at the shape of one block (a paragraph or line): its credit pattern, its
capitals, its words, whether it has sentence structure, where it stands. Nothing here is keyed to
one outlet's strings. Losing a real sentence is worse than keeping a caption, so every rule is
narrow and a block is only removed when a rule is sure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Words that mark page furniture around newsletters, apps and audio promos.
SIGNUP_WORDS = re.compile(
    r"\b(sign(?:ing)? up|newsletter|e-?mail(?:ed)? address|inbox|subscribe|subscription|"
    r"privacy (?:notice|policy)|terms of (?:use|service)|unsubscribe|opt out|breaking news alerts?)\b",
    re.I,
)
PROMO = re.compile(
    r"^(?:new[:!]?\s*)?(?:you can now listen|listen to (?:this|the) (?:article|story)|"
    r"download (?:the|our) app|click here|watch(?: the)? video|advertisement|"
    r"read more:|related:|see also:|follow us on|share this (?:article|story)|"
    r"please enable javascript|this video is not available|image \d+ of \d+)",
    re.I,
)
# A credit at the end of a caption: "(AP)", "(Getty Images)", "(Name/AP)", "(via REUTERS)",
# "(Sergei Bobylev, Sputnik, Kremlin Pool Photo via AP)", or a bare trailing ". AP".
AGENCIES = (
    r"AP|AFP|Reuters|REUTERS|Getty(?: Images)?|EPA(?:-EFE)?|Xinhua|TASS|Sputnik|SPUTNIK|"
    r"Bloomberg|Shutterstock|Alamy|PA(?: Media| Wire)?|ANSA|Anadolu|Kyodo|Yonhap|"
    r"Associated Press|Agence France-Presse|Pool|POOL|Handout|HANDOUT|NurPhoto|ZUMA|"
    r"Sipa|SIPA|Imagn|USA TODAY|WireImage|Photo|PHOTO|Images|IMAGES|Rex|REX|dpa"
)
CREDIT_PAREN = re.compile(
    r"\((?:[^()]{0,80}?(?:/|\bvia\b|,\s*|\bfor\b\s*)?)(?:" + AGENCIES + r")(?:[^()]{0,60})\)\s*$"
)
CREDIT_BARE = re.compile(r"[.!?”\"]\s+(?:" + AGENCIES + r")\s*$")
CREDIT_LEAD = re.compile(r"^(?:Photo|Image|Picture)(?: credit)?\s*:", re.I)
SIGN_OFF = re.compile(
    r"^(?:[-–—]\s*)?(?:with (?:[A-Z][\w.]* ){0,3}wires?|(?:additional )?reporting by\b|"
    r"writing by\b|editing by\b|compiled by\b|(?:the )?associated press contributed|"
    r"[\w ]{0,40} contributed to this (?:report|story)|this (?:story|article) (?:was|has been) "
    r"(?:updated|corrected))",
    re.I,
)
SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*\s*$")
WORD = re.compile(r"[^\W\d_][\w'’-]*")


@dataclass
class Verdict:
    reason: str | None  # None: keep the block


def caps_ratio(block: str) -> float:
    letters = [c for c in block if c.isalpha()]
    if not letters:
        return 0.0
    return sum(c.isupper() for c in letters) / len(letters)


def words(block: str) -> list[str]:
    return WORD.findall(block)


def is_headline_like(block: str) -> bool:
    """A short line with no sentence-final punctuation: a headline, label or kicker."""
    w = words(block)
    return 0 < len(w) <= 25 and not SENTENCE_END.search(block) and "\n" not in block.strip()


def looks_like_body(block: str) -> bool:
    """A paragraph of running prose: enough words, ends like a sentence."""
    return len(words(block)) >= 12 and bool(SENTENCE_END.search(block))


def classify_block(block: str, *, first: bool = False, last: bool = False) -> str | None:
    """Return the reason a block is boilerplate, or None to keep it."""
    text = block.strip()
    if not text:
        return None
    w = words(text)
    n = len(w)
    signup_hits = len(SIGNUP_WORDS.findall(text))
    if signup_hits >= 2 and (signup_hits * 12 >= n or n < 120):
        return "newsletter"
    if PROMO.search(text) and n <= 40:
        return "promo"
    if n <= 60 and (CREDIT_PAREN.search(text) or CREDIT_BARE.search(text)):
        return "caption-credit"
    if CREDIT_LEAD.search(text) and n <= 40:
        return "caption-credit"
    if n >= 3 and n <= 30 and caps_ratio(text) >= 0.8 and not SENTENCE_END.search(text[-2:]):
        return "related-headline"
    if last and n <= 12 and SIGN_OFF.search(text):
        return "sign-off"
    if n <= 12 and SIGN_OFF.search(text) and not looks_like_body(text):
        return "sign-off"
    return None
