"""Entity mentions: people (with titles and roles), organisations, places, nationalities, and
capitals or seats of government standing for a government.

spaCy's NER finds the names; this component cleans their spans, types them, and resolves what one
article makes clear, so the link stage starts from good material:

* **people**: a title or role right before the name, or in apposition after it, is attached
  ("Chinese President Xi Jinping" -> role "Chinese President", canonical "Xi Jinping", country
  "CN"); short forms ("Xi", "Mr Xi", "President Xi", "Jinping") take the full name of the one
  person in the article they fit; two people who share a surname stay two people; descriptions
  ("the Chinese leader", "his Russian counterpart", "the Kremlin chief") become ``kind="title"``
  mentions resolved to the person whose nationality and role match, else left unresolved.
* **metonyms**: a capital or seat of government used as an actor ("Beijing said", "Moscow's
  invasion", "the Kremlin") becomes label ``GOV``, ``kind="metonym"``. Convention: its
  ``canonical`` is the *country's* short name ("China") and ``country`` its ISO code, so "Beijing
  said" and "China said" give the same actor name; the label tells a government from the land.
* **places and nationalities**: countries, cities, US states and curated seas, straits and
  regions get ``country`` and (except countries) ``lat``/``lon`` from the offline gazetteer;
  nationality adjectives (NORP) get ``country``. Ambiguous city names prefer a country the
  article names, then the biggest city.
"""

from __future__ import annotations

import bisect
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..records import Mention
from .gazetteer import Gazetteer, gazetteer, norm

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token

    from . import Context

log = logging.getLogger(__name__)

LABELS = {"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC"}

HONORIFICS = {"mr", "mr.", "mrs", "mrs.", "ms", "ms.", "dr", "dr.", "sir", "dame", "madam", "lord"}
# Words that head a role or title ("Russian envoy", "the Chinese leader").
ROLE_HEADS = {
    "president", "leader", "premier", "minister", "secretary", "spokesman", "spokeswoman",
    "spokesperson", "envoy", "ambassador", "chairman", "chairwoman", "chair", "chief", "head",
    "general", "commander", "king", "queen", "prince", "princess", "emperor", "chancellor",
    "governor", "mayor", "senator", "congressman", "congresswoman", "lawmaker", "diplomat",
    "official", "director", "adviser", "advisor", "dictator", "strongman", "ruler", "pope",
    "ayatollah", "emir", "sultan", "speaker", "representative", "analyst", "professor", "expert",
    "researcher", "journalist", "correspondent", "editor", "ceo", "founder", "colonel", "admiral",
    "marshal", "officer", "attorney", "judge", "prosecutor", "counterpart", "deputy", "aide",
    "negotiator", "commissioner", "boss", "tsar", "czar", "patriarch", "monarch", "vice-president",
    "vice-premier", "counsellor", "councillor", "opposition", "activist", "mp",
}  # fmt: skip
# Words that may stand inside a role before its head ("Foreign Minister", "top diplomat").
ROLE_MODIFIERS = {
    "foreign", "prime", "vice", "deputy", "defence", "defense", "former", "top", "senior", "state",
    "national", "security", "interior", "finance", "trade", "economy", "energy", "health",
    "first", "acting", "interim", "supreme", "party", "communist", "army", "military", "press",
    "assistant", "special", "associate", "general", "presidential", "white", "house", "kremlin",
    "chief", "executive", "secretary", "ministry", "affairs", "international", "political",
    "veteran", "longtime", "late", "then", "outgoing", "incoming", "new",
    "navy", "naval", "economic", "cabinet", "opposition", "regional", "provincial", "federal",
}  # fmt: skip
# Roles that make someone "the leader" / "the chief" / a "counterpart" of another leader.
LEADER_ROLES = (
    "president", "leader", "premier", "prime minister", "chairman", "general secretary",
    "king", "queen", "chancellor", "emperor", "dictator", "strongman", "ruler", "emir", "sultan",
    "head of state", "supreme leader", "ayatollah",
)  # fmt: skip
LEADER_HEADS = {"leader", "chief", "head", "ruler", "strongman", "dictator", "counterpart", "boss"}
_ROLE_WORDS = ROLE_HEADS | ROLE_MODIFIERS
_NOT_NAME_WORDS = HONORIFICS | _ROLE_WORDS
HEADS_OF_STATE = {"president", "premier", "chancellor", "king", "queen", "emperor", "emir"}
POSSESSIVE_DETS = {"the", "his", "her", "their", "its", "our", "your"}
ORG_WORDS = {
    "organisation", "organization", "university", "ministry", "party", "agency", "news",
    "council", "union", "bank", "company", "group", "committee", "institute", "department",
    "army", "navy", "force", "forces", "times", "post", "press", "association", "alliance",
    "corporation", "inc", "ltd", "fund", "forum", "office", "court", "parliament", "assembly",
}  # fmt: skip
# a "person" whose name ends in one of these is a body of people ("Police said ...", "State
# Police Investigators"): NER's usual confusion at a sentence start
BODY_WORDS = {
    "police", "sheriff", "investigators", "officials", "authorities", "troopers", "deputies",
    "officers", "detectives", "prosecutors", "firefighters", "witnesses", "neighbors",
}  # fmt: skip
PLACE_PREPS = {"in", "at", "inside", "into", "outside", "near", "to", "on", "within", "around"}
ACTOR_PREPS = {"by", "between", "with", "against"}
JUNK = {"covid-19", "covid", "coronavirus", "sign up", "getty images", "afp via getty images"}
_APOS_S = ("'s", "’s", "'", "’")


