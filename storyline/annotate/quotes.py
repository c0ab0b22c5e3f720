"""Quotes: who said what, to whom, through which channel.

Two passes over one parsed article, both cheap next to the spaCy parse:

1. *Direct quotes* come from the quote marks: one regex scan pairs straight and curly double marks
   inside each paragraph. A quote left open at a paragraph's end continues when the next paragraph
   opens with a mark (the newspaper convention); otherwise it is cut at the paragraph's end, and
   never longer than ``MAX_QUOTE_CHARS``, so a stray mark cannot swallow the article.
2. *Indirect speech* and attributions come from the dependency parse: a speech verb ("said",
   "told", "was quoted as saying", "according to") gives the speaker (its subject), the addressee
   ("told Putin"), the channel ("told reporters", "in a statement", "according to CCTV") and the
   reported clause. A reported clause that is (all but a word) inside quote marks attributes that
   direct quote instead of making an indirect one.

Speakers are resolved to full names through the article's PERSON mentions: "Xi" -> "Xi Jinping",
"he" -> the most recent person in subject position, "the Chinese leader" -> the most recent person
whose mentions carry "Chinese"/"China" or "leader" nearby (or the entities component's own
resolution of that description). A quote paragraph with no attribution inherits the speaker of
the quote or reported speech just before it.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..records import Quote

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token

    from . import Context

MAX_QUOTE_CHARS = 2000  # one direct quote, all paragraphs together
MAX_OPEN_CHARS = 600  # a quote with no closing mark is kept only up to this length
MIN_PARTIAL_WORDS = 2  # a marked span inside a sentence shorter than this is a term, not a quote
MIN_UNATTRIBUTED_WORDS = 8  # a marked span with no speaker is kept only from this length

_MARKS = re.compile(r"[\"“”«»„]")
_OPENERS = {"“", "«", "„"}
_CLOSERS = {"”", "»"}
_WORD = re.compile(r"\w+(?:['’]\w+)?")
_LINE = re.compile(r"[^\n]+")
_POSSESSIVE = re.compile(r"[’']s$")
_HONORIFIC = re.compile(r"^(?:Mr|Mrs|Ms|Dr|President|Sen|Rep|Gov)\.?\s+")
_CLAUSE_END = re.compile(r"[,.;\n(]")
_COMMA = re.compile(r"\s*,\s*")

SPEECH_VERBS = frozenset({
    "say", "tell", "add", "state", "announce", "claim", "note", "explain", "warn", "insist",
    "stress", "argue", "report", "write", "tweet", "post", "declare", "reply", "respond",
    "acknowledge", "admit", "confirm", "deny", "ask", "urge", "recall", "comment", "remark",
    "suggest", "predict", "promise", "vow", "pledge", "testify", "allege", "quote", "continue",
    "conclude", "emphasize", "emphasise", "reiterate", "assert", "complain", "concede",
    "disclose", "reveal", "contend", "maintain", "observe", "caution", "hint",
})  # fmt: skip
REPORTING_VERBS = frozenset({"quote", "report", "cite"})  # "X quoted Y as saying": second hand
PRONOUNS = frozenset({"he", "she", "him", "her"})
AUDIENCES = frozenset(
    {"reporters", "journalists", "media", "press", "newsmen", "correspondents", "audience"}
)
CHANNEL_NOUNS = frozenset({
    "statement", "interview", "post", "tweet", "release", "speech", "letter", "email", "e-mail",
    "conference", "briefing", "message", "address", "video", "broadcast", "call", "report",
    "remarks", "comments", "press",
})  # fmt: skip
_NAME_WORD = re.compile(r"[A-Z][a-z]+(?:-[A-Z][a-z]+)?|[A-Z]\.")
ORG_WORDS = frozenset({  # a name with one of these is not a person's
    "ministry", "department", "office", "agency", "police", "news", "council", "committee",
    "party", "bank", "university", "school", "district", "house", "court", "company", "group",
    "association", "times", "post", "media", "press", "service", "services", "county", "city",
    "state", "government", "embassy", "army", "force", "forces", "command", "center", "centre",
    "hospital", "church", "foundation", "institute", "union", "league", "club", "team", "network",
    "radio", "international", "corp", "inc", "organization", "organisation", "commission",
    "authority", "board", "bureau", "guard", "navy", "air", "fire", "sheriff", "stoppers",
    "airlines", "railways", "motors", "energy", "fund",
})  # fmt: skip
ROLE_NOUNS = frozenset({
    "leader", "president", "minister", "premier", "chancellor", "spokesman", "spokeswoman",
    "spokesperson", "official", "envoy", "ambassador", "secretary", "chief", "head", "king",
    "queen", "prince", "governor", "mayor", "senator", "general", "commander", "director",
    "chairman", "chairwoman", "diplomat", "counterpart", "officer", "sheriff", "detective",
    "captain", "lieutenant", "sergeant", "prosecutor", "attorney", "judge",
})  # fmt: skip


@dataclass
class _Cue:
    """One attribution found in the parse."""

    verb: int  # token index of the cue
    speaker: tuple[int, int] | None  # token span of the speaker phrase
    content: tuple[int, int] | None  # char span of the reported clause
    addressee: tuple[int, int] | None = None
    channel: str | None = None
    second_hand: bool = False
    sentence: int = 0


@dataclass
class _Person:
    canonical: str
    start: int
    end: int
    subject: bool
    cues: set[str] = field(default_factory=set)
    kind: str = "name"  # "title" / "pronoun" mentions resolved by the entities component


def run(ctx: Context) -> None:
    """Find direct and indirect quotes in one article and append them to ``ctx.ann.quotes``."""
    doc = ctx.doc
    text = ctx.text
    if not text.strip() or len(doc) == 0:
        return
    sent_starts = [s.start for s in ctx.ann.sentences] or [s.start_char for s in doc.sents]
    people = _people(ctx)
    spans = find_direct_spans(text)
    cues = [c for c in (_cue(doc, tok) for tok in doc if _is_cue(tok)) if c is not None]
    cues += _according_cues(doc)
    marked = [(p[0][0], p[-1][1]) for p in spans]
    cues = [c for c in cues if not _inside(doc[c.verb].idx, marked)]  # verbs quoted, not quoting
    for cue in cues:
        cue.sentence = _sentence_of(sent_starts, doc[cue.verb].idx)
    cues.sort(key=lambda c: c.verb)
    paragraphs = _paragraph_starts(text)
    _mark_speakers(doc, cues, people, text)
    indirect = _indirect(ctx, cues, spans, people, sent_starts)
    quotes = _attribute_direct(ctx, spans, cues, people, sent_starts, paragraphs, indirect)
    quotes += indirect
    _according_channels(doc, cues, quotes, sent_starts)
    quotes.sort(key=lambda q: (q.start, q.end))
    ctx.ann.quotes.extend(quotes)


# --- direct quotes from marks -------------------------------------------------------------------


def find_direct_spans(text: str) -> list[list[tuple[int, int]]]:
    """Pair quote marks; return each quote as its list of (start, end) pieces, one per paragraph.

    Offsets exclude the marks. Pure string work, so it is testable without a model.
    """
    out: list[list[tuple[int, int]]] = []
    pending: list[tuple[int, int]] | None = None  # an open quote waiting for a continuation
    for line in _LINE.finditer(text):
        p_start, p_end = line.span()
        stripped = line.group().lstrip()
        lead = p_start + len(line.group()) - len(stripped)
        if pending is not None:
            if stripped[:1] in _OPENERS or stripped[:1] == '"':
                pass  # continuation: handled by the scan below, which sees the opening mark
            else:
                _close_open(out, pending, text)
                pending = None
        open_at: int | None = None
        for m in _MARKS.finditer(text, p_start, p_end):
            ch, i = m.group(), m.start()
            if open_at is None:
                if ch in _CLOSERS and i > p_start and not text[i - 1].isspace():
                    continue  # a stray closing mark glued to a word
                open_at = i + 1
                if pending is not None and i == lead:
                    continue  # the continuation of the previous paragraph's quote
                if pending is not None:
                    _close_open(out, pending, text)
                    pending = None
            else:
                if (
                    ch in _OPENERS
                    and i + 1 < p_end
                    and text[i - 1].isspace()
                    and text[i + 1].isalnum()
                ):
                    # a new opening while one is open: the earlier one lacked its closing mark
                    _finish(out, pending, (open_at, i), text, closed=False)
                    pending = None
                    open_at = i + 1
                    continue
                _finish(out, pending, (open_at, i), text, closed=True)
                pending = None
                open_at = None
        if open_at is not None:
            piece = (open_at, p_end)
            pending = [*pending, piece] if pending is not None else [piece]
            if sum(e - s for s, e in pending) > MAX_QUOTE_CHARS:
                _close_open(out, pending, text)
                pending = None
    if pending is not None:
        _close_open(out, pending, text)
    return out


def _finish(
    out: list[list[tuple[int, int]]],
    pending: list[tuple[int, int]] | None,
    piece: tuple[int, int],
    text: str,
    closed: bool,
) -> None:
    pieces = [*(pending or []), piece]
    pieces = [_trim(text, s, e) for s, e in pieces]
    pieces = [(s, e) for s, e in pieces if e > s]
    if not pieces:
        return
    size = sum(e - s for s, e in pieces)
    if size > (MAX_QUOTE_CHARS if closed else MAX_OPEN_CHARS):
        return
    out.append(pieces)


def _close_open(
    out: list[list[tuple[int, int]]], pending: list[tuple[int, int]], text: str
) -> None:
    """A quote that never closed: keep its finished paragraphs, cut at the last paragraph's end."""
    _finish(out, pending[:-1], pending[-1], text, closed=len(pending) > 1)


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in ",;:"):
        end -= 1
    return start, end


