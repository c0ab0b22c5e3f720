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
# Account, paywall and notification furniture: login walls, "we have sent you a verification
# email", "your notification has been saved", cookie and javascript notices.
ACCOUNT_WORDS = re.compile(
    r"\b(sign(?:ed)? in|log(?:ged)? in|login|sign(?:ing)? up|register|registering|registration|"
    r"verification (?:e-?mail|message)|confirmation e-?mail|(?:your|an) (?:account|profile)|"
    r"password|notifications?|terms of (?:service|use)|privacy policy|"
    r"subscri(?:be|ption|ber)s?|enable javascript|javascript|captcha|cookies|"
    r"read the maximum|continue reading|your tweets|location history)\b",
    re.I,
)
READER_ADDRESS = re.compile(r"\b(?:you|your|you'?ll|you'?ve)\b", re.I)
TEMPLATE_SLOT = re.compile(r"\{\*[^{}]*\*\}|\[website\]|\[…\]|\[\.\.\.\]")
VIDEO_ITEM = re.compile(
    r"^\d{1,2}:\d\d(?!\s*[ap]\.?m\b)(?:\s|$)", re.I
)  # "0:43 Title", not "8:27 AM"
INNER_SENTENCE = re.compile(r"[a-zA-Z]{2}[.!?][\"'”’]?\s+[A-Z]")  # two sentences: not a headline
# promo blurbs glue a headline onto its teaser: "...St. Patrick's DayA look at..."
GLUED_TITLE = re.compile(r"[a-z]{2}[A-Z][a-z]")
QUOTE_MARKS = re.compile(r"[\"“”]")
WORD = re.compile(r"[^\W\d_][\w'’-]*")


@dataclass
class Verdict:
    reason: str | None  # None: keep the block


def caps_ratio(block: str) -> float:
    upper = sum(map(str.isupper, block))
    cased = upper + sum(map(str.islower, block))
    return upper / cased if cased else 0.0


def words(block: str) -> list[str]:
    return WORD.findall(block)


def is_headline_like(block: str) -> bool:
    """A short line with no sentence-final punctuation: a headline, label or kicker."""
    w = words(block)
    return 0 < len(w) <= 25 and not SENTENCE_END.search(block) and "\n" not in block.strip()


def looks_like_body(block: str) -> bool:
    """A paragraph of running prose: enough words, ends like a sentence."""
    return len(words(block)) >= 12 and bool(SENTENCE_END.search(block))


def is_account_block(text: str, n: int) -> bool:
    """Login walls and notification notices: account words addressed to the reader, short,
    and never a quote (a quoted "sign in" is part of the story)."""
    if n > 60 or QUOTE_MARKS.search(text):
        return False
    hits = len(ACCOUNT_WORDS.findall(text))
    if TEMPLATE_SLOT.search(text) and hits:
        return True
    if hits >= 3 or (hits >= 2 and READER_ADDRESS.search(text)):
        return True
    return hits >= 1 and n <= 12 and bool(READER_ADDRESS.search(text))


def furniture_signal(block: str) -> bool:
    """Looser than removal: does this block look like page furniture at all? Used only to decide
    whether a whole page is an article, never to delete text."""
    n = len(words(block))
    account = len(ACCOUNT_WORDS.findall(block))
    glued = len(set(GLUED_TITLE.findall(block)))  # distinct: a brand like "GoFundMe" is one
    if n > 40:  # a long paragraph is prose unless dense with account words, or a cut teaser
        return account * 15 >= n or bool(TEMPLATE_SLOT.search(block)) or glued >= 3
    if account or TEMPLATE_SLOT.search(block) or VIDEO_ITEM.match(block):
        return True
    if READER_ADDRESS.search(block) and not QUOTE_MARKS.search(block):
        return True
    return glued >= 2


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
    if is_account_block(text, n):
        return "account"
    if VIDEO_ITEM.match(text) and n <= 30 and not looks_like_body(text):
        return "video-list"
    if n <= 60 and (CREDIT_PAREN.search(text) or CREDIT_BARE.search(text)):
        return "caption-credit"
    if CREDIT_LEAD.search(text) and n <= 40:
        return "caption-credit"
    if (
        3 <= n <= 30
        and not SENTENCE_END.search(text[-2:])
        and not INNER_SENTENCE.search(text)
        and not text.endswith(("-", "–", "—"))  # a dateline on its own line: "BEDFORD, N.H. -"
        and caps_ratio(text) >= 0.8
    ):
        return "related-headline"
    if last and n <= 12 and SIGN_OFF.search(text):
        return "sign-off"
    if n <= 12 and SIGN_OFF.search(text) and not looks_like_body(text):
        return "sign-off"
    return None


FURNITURE_REASONS = {"newsletter", "promo", "account", "video-list", "related-headline"}


def non_article_reason(kept: list[str], removed: list[tuple[str, str]]) -> str | None:
    """Why a whole page is not an article (login wall, play-list, promo page), or None.

    ``kept`` are the blocks left as story text, ``removed`` the (text, reason) pairs taken out.
    A page is an article when running prose carries it; it is not when furniture outweighs
    prose and fewer than two prose paragraphs are left.
    """
    prose = [b for b in kept if looks_like_body(b) and not furniture_signal(b)]
    prose_chars = sum(len(b) for b in prose)
    furniture_chars = sum(len(t) for t, r in removed if r in FURNITURE_REASONS)
    furniture_chars += sum(len(b) for b in kept if b not in prose and furniture_signal(b))
    total = furniture_chars + sum(len(b) for b in kept)
    if total == 0:
        return None
    if len(prose) < 2 and furniture_chars >= 0.5 * total and prose_chars < 0.4 * total:
        return "page furniture (login, notification, play-list or promo text), no story prose"
    return None