@dataclass
class _Item:
    """A mention being built: token span plus the record it becomes."""

    start_tok: int
    end_tok: int
    m: Mention
    name_tokens: tuple[str, ...] = ()
    honorific: str | None = None
    nationality: str | None = None
    extra: dict = field(default_factory=dict)


# -- small pure helpers ----------------------------------------------------------------------


def clean_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Trim a name's span: "the", a possessive, an unclosed "(SCO" and stray punctuation."""
    s = text[start:end]
    if s.count("(") > s.count(")"):
        cut = s.rfind("(")
        end = start + cut
    elif s.count(")") > s.count("("):
        end = start + s.rfind(")")
    changed = True
    while changed and start < end:
        changed = False
        s = text[start:end]
        for suffix in _APOS_S:
            if s.endswith(suffix) and len(s) > len(suffix) + 1:
                end -= len(suffix)
                changed = True
                break
        s = text[start:end]
        if s[:4] in ("the ", "The ") and len(s) > 4:
            start += 4
            changed = True
        s = text[start:end]
        stripped = s.strip(" \t\n,.;:-–—\"“”‘’'*•|")
        if stripped != s and stripped:
            if s.endswith(".") and re.search(r"\b[A-Z]\.$", s):  # keep "U.S." whole
                stripped = s.lstrip(" \t\n,;:-–—\"“”‘’'*•|")
                if stripped == s:
                    break
            lead = s.index(stripped)
            start, end = start + lead, start + lead + len(stripped)
            changed = True
    return start, end


def is_junk(text: str) -> bool:
    """Spans that are not names: no letters, lower case words, sign-up buttons."""
    if not any(ch.isalpha() for ch in text):
        return True
    if norm(text) in JUNK:
        return True
    return not (text[0].isupper() or text[0].isdigit())


def name_words(text: str) -> tuple[str, ...]:
    """The words of a person's name, honorifics dropped, for comparing forms of one name."""
    words = [w.strip(".,") for w in text.replace("’", "'").split()]
    return tuple(w for w in words if w and w.lower() not in HONORIFICS)