# --- cues from the parse -----------------------------------------------------------------------


def _is_cue(tok: Token) -> bool:
    return tok.pos_ in ("VERB", "AUX") and tok.lemma_.lower() in SPEECH_VERBS


def _cue(doc: Doc, v: Token) -> _Cue | None:
    """Read speaker, addressee, channel and reported clause off one speech verb."""
    lemma = v.lemma_.lower()
    deps = {c.dep_: c for c in v.children}
    # "X reported him saying ..." / "X quoted Y as saying ...": handled from the reporting verb
    if lemma == "say" and v.dep_ in ("ccomp", "pcomp", "xcomp", "advcl"):
        head = v.head if v.dep_ != "pcomp" else v.head.head
        if head.lemma_.lower() in REPORTING_VERBS:
            return None
    content = _content(v)
    second_hand = False
    channel: str | None = None
    addressee: tuple[int, int] | None = None
    speaker_tok: Token | None = None
    if lemma in REPORTING_VERBS:
        say = _say_child(v)
        if say is None and lemma != "quote":
            if content is None:
                return None
            # "state media reported that ...": the outlet itself is the speaker
            speaker_tok = deps.get("nsubj")
        elif "nsubjpass" in deps:  # "X was quoted (by Y) as saying"
            speaker_tok = deps["nsubjpass"]
            agent = _agent(v, say)
            second_hand = True
            channel = f"quoted by {_phrase_text(doc, agent)}" if agent is not None else "quoted"
        else:  # "Y quoted X as saying" / "Y reported X saying"
            obj = deps.get("dobj")
            if obj is None and say is not None:
                obj = next((c for c in say.children if c.dep_ in ("nsubj", "dobj")), None)
            if obj is None:
                return None
            speaker_tok = obj
            subj = deps.get("nsubj")
            second_hand = True
            if subj is not None:
                s0, s1 = _phrase(subj)
                end = say.i + 1 if say is not None else v.i + 1
                channel = doc[s0:end].text if end - s0 < 15 else f"{doc[s0:s1].text} {v.text}"
        if content is None and say is not None:
            content = _content(say)
    else:
        speaker_tok = deps.get("nsubj")
        if speaker_tok is None and v.dep_ in ("conj", "advcl", "xcomp", "relcl"):
            # "Putin told Xi ... and said ...", "..., saying ...": the nearest speaking head
            speaker_tok = _inherited_subject(v)
        if lemma in ("tell", "ask", "urge", "warn", "assure", "promise") and "dobj" in deps:
            obj = deps["dobj"]
            if obj.lower_ in AUDIENCES or obj.lemma_.lower() in AUDIENCES:
                channel = f"{v.text} {obj.text}"
            elif obj.ent_type_ == "ORG":  # "told NBC News", "told the Associated Press"
                o0, o1 = _phrase(obj)
                channel = f"{v.text} {doc[o0:o1].text}"
            else:
                addressee = _phrase(obj)
        elif lemma in ("tweet", "post", "write"):
            channel = v.text
        if channel is None:
            channel = _channel_prep(doc, v)
    if speaker_tok is None:
        return None
    if speaker_tok.tag_ in ("WP", "WDT") and v.dep_ == "relcl":
        speaker_tok = v.head  # "Lukashenko, who was quoted as saying"
    return _Cue(
        verb=v.i,
        speaker=_phrase(speaker_tok),
        content=content,
        addressee=addressee,
        channel=channel,
        second_hand=second_hand,
    )