def role_fits(head: str, role: str | None) -> bool | None:
    """Whether a description's head fits a known role (None when the role is unknown)."""
    if not role:
        return None
    low = role.lower()
    if head in LEADER_HEADS:
        return any(r in low for r in LEADER_ROLES) or head in low
    return head in low


# -- the component ---------------------------------------------------------------------------


def run(ctx: Context) -> None:
    """Find, clean, type and resolve the entity mentions of one article."""
    gaz = gazetteer()
    doc = ctx.doc
    items = _named_items(ctx, gaz)
    _fix_labels(items, gaz)
    _add_missed_full_names(ctx, items, gaz)
    _add_missed_names(ctx, items)
    items.sort(key=lambda it: it.m.start)
    _attach_roles(doc, items, gaz)
    _resolve_people(items)
    _type_places(doc, items, gaz)
    _expand_acronyms(items)
    titles = _title_items(ctx, items, gaz)
    _resolve_titles(titles, items)
    items = _without_overlaps(items, titles)
    starts = [s.start for s in ctx.ann.sentences]
    for it in items:
        if starts:
            it.m.sentence = max(bisect.bisect_right(starts, it.m.start) - 1, 0)
        ctx.ann.mentions.append(it.m)


def _named_items(ctx: Context, gaz: Gazetteer) -> list[_Item]:
    """spaCy's entities, spans cleaned, junk dropped, "Beijing Andrey Denisov" split."""
    out: list[_Item] = []
    for ent in ctx.doc.ents:
        if ent.label_ not in LABELS:
            continue
        for span, label in _split_glued(ent, gaz):
            start, end = clean_span(ctx.text, span.start_char, span.end_char)
            text = ctx.text[start:end]
            if end <= start or is_junk(text):
                continue
            m = Mention(start=start, end=end, text=text, label=label, sentence=0, canonical=text)
            out.append(_Item(span.start, span.end, m))
    out.extend(_curated_items(ctx, gaz, out))
    return out


def _split_glued(ent: Span, gaz: Gazetteer) -> list[tuple[Span, str]]:
    """A place glued to a person's name by NER ("to Beijing Andrey Denisov") -> two mentions."""
    if ent.label_ == "PERSON" or len(ent) < 3:
        return [(ent, ent.label_)]
    first, rest = ent[:1], ent[1:]
    words = [t for t in rest if not t.is_punct]
    if (
        (gaz.metonym(first.text) or gaz.country_code(first.text) or gaz.lookup(first.text))
        and 2 <= len(words) <= 3
        and all(t.is_title and t.pos_ == "PROPN" for t in words)
        and not any(t.lower_ in ORG_WORDS for t in words)
        and gaz.lookup(rest.text) is None
    ):
        return [(first, "GPE"), (rest, "PERSON")]
    return [(ent, ent.label_)]


_MATCHERS: dict[int, object] = {}


def _curated_matcher(doc: Doc, gaz: Gazetteer):  # type: ignore[no-untyped-def]
    """A PhraseMatcher for multi-word curated places, built once per vocabulary."""
    key = id(doc.vocab)
    if key not in _MATCHERS:
        from spacy.matcher import PhraseMatcher

        matcher = PhraseMatcher(doc.vocab, attr="ORTH")
        names = {p.name for p in gaz.curated.values()}
        for raw in gaz.curated_names:
            if " " in raw and not raw.lower().startswith("the "):
                names.add(raw)
        from .nlp import load_nlp

        make_doc = load_nlp().make_doc
        patterns = [make_doc(n) for n in sorted(names) if " " in n]
        matcher.add("CURATED", patterns)
        _MATCHERS[key] = matcher
    return _MATCHERS[key]


def _curated_items(ctx: Context, gaz: Gazetteer, found: list[_Item]) -> list[_Item]:
    """Curated seas, straits and regions NER missed or cut ("Taiwan" of "Taiwan Strait")."""
    matcher = _curated_matcher(ctx.doc, gaz)
    out: list[_Item] = []
    for _id, s, e in matcher(ctx.doc):  # type: ignore[operator]
        span = ctx.doc[s:e]
        overlapping = [it for it in found if it.start_tok < e and s < it.end_tok]
        if any(it.end_tok - it.start_tok > e - s for it in overlapping):
            continue
        for it in overlapping:
            found.remove(it)
        m = Mention(span.start_char, span.end_char, span.text, "LOC", 0, canonical=span.text)
        out.append(_Item(s, e, m))
    return out


def _fix_labels(items: list[_Item], gaz: Gazetteer) -> None:
    """Undo NER's usual confusions using what the article itself says."""
    full = _full_name_words(it for it in items if it.m.label == "PERSON")
    known_words = {w for words in full for w in words}
    for it in items:
        m = it.m
        if m.label in ("GPE", "ORG", "NORP", "LOC") and m.text.count(" ") < 2:
            words = name_words(m.text)
            if words and all(w in known_words for w in words) and not gaz.lookup(m.text):
                m.label = "PERSON"  # "Kuleba" tagged GPE, but Dmytro Kuleba is in the article
        elif m.label == "PERSON" and (m.text.split() or [""])[-1].lower() in BODY_WORDS:
            m.label = "ORG"  # "Police" tagged PERSON
        elif m.label == "PERSON" and " " not in m.text and m.text not in known_words:
            place = gaz.lookup(m.text)
            if place and (place.kind != "city" or place.population >= 100_000):
                m.label = "GPE"  # "Kyiv" tagged PERSON
        if m.label == "NORP" and gaz.country_code(m.text):
            m.label = "GPE"  # "Uzbekistan" tagged NORP


def _full_name_words(items) -> set[tuple[str, ...]]:  # type: ignore[no-untyped-def]
    return {w for it in items if len(w := name_words(it.m.text)) >= 2}


def _taken(n: int, items: list[_Item]) -> list[bool]:
    taken = [False] * n
    for it in items:
        for i in range(it.start_tok, it.end_tok):
            taken[i] = True
    return taken


def _tokens_with(doc: Doc, attr: str, values: set[str]) -> list[Token]:
    """The tokens whose ``attr`` (ORTH, LOWER) is one of ``values``, in order: found on the
    doc's attribute array, so that the other words cost no Token object (a pass of
    ``for tok in doc`` makes one per word, several times per article)."""
    from spacy import attrs

    if not len(doc):
        return []
    strings = doc.vocab.strings
    wanted = {strings[v] for v in values}
    column = doc.to_array(getattr(attrs, attr)).tolist()
    return [doc[i] for i, h in enumerate(column) if h in wanted]


def _add_missed_full_names(ctx: Context, items: list[_Item], gaz: Gazetteer) -> None:
    """A full name NER missed ("China's Xi Jinping") whose short form it found elsewhere."""
    singles = {it.m.text for it in items if it.m.label == "PERSON" and " " not in it.m.text}
    if not singles:
        return
    doc = ctx.doc
    taken = _taken(len(doc), items)
    # title-case proper nouns, read off the arrays: no Token object for the other words
    from spacy.attrs import IS_TITLE, POS
    from spacy.symbols import PROPN

    title, pos = doc.to_array([IS_TITLE, POS]).T.tolist() if len(doc) else ([], [])
    proper = [bool(a) and b == PROPN for a, b in zip(title, pos, strict=True)]

    def name_like(i: int) -> bool:
        if taken[i] or not proper[i]:
            return False
        t = doc[i]
        return (
            t.lower_ not in _NOT_NAME_WORDS
            and gaz.lookup(t.text) is None
            and gaz.demonym(t.text) is None
        )

    i = 0
    while i < len(doc):
        j = i
        while j < len(doc) and j - i < 3 and name_like(j):
            j += 1
        if j - i >= 2 and any(doc[k].text in singles for k in range(i, j)):
            span = doc[i:j]
            m = Mention(span.start_char, span.end_char, span.text, "PERSON", 0)
            m.canonical = span.text
            items.append(_Item(i, j, m))
            for k in range(i, j):
                taken[k] = True
        i = max(j, i + 1)