def _inherited_subject(v: Token) -> Token | None:
    first: Token | None = None
    head = v
    for _ in range(4):
        if head.dep_ not in ("conj", "advcl", "xcomp", "relcl", "ccomp") or head.head is head:
            break
        head = head.head
        subj = next((c for c in head.children if c.dep_ in ("nsubj", "nsubjpass")), None)
        if subj is not None and head.lemma_.lower() in SPEECH_VERBS:
            return subj
        if first is None:
            first = subj
    return first


def _say_child(v: Token) -> Token | None:
    for c in v.children:
        if c.lemma_.lower() == "say":
            return c
        if c.dep_ == "prep" and c.lower_ == "as":
            for g in c.children:
                if g.lemma_.lower() == "say":
                    return g
    return None


def _agent(v: Token, say: Token | None) -> Token | None:
    for head in (v, say):
        if head is None:
            continue
        for c in head.children:
            if c.dep_ in ("agent", "prep") and c.lower_ == "by":
                return next((g for g in c.children if g.dep_ == "pobj"), None)
    return None


def _channel_prep(doc: Doc, v: Token) -> str | None:
    """ "in a statement", "in an interview with X", "on Twitter"."""
    for c in v.children:
        if c.dep_ == "prep" and c.lower_ in ("in", "on", "during", "at"):
            obj = next((g for g in c.children if g.dep_ == "pobj"), None)
            if obj is not None and (
                obj.lemma_.lower() in CHANNEL_NOUNS or obj.text in ("Twitter", "X", "Facebook")
            ):
                return doc[c.i : obj.i + 1].text
    return None


def _content(v: Token) -> tuple[int, int] | None:
    """Char span of the clause a speech verb reports (its ``ccomp``), without "that"."""
    comp = next((c for c in v.children if c.dep_ == "ccomp"), None)
    if comp is None:
        say = _say_child(v) if v.lemma_.lower() in REPORTING_VERBS else None
        if say is not None:
            comp = next((c for c in say.children if c.dep_ == "ccomp"), None)
    if comp is None:
        return None
    toks = list(comp.subtree)
    lo, hi = toks[0].i, toks[-1].i
    doc = v.doc
    while lo <= hi and (doc[lo].dep_ == "mark" or doc[lo].is_punct or doc[lo].is_space):
        lo += 1
    while hi >= lo and (doc[hi].is_punct or doc[hi].is_space):
        hi -= 1
    if hi - lo < 2:
        return None
    return doc[lo].idx, doc[hi].idx + len(doc[hi])


def _according_cues(doc: Doc) -> list[_Cue]:
    """ "..., according to X": X is the speaker, or the channel when a verb names a speaker."""
    out: list[_Cue] = []
    for tok in doc:
        if tok.lower_ != "according" or tok.i + 2 >= len(doc) or doc[tok.i + 1].lower_ != "to":
            continue
        obj = next((g for g in doc[tok.i + 1].children if g.dep_ == "pobj"), None)
        if obj is None:
            continue
        sent = tok.sent
        a0, a1 = tok.i, max(t.i for t in obj.subtree) + 1
        # the reported content: the sentence without the "according to X" phrase
        left = doc[sent.start : a0]
        right = doc[a1 : sent.end]
        part = left if len(left) >= len(right) else right
        span = _strip_span(part)
        out.append(
            _Cue(
                verb=tok.i,
                speaker=_phrase(obj),
                content=span,
                channel=doc[a0:a1].text,
            )
        )
    return out


def _strip_span(span: Span) -> tuple[int, int] | None:
    toks = [t for t in span]
    while toks and (toks[0].is_punct or toks[0].is_space):
        toks.pop(0)
    while toks and (toks[-1].is_punct or toks[-1].is_space):
        toks.pop()
    if len(toks) < 3:
        return None
    return toks[0].idx, toks[-1].idx + len(toks[-1])