def _add_missed_names(ctx: Context, items: list[_Item]) -> None:
    """Words of a full name that NER missed elsewhere in the article ("Mr Xi" untagged)."""
    full = _full_name_words(it for it in items if it.m.label == "PERSON")
    words = {w for f in full for w in f if len(w) > 1}
    if not words:
        return
    taken = _taken(len(ctx.doc), items)
    for tok in _tokens_with(ctx.doc, "ORTH", words):
        if taken[tok.i] or not tok.is_title:
            continue
        if tok.is_sent_start and tok.pos_ != "PROPN":
            continue
        m = Mention(tok.idx, tok.idx + len(tok.text), tok.text, "PERSON", 0, canonical=tok.text)
        items.append(_Item(tok.i, tok.i + 1, m))


# -- people: roles, short forms ----------------------------------------------------------


def _country_of_tokens(span_tokens: list[Token], gaz: Gazetteer) -> str | None:
    """The first country a role names ("Russian envoy to Beijing" -> RU, not CN)."""
    for t in span_tokens:
        if t.lower_ in ("to", "for"):
            break
        code = gaz.demonym(t.text) or gaz.country_code(t.text) or gaz.metonym(t.text)
        if code:
            return code
    return None


def _in_title(doc: Doc, i: int, gaz: Gazetteer) -> bool:
    """Whether a token can be part of a title before a name ("Russian envoy to Beijing")."""
    t = doc[i]
    low = t.lower_
    if low in ROLE_HEADS or low in ROLE_MODIFIERS or low.replace("-", "") in ROLE_HEADS:
        return True
    if (t.ent_type_ in ("NORP", "GPE", "ORG") and t.is_title) or gaz.demonym(t.text):
        return True
    if low in _APOS_S:
        return i > 0 and doc[i - 1].ent_type_ in ("GPE", "ORG", "NORP")
    return low in ("to", "of") and i > 0 and doc[i - 1].lower_ in ROLE_HEADS


def _role_before(doc: Doc, start: int, gaz: Gazetteer) -> tuple[int, str | None]:
    """Walk left from a name over a title: returns (first token of the title, honorific)."""
    i = start - 1
    first = start
    honorific = None
    while i >= 0:
        t = doc[i]
        low = t.lower_
        if low in HONORIFICS and honorific is None and first == start:
            honorific = t.text
            first = i
        elif _in_title(doc, i, gaz):
            first = i
        else:
            break
        if t.is_sent_start:
            break
        i -= 1
    return first, honorific


def _role_after(doc: Doc, end: int) -> tuple[int, int] | None:
    """An appositive role: "Wang Yi, China's foreign minister, said" -> the role's tokens."""
    if end >= len(doc) or doc[end].text != ",":
        return None
    j = end + 1
    if j < len(doc) and doc[j].lower_ in ("the", "a", "an"):
        j += 1
    start = j
    has_head = False
    while j < len(doc) and j - start < 9:
        t = doc[j]
        low = t.lower_
        if low in ROLE_HEADS:
            has_head = True
        elif not (
            low in ROLE_MODIFIERS
            or t.ent_type_ in ("NORP", "GPE", "ORG")
            or low in _APOS_S
            or low in ("of", "to", "for")
            or (t.is_title and t.pos_ == "PROPN")
        ):
            break
        j += 1
    if not has_head or j == start:
        return None
    while j > start and doc[j - 1].lower_ not in ROLE_HEADS and doc[j - 1].ent_type_ == "":
        j -= 1
    ends = (",", ".", ";", ")", "—", "–")
    if j < len(doc) and doc[j].text not in ends and doc[j].pos_ not in ("VERB", "AUX"):
        return None
    return start, j