def _phrase(tok: Token) -> tuple[int, int]:
    """Token span of a noun phrase without its relative clauses, appositions and commas."""
    doc = tok.doc
    for c in tok.children:  # "a spokesman, Dmitry Peskov" / "minister, Qin Gang,"
        if c.dep_ == "appos" and c.ent_type_ == "PERSON" and tok.ent_type_ != "PERSON":
            return _ent_bounds(c)
    if tok.ent_type_ == "PERSON":
        return _ent_bounds(tok)
    lo = tok.i
    for c in tok.lefts:
        if c.dep_ in ("det", "amod", "compound", "poss", "nmod", "nummod", "case", "quantmod"):
            lo = min(lo, min(t.i for t in c.subtree))
    hi = tok.i + 1
    for c in tok.rights:
        if c.dep_ == "prep" and c.lower_ in ("for", "of", "at", "from", "with", "to"):
            sub = [t.i for t in c.subtree]
            if not any(doc[i].is_punct for i in sub):
                hi = max(hi, max(sub) + 1)
    for i in range(tok.i - 1, lo - 1, -1):  # a phrase never crosses a line break
        if "\n" in doc[i].text_with_ws:
            return i + 1, hi
    return lo, hi


def _ent_bounds(tok: Token) -> tuple[int, int]:
    doc = tok.doc
    lo = hi = tok.i
    while lo > 0 and doc[lo - 1].ent_iob_ == "I" and doc[lo].ent_iob_ == "I":
        lo -= 1
    if doc[lo].ent_iob_ == "I" and lo > 0:
        lo -= 1
    while hi + 1 < len(doc) and doc[hi + 1].ent_iob_ == "I":
        hi += 1
    return lo, hi + 1


def _phrase_text(doc: Doc, tok: Token) -> str:
    lo, hi = _phrase(tok)
    return doc[lo:hi].text


# --- speakers ----------------------------------------------------------------------------------


def _people(ctx: Context) -> list[_Person]:
    """PERSON mentions in text order, with full names and the words found around them."""
    doc, text = ctx.doc, ctx.text
    found = [
        (m.start, m.end, m.canonical or m.text)
        for m in ctx.ann.mentions
        if m.label == "PERSON" and m.kind == "name"
    ]
    if not ctx.ann.mentions:
        found = [(e.start_char, e.end_char, e.text) for e in doc.ents if e.label_ == "PERSON"]
    found += [  # the small model often tags a person "ORG" ("Olaf Scholz"): names that look it
        (e.start_char, e.end_char, e.text)
        for e in doc.ents
        if e.label_ in ("ORG", "GPE")
        and _looks_like_person_name(e.text)
        and not any(s < e.end_char and e.start_char < t for s, t, _ in found)
    ]
    found = [(s, e, _clean_name(n)) for s, e, n in found if _clean_name(n)]
    described = [
        _Person(m.canonical, m.start, m.end, subject=False, kind=m.kind)
        for m in ctx.ann.mentions
        if m.label == "PERSON" and m.kind != "name" and m.canonical
    ]
    names = sorted({n for _, _, n in found}, key=lambda n: (-len(n.split()), n))
    people: list[_Person] = []
    for s, e, name in sorted(found):
        people.append(
            _Person(
                canonical=_full_name(name, names),
                start=s,
                end=e,
                subject=_is_subject(doc, s),
                cues=_context_words(text, s, e),
            )
        )
    # words seen near any mention of a person describe every mention of that person
    by_name: dict[str, set[str]] = {}
    for p in people:
        by_name.setdefault(p.canonical, set()).update(p.cues)
    for p in people:
        p.cues = by_name[p.canonical]
    return sorted(people + described, key=lambda p: (p.start, p.end))


def _looks_like_person_name(name: str) -> bool:
    words = name.split()
    return (
        2 <= len(words) <= 3
        and all(_NAME_WORD.fullmatch(w) for w in words)
        and not any(w.lower() in ORG_WORDS for w in words)
    )


def _clean_name(name: str) -> str:
    name = _POSSESSIVE.sub("", name.strip())
    name = _HONORIFIC.sub("", name)
    return name.strip(" ,.;:")


def _full_name(name: str, names: list[str]) -> str:
    """The longest name in the article that contains this one's words ("Xi" -> "Xi Jinping")."""
    words = set(name.lower().split())
    for other in names:  # longest first
        if words <= set(other.lower().split()):
            return other
    return name


def _is_subject(doc: Doc, char: int) -> bool:
    tok = _token_at(doc, char)
    if tok is None:
        return False
    while tok.dep_ in ("compound", "flat") and tok.head is not tok:
        tok = tok.head
    return tok.dep_ in ("nsubj", "nsubjpass")


def _context_words(text: str, start: int, end: int) -> set[str]:
    """Lower-cased words just before and after a name: its titles, nationality, country."""
    words: list[str] = []
    for w in reversed(text[max(0, start - 60) : start].split()):
        w = _POSSESSIVE.sub("", w)
        if not w or not (w[0].isupper() or w.lower() in ROLE_NOUNS):
            break
        words.append(w)
    after = text[end : end + 60]
    if after.startswith(","):  # an apposition: "Andrey Denisov, Russian envoy to Beijing"
        words += _WORD.findall(_CLAUSE_END.split(after[1:])[0])
    return {w.lower() for w in words}


def _token_at(doc: Doc, char: int) -> Token | None:
    span = doc.char_span(char, char + 1, alignment_mode="expand")
    return span[0] if span is not None and len(span) else None


def _resolve(
    doc: Doc, span: tuple[int, int], people: list[_Person], text: str
) -> tuple[str, int, int, str | None]:
    """Speaker text, char offsets and full name (when one can be found)."""
    s_tok, e_tok = span
    phrase = doc[s_tok:e_tok]
    start, end = phrase.start_char, phrase.end_char
    txt = phrase.text
    # "a spokesperson for Prime Minister Rishi Sunak" is not Sunak: only the head's own words
    core_end = next((t.idx for t in phrase if t.dep_ == "prep" and t.head.pos_ == "NOUN"), end)
    inside = [p for p in people if p.start < core_end and p.end > start]
    described = [p for p in inside if p.kind != "name"]  # "the Chinese leader", resolved upstream
    if described and len(txt) <= described[0].end - described[0].start + 2:
        return txt, start, end, described[0].canonical
    inside = [p for p in inside if p.kind == "name"]
    if inside:
        p = max(inside, key=lambda p: p.end - p.start)
        return txt, start, end, p.canonical
    low = txt.lower()
    before = [p for p in people if p.end <= start]
    if low in PRONOUNS:
        return txt, start, end, _pronoun_antecedent(doc, before, start)
    words = [w.lower() for w in _WORD.findall(txt)]
    head = words[-1] if words else ""
    if before and _apposed(text, before[-1], start, words):
        p = before[-1]  # "Andrey Denisov, Russian envoy to Beijing, told reporters"
        return text[p.start : end], p.start, end, p.canonical
    if head in ROLE_NOUNS and words and words[0] in ("the", "this", "that", "his", "her"):
        return txt, start, end, _description_antecedent(words, before)
    if phrase[-1].pos_ == "PROPN" and (phrase[0].pos_ == "PROPN" or len(phrase) == 1):
        names = [p.canonical for p in people]
        full = _full_name(txt, sorted(set(names), key=lambda n: (-len(n.split()), n)))
        if full in names:  # a surname the tagger missed here: "Denisov said"
            return txt, start, end, full
    return txt, start, end, None


def _mark_speakers(doc: Doc, cues: list[_Cue], people: list[_Person], text: str) -> None:
    """People who speak count as subjects for pronoun resolution ("reported him saying")."""
    starts = [p.start for p in people]
    for cue in cues:
        if cue.speaker is None:
            continue
        start, end = doc[cue.speaker[0]].idx, doc[cue.speaker[1] - 1].idx + 1
        i = bisect.bisect_left(starts, end)  # people[:i] start before the phrase ends
        for p in people[max(0, i - 3) : i]:
            if p.end > start:
                p.subject = True
        before = [p for p in people[max(0, i - 3) : i] if p.end <= start]
        if before:
            words = [w.lower() for w in _WORD.findall(text[start:end])]
            if _apposed(text, before[-1], start, words):
                before[-1].subject = True


def _apposed(text: str, p: _Person, start: int, words: list[str]) -> bool:
    """ "Andrey Denisov, Russian envoy to Beijing": a role phrase right after a name, comma-joined."""
    return bool(_COMMA.fullmatch(text[p.end : start])) and any(w in ROLE_NOUNS for w in words)


def _pronoun_antecedent(doc: Doc, before: list[_Person], start: int) -> str | None:
    """The most recent person in subject position nearby, else the most recent person."""
    if not before:
        return None
    near = [p for p in before if start - p.end < 600]
    subjects = [p for p in near if p.subject]
    if subjects:
        return subjects[-1].canonical
    return before[-1].canonical if near else None