def _attach_roles(doc: Doc, items: list[_Item], gaz: Gazetteer) -> None:
    """Titles and roles next to a person's name become its role (and nationality)."""
    text = doc.text  # built from the tokens on each access: once here, not per mention
    for it in items:
        if it.m.label != "PERSON":
            continue
        # titles NER put inside the name ("President Xi", "Mr Xi")
        s = it.start_tok
        while s < it.end_tok - 1 and doc[s].lower_ in _NOT_NAME_WORDS:
            s += 1
        if s != it.start_tok:
            it.m.start = doc[s].idx
            it.m.text = text[it.m.start : it.m.end]
        first, honorific = _role_before(doc, s, gaz)
        if first == s and s >= 2 and doc[s - 1].text == ",":
            first = _role_before(doc, s - 1, gaz)[0]  # "his Chinese counterpart, Xi Jinping"
            first = first if first < s - 1 else s
        it.honorific = honorific
        role_toks = [t for t in doc[first:s] if t.lower_ not in HONORIFICS and t.text != ","]
        role = None
        if any(
            t.lower_ in ROLE_HEADS or t.lower_.replace("-", "") in ROLE_HEADS for t in role_toks
        ):
            role = doc[role_toks[0].i : role_toks[-1].i + 1].text
        else:
            after = _role_after(doc, it.end_tok)
            if after:
                role_toks = list(doc[after[0] : after[1]])
                role = doc[after[0] : after[1]].text
        it.m.role = role
        it.nationality = _country_of_tokens(role_toks, gaz)
        it.m.text = text[it.m.start : it.m.end]
        it.name_tokens = name_words(it.m.text)


def _resolve_people(items: list[_Item]) -> None:
    """Give each person mention the full name it stands for in this article."""
    people = [it for it in items if it.m.label == "PERSON" and it.name_tokens]
    counts = Counter(it.name_tokens for it in people)
    full = sorted({w for w in counts if len(w) >= 2}, key=lambda w: (-len(w), w))
    # a longer form of the same name ("George W. Bush" for "George Bush") absorbs the shorter
    canon: dict[tuple[str, ...], tuple[str, ...]] = {}
    for f in full:
        longer = [g for g in full if len(g) > len(f) and g[0] == f[0] and g[-1] == f[-1]]
        canon[f] = longer[0] if len(longer) == 1 else f
    info: dict[tuple[str, ...], dict] = {}
    for it in people:
        words = it.name_tokens
        if words in canon:
            target = canon[words]
        else:
            cands = [f for f in full if canon[f] == f and set(words) <= set(f)]
            target = _pick(cands, it, people, counts) if cands else words
        it.m.canonical = " ".join(target)
        slot = info.setdefault(target, {"role": None, "country": None})
        slot["role"] = slot["role"] or it.m.role
        slot["country"] = slot["country"] or it.nationality
    for it in people:
        slot = info[tuple(it.m.canonical.split())] if it.m.canonical else None
        if slot:
            it.m.country = it.nationality or slot["country"]
            it.extra["role"] = slot["role"]


def _pick(cands, it, people, counts):  # type: ignore[no-untyped-def]
    """One of several people sharing a name word: by title, then mentions, then nearest before."""
    if len(cands) == 1:
        return cands[0]
    if it.m.role:
        head = it.m.role.split()[-1].lower()
        fitting = [
            c
            for c in cands
            if any(p.name_tokens == c and role_fits(head, p.m.role) for p in people)
        ]
        if len(fitting) == 1:
            return fitting[0]
    best = max(counts[c] for c in cands)
    top = [c for c in cands if counts[c] == best]
    if len(top) == 1:
        return top[0]
    before = [p for p in people if p.m.start < it.m.start and p.name_tokens in top]
    return before[-1].name_tokens if before else top[0]