def _description_antecedent(words: list[str], before: list[_Person]) -> str | None:
    """ "the Chinese leader": the latest person described as Chinese (or from China)."""
    mods = [w for w in words[1:] if w not in ROLE_NOUNS]
    stems = {w[:4] for w in mods if len(w) >= 4}
    role = words[-1]
    for p in reversed(before):
        cue_stems = {w[:4] for w in p.cues if len(w) >= 4}
        if stems and stems <= cue_stems:
            return p.canonical
        if not stems and role in p.cues:
            return p.canonical
    return None


# --- building the records ----------------------------------------------------------------------


def _unmarked(text: str, start: int, end: int, marked: list[tuple[int, int]]) -> str:
    """The part of text[start:end] outside quote marks."""
    keep = list(text[start:end])
    for a, b in marked:
        for i in range(max(a, start), min(b, end)):
            keep[i - start] = " "
    return "".join(keep)


def _inside(char: int, spans: list[tuple[int, int]]) -> bool:
    """Whether char falls in one of the spans (sorted, not overlapping)."""
    i = bisect.bisect_right(spans, (char, 10**12)) - 1
    return i >= 0 and spans[i][0] <= char < spans[i][1]


def _sentence_of(starts: list[int], char: int) -> int:
    return max(0, bisect.bisect_right(starts, char) - 1)


def _paragraph_starts(text: str) -> list[int]:
    return [m.start() for m in _LINE.finditer(text)]


def _attribute_direct(
    ctx: Context,
    spans: list[list[tuple[int, int]]],
    cues: list[_Cue],
    people: list[_Person],
    sent_starts: list[int],
    paragraphs: list[int],
    indirect: list[Quote],
) -> list[Quote]:
    doc, text = ctx.doc, ctx.text
    attributed = sorted((q for q in indirect if q.speaker), key=lambda q: q.end)
    ends = [q.end for q in attributed]
    out: list[Quote] = []
    sents = ctx.ann.sentences
    prev: Quote | None = None
    at_chars = [doc[c.verb].idx for c in cues]  # cues are sorted by position
    for pieces in spans:
        start, end = pieces[0][0], pieces[-1][1]
        n_words = len(_WORD.findall(text[start:end]))
        s_first = _sentence_of(sent_starts, start)
        s_last = _sentence_of(sent_starts, max(start, end - 1))
        cue = _best_cue(doc, cues, at_chars, start, end, s_first, s_last, sent_starts, paragraphs)
        q = Quote(start=start, end=end, text=text[start:end], kind="direct", sentence=s_first)
        partial = _is_partial(text, start, end, sents, s_first)
        if cue is not None:
            _fill(q, doc, cue, people, text)
        elif not partial:
            # the speaker of the quote or reported speech just before, in this paragraph or
            # the previous one ("Police said X.\n\n“No attribution here.”")
            i = bisect.bisect_right(ends, start) - 1
            last = [c for c in (prev, attributed[i] if i >= 0 else None) if c is not None]
            before = max(last, key=lambda c: c.end, default=None)
            if before is not None and _continues(text, before, start, paragraphs):
                _inherit(q, before)
        if partial and n_words < MIN_PARTIAL_WORDS:
            continue
        if q.speaker is None and (partial or n_words < MIN_UNATTRIBUTED_WORDS):
            continue  # a term or a scare quote, not reported speech
        out.append(q)
        prev = q
    return out


def _best_cue(
    doc: Doc,
    cues: list[_Cue],
    at_chars: list[int],
    start: int,
    end: int,
    s_first: int,
    s_last: int,
    sent_starts: list[int],
    paragraphs: list[int],
) -> _Cue | None:
    """The attribution closest to a quote, in its sentences, outside its marks."""
    para = bisect.bisect_right(paragraphs, end) - 1
    para_end = paragraphs[para + 1] if para + 1 < len(paragraphs) else paragraphs[-1] + 10**9
    para_start = paragraphs[max(0, bisect.bisect_right(paragraphs, start) - 1)]
    best: tuple[int, _Cue] | None = None
    lo = bisect.bisect_left(at_chars, para_start)
    hi = bisect.bisect_left(at_chars, para_end)
    for cue, at in zip(cues[lo:hi], at_chars[lo:hi], strict=True):
        if start - 1 <= at <= end:
            continue
        # in the quote's sentences, or right after it in its paragraph ("... .” Putin said.")
        after = cue.sentence == s_last + 1 and end <= at < para_end and at - end < 60
        if not (s_first <= cue.sentence <= s_last or after):
            continue
        dist = start - at if at < start else at - end
        if doc[cue.verb].lower_ == "according":
            dist += 200  # a speech verb names the speaker; "according to" is then the channel
        if best is None or dist < best[0]:
            best = (dist, cue)
    return best[1] if best else None