# -- places, countries, governments ----------------------------------------------------------


def _is_actor(doc: Doc, it: _Item) -> bool:
    """Whether a capital is used as an actor: subject, possessor, "by"/"between" object."""
    span = doc[it.start_tok : it.end_tok]
    root = span.root
    if it.end_tok < len(doc) and doc[it.end_tok].text in _APOS_S:
        return True
    while root.dep_ == "conj" and root.head is not root:
        root = root.head
    if root.dep_ in ("nsubj", "nsubjpass", "poss"):
        return True
    return root.dep_ == "pobj" and root.head.lower_ in ACTOR_PREPS


def _is_location(doc: Doc, it: _Item) -> bool:
    """Whether a seat of government is meant as a building ("talks in the Kremlin")."""
    root = doc[it.start_tok : it.end_tok].root
    return root.dep_ == "pobj" and root.head.lower_ in PLACE_PREPS


def _country_named(m: Mention, gaz: Gazetteer) -> str | None:
    """The country a mention names outright: a country name or a nationality."""
    if m.label == "GPE":
        return gaz.country_code(m.text)
    return gaz.demonym(m.text) if m.label == "NORP" else None


def _type_places(doc: Doc, items: list[_Item], gaz: Gazetteer) -> None:
    """Countries, governments by metonym, nationalities, places with coordinates."""
    mentioned = {_country_named(it.m, gaz) for it in items}
    mentioned.discard(None)
    at = {it.start_tok: it for it in items}
    for it in items:
        m = it.m
        if m.label == "PERSON":
            continue
        gov = gaz.metonym(m.text)
        if gov and m.label in ("GPE", "ORG", "FAC", "LOC"):
            seat = gaz.is_seat(m.text)
            if (seat and not _is_location(doc, it)) or (not seat and _is_actor(doc, it)):
                m.label, m.kind, m.country = "GOV", "metonym", gov
                m.canonical = gaz.country_name(gov) or m.text
                continue
            if seat:
                m.label = "FAC"  # the building itself ("talks in the Kremlin")
        if m.label == "NORP":
            m.country = gaz.demonym(m.text)
            continue
        if m.label == "ORG":
            first = m.text.split()[0]
            m.country = gaz.country_code(first) or gaz.demonym(first) or gaz.metonym(first)
            continue
        comma = it.end_tok < len(doc) and doc[it.end_tok].text == ","
        nxt = at.get(it.end_tok + 1) if comma else None
        near = gaz.lookup(nxt.m.text) if nxt is not None and nxt.m.label == "GPE" else None
        place = gaz.lookup(m.text, mentioned, near.country if near else None)  # type: ignore[arg-type]
        if place is not None:
            m.canonical, m.country, m.lat, m.lon = place.name, place.country, place.lat, place.lon
            if m.label == "FAC" and place.kind in ("country", "city", "state"):
                m.label = "GPE"


def initials(name: str) -> str:
    """ "Shanghai Cooperation Organisation" -> "SCO" (small words skipped)."""
    return "".join(w[0] for w in name.replace("-", " ").split() if w[:1].isupper())


def _expand_acronyms(items: list[_Item]) -> None:
    """An organisation's acronym takes the full name the article spells out ("SCO")."""
    full: dict[str, str] = {}
    for it in items:
        if it.m.label == "ORG" and it.m.text.count(" ") >= 1:
            key = initials(it.m.text)
            if len(key) >= 2:
                full.setdefault(key, it.m.text)
    for it in items:
        m = it.m
        if m.label == "ORG" and m.text.isupper() and m.text in full:
            m.canonical = full[m.text]


# -- descriptions: "the Chinese leader" ------------------------------------------------------


def _title_items(ctx: Context, items: list[_Item], gaz: Gazetteer) -> list[_Item]:
    """Descriptions of a person by nationality and role, not followed by a name."""
    doc = ctx.doc
    person_at = {it.start_tok for it in items if it.m.label == "PERSON"}
    person_end = {it.end_tok for it in items if it.m.label == "PERSON"}
    out: list[_Item] = []
    for tok in _tokens_with(doc, "LOWER", ROLE_HEADS):
        low = tok.lower_
        if tok.tag_ in ("NNS", "NNPS"):
            continue
        nxt = tok.i + 1
        if nxt in person_at or (nxt < len(doc) and doc[nxt].ent_type_ == "PERSON"):
            continue  # a role attached to a name, handled with the name
        if nxt < len(doc) and doc[nxt].lower_ in _ROLE_WORDS:
            continue  # the head comes later ("Kremlin chief spokesman")
        i = tok.i - 1
        while i >= 0 and (
            doc[i].lower_ in ROLE_MODIFIERS
            or gaz.demonym(doc[i].text)
            or (doc[i].ent_type_ in ("NORP", "GPE", "ORG") and doc[i].is_title)
            or (doc[i].text in _APOS_S and i > 0 and doc[i - 1].ent_type_ in ("GPE", "ORG"))
        ):
            i -= 1
        mods = list(doc[i + 1 : tok.i])
        nationality = _country_of_tokens(mods, gaz)
        if nationality is None:
            continue
        det = doc[i] if i >= 0 else None
        possessed = any(t.text in _APOS_S for t in mods)
        if det is not None and det.lower_ in POSSESSIVE_DETS:
            first = det.i
        elif possessed:
            first = i + 1
        else:
            continue
        if first >= 2 and doc[first - 1].text == "," and first - 1 in person_end:
            continue  # an appositive role ("Wang Yi, China's foreign minister"), already attached
        if nxt + 1 in person_at and doc[nxt].text == ",":
            continue  # "his Chinese counterpart, Xi Jinping": attached to the name
        span = doc[first : tok.i + 1]
        m = Mention(span.start_char, span.end_char, span.text, "PERSON", 0, kind="title")
        m.role, m.country = doc[i + 1 : tok.i + 1].text, nationality
        out.append(_Item(first, tok.i + 1, m, extra={"head": low}))
    return out


def _resolve_titles(titles: list[_Item], items: list[_Item]) -> None:
    """The person in the article whose nationality and role fit the description, if just one."""
    people: dict[str, dict] = {}
    for it in items:
        if it.m.label == "PERSON" and it.m.canonical:
            p = people.setdefault(it.m.canonical, {"country": None, "role": None, "n": 0})
            p["country"] = p["country"] or it.m.country
            p["role"] = p["role"] or it.extra.get("role")
            p["n"] += 1
    for t in titles:
        head = t.extra["head"]
        same = {n: p for n, p in people.items() if p["country"] == t.m.country}
        fits = {n: p for n, p in same.items() if role_fits(head, p["role"]) is True}
        unknown = {n: p for n, p in same.items() if role_fits(head, p["role"]) is None}
        pool = fits or (unknown if head in LEADER_HEADS | HEADS_OF_STATE else {})
        if len(pool) == 1:
            t.m.canonical = next(iter(pool))
        elif pool:
            best = max(p["n"] for p in pool.values())
            top = [n for n, p in pool.items() if p["n"] == best]
            t.m.canonical = top[0] if len(top) == 1 else None


def _without_overlaps(items: list[_Item], titles: list[_Item]) -> list[_Item]:
    """One mention per stretch of text: descriptions win over the names inside them."""
    kept = list(titles)
    title_spans = [(t.m.start, t.m.end) for t in titles]
    last_end = -1
    for it in sorted(items, key=lambda x: (x.m.start, -(x.m.end - x.m.start))):
        if it.m.start < last_end or any(it.m.start < e and s < it.m.end for s, e in title_spans):
            continue
        kept.append(it)
        last_end = it.m.end
    return sorted(kept, key=lambda x: x.m.start)