def _continues(text: str, prev: Quote, start: int, paragraphs: list[int]) -> bool:
    """This quote opens its paragraph or follows the previous quote within a paragraph or two."""
    p_prev = bisect.bisect_right(paragraphs, prev.end) - 1
    p_this = bisect.bisect_right(paragraphs, start) - 1
    if p_this == p_prev:
        return True
    opens_paragraph = text[paragraphs[p_this] : start].strip() in ("", '"', "“", "«", "„")
    return opens_paragraph and p_this - p_prev <= 2


def _is_partial(text: str, start: int, end: int, sents: list, s_first: int) -> bool:
    """A marked span inside a sentence, not a whole sentence (or more) in marks."""
    if not sents:
        return False
    sent = sents[min(s_first, len(sents) - 1)]
    lead = text[sent.start : start].strip(' "“”«»„\n')
    return bool(lead) and not lead.endswith(":")


def _fill(q: Quote, doc: Doc, cue: _Cue, people: list[_Person], text: str) -> None:
    if cue.speaker is not None:
        sp, s0, s1, canon = _resolve(doc, cue.speaker, people, text)
        q.speaker, q.speaker_start, q.speaker_end, q.speaker_canonical = sp, s0, s1, canon
    if cue.addressee is not None:
        others = [p for p in people if p.canonical != q.speaker_canonical]
        ad, _, _, canon = _resolve(doc, cue.addressee, others, text)
        q.addressee = canon or ad
    q.channel = cue.channel
    q.second_hand = cue.second_hand


def _inherit(q: Quote, prev: Quote) -> None:
    q.speaker, q.speaker_start, q.speaker_end = prev.speaker, prev.speaker_start, prev.speaker_end
    q.speaker_canonical, q.addressee = prev.speaker_canonical, prev.addressee
    q.channel, q.second_hand = prev.channel, prev.second_hand


def _indirect(
    ctx: Context,
    cues: list[_Cue],
    spans: list[list[tuple[int, int]]],
    people: list[_Person],
    sent_starts: list[int],
) -> list[Quote]:
    """Reported clauses that are not (mostly) inside quote marks become indirect quotes."""
    doc, text = ctx.doc, ctx.text
    marked = [(p[0][0], p[-1][1]) for p in spans]
    out: list[Quote] = []
    seen: set[tuple[int, int]] = set()
    # a channel-only "according to" next to a speech verb adds to that verb's quote
    verbs_by_sentence = {c.sentence for c in cues if doc[c.verb].lower_ != "according"}
    for cue in cues:
        if cue.content is None:
            continue
        start, end = cue.content
        outside = _WORD.findall(_unmarked(text, start, end, marked))
        if len(outside) < 2:  # all in marks: it attributes that direct quote
            continue
        is_according = doc[cue.verb].lower_ == "according"
        if is_according and cue.sentence in verbs_by_sentence:
            continue
        if (start, end) in seen:
            continue
        seen.add((start, end))
        q = Quote(
            start=start,
            end=end,
            text=text[start:end],
            kind="indirect",
            sentence=_sentence_of(sent_starts, start),
        )
        _fill(q, doc, cue, people, text)
        if q.speaker_start is not None and start < q.speaker_start < end:
            # the parse put the attribution inside the clause ("..., Andrey Denisov, envoy")
            q.end = _trim(text, start, q.speaker_start)[1]
            q.text = text[start : q.end]
            if len(_WORD.findall(q.text)) < 3:
                continue
        out.append(q)
    return out


def _according_channels(
    doc: Doc, cues: list[_Cue], quotes: list[Quote], sent_starts: list[int]
) -> None:
    """ "Xi said, according to CCTV": the outlet is the channel, the speech second hand."""
    speech = {c.sentence for c in cues if doc[c.verb].lower_ != "according"}
    for cue in cues:
        if doc[cue.verb].lower_ != "according" or cue.sentence not in speech:
            continue
        for q in quotes:
            last = _sentence_of(sent_starts, max(q.start, q.end - 1))
            if q.sentence <= cue.sentence <= last + 1 and q.speaker is not None:
                if cue.sentence == last + 1 and doc[cue.verb].idx - q.end > 80:
                    continue
                q.channel, q.second_hand = cue.channel, True
