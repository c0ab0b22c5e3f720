"""Event mentions: who did what to whom, where and when, typed with PLOVER, with a status.

Rules over the dependency parse, driven by a trigger lexicon (``data/plover_triggers.json``:
lemma -> PLOVER type and mode). One pass over the tokens with dict look-ups finds triggers;
only for the few triggers found do we walk the parse for actors, targets, place, date and
status, so the component costs a small fraction of the spaCy parse itself.

Status answers "did it happen?": ``planned`` (will, is due to, set to be held, the planned
visit, a future date), ``denied`` (not, never, denied that ...), ``hypothetical`` (could, may,
if, threatened to ...), else ``happened``. Reporting verbs (say, tell) are not events; a
statement is an event only when it is an act in itself (accuse, threaten, deny, demand).
"""

from __future__ import annotations

import bisect
import json
import logging
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from ..records import EventMention, Mention, Timex

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token

    from . import Context

log = logging.getLogger(__name__)

ACTOR_LABELS = {"PERSON", "ORG", "GPE", "GOV", "NORP"}
PLACE_LABELS = {"GPE", "LOC", "FAC"}
PLACE_PREPS = {"in", "at", "near", "outside", "inside", "across", "throughout"}
TARGET_PREPS = {"with", "against", "on", "to", "into", "toward", "towards"}
SUBJ_DEPS = {"nsubj", "csubj"}
OBJ_DEPS = {"dobj", "dative", "nsubjpass", "oprd"}
SKIP_SUBTREE = {"relcl", "acl", "advcl", "ccomp", "xcomp", "parataxis", "punct"}

PLAN_AUX = {"will", "shall", "'ll", "wo"}
HYPO_AUX = {"could", "would", "may", "might", "should", "can", "ca", "must"}
# Predicates whose complement is a future act ("plans to visit", "is due to", "set to be held").
PLAN_GOVERNORS = {
    "plan", "schedule", "set", "due", "expect", "intend", "prepare", "aim", "agree", "decide",
    "go", "poise", "slate", "invite", "arrange", "expected", "likely", "about", "ready",
}  # fmt: skip
# Predicates whose complement did not happen ("denied sending", "refused to meet").
DENY_GOVERNORS = {"deny", "refuse", "decline", "dismiss", "fail", "rule", "forget", "neglect",
                  "avoid"}  # fmt: skip
# Predicates whose complement may or may not come ("threatened to invade", "urged X to").
HYPO_GOVERNORS = {
    "threaten", "consider", "propose", "want", "hope", "seek", "try", "urge", "ask", "call",
    "demand", "warn", "fear", "offer", "weigh", "mull", "suggest", "able", "willing",
    "possible", "request", "push", "press", "attempt",
}  # fmt: skip
PLAN_ADJ = {"planned", "upcoming", "scheduled", "proposed", "forthcoming", "expected", "next",
            "future", "impending", "anticipated", "coming", "prospective"}  # fmt: skip
HYPO_ADJ = {"possible", "potential", "hypothetical", "would-be", "likely", "feared", "threatened"}
REPORTING = {"say", "tell", "add", "state", "report", "note", "announce", "claim", "quote",
             "write", "explain", "insist", "believe", "think", "confirm"}  # fmt: skip
CONDITIONAL_MARKS = {"if", "unless", "whether"}
NOBODY = {"nobody", "none", "nothing", "neither"}
# Nouns whose infinitive complement is planned ("plans to build") or only wished for.
PLAN_NOUNS = {"plan", "intention", "schedule", "decision", "agreement", "deal", "pledge"}
HYPO_NOUNS = {"threat", "attempt", "offer", "proposal", "bid", "call", "demand", "request",
              "promise", "chance", "option", "right"}  # fmt: skip
# Verbs that only say a nominal event takes place: it shares their status ("will hold talks").
LIGHT_VERBS = {
    "hold", "have", "conduct", "stage", "launch", "attend", "host", "sign", "impose", "take",
    "make", "begin", "start", "join", "carry", "pay", "resume", "open", "continue", "reach",
    "strike", "seal", "forge", "give", "get", "go", "engage", "mount", "wage", "kick", "head",
    "lead", "complete", "finish", "wrap", "conclude", "participate", "provide", "send",
    "deliver", "receive", "be", "occur", "happen", "unfold", "come", "place", "grant", "announce",
    "ink", "clinch", "agree", "accept", "approve", "declare", "order", "sanction", "set", "see",
}  # fmt: skip
SCHEDULED = {"schedule", "plan", "set", "slate", "expect", "arrange", "due"}
CANCEL_VERBS = {
    "cancel", "scrap", "abandon", "scupper", "shelve", "nix", "drop", "postpone", "avoid",
    "avert", "prevent", "thwart", "foil", "stop", "block",
}  # fmt: skip
SCHEDULED_WORDS = {"slated", "scheduled", "planned", "due", "set", "expected", "poised"}
STATEMENT_TYPES = {"ACCUSE", "THREATEN", "REQUEST", "REJECT"}
# Prepositions that put a nominal event inside the clause's own event ("met at a summit").
EVENT_PREPS = {"at", "during", "for", "in", "on", "into", "through", "to", "with"}


@dataclass(frozen=True)
class Lexicon:
    verbs: dict[str, tuple[str, str | None]]
    nouns: dict[str, tuple[str, str | None]]
    noun_needs_modifier: dict[str, frozenset[str]]
    verb_needs_object: dict[str, frozenset[str]]
    object_overrides: dict[str, dict[str, tuple[str, str | None] | None]]
    particle_verbs: dict[tuple[str, str], tuple[str, str | None]]
    undo_sanction_verbs: frozenset[str]
    agree_light_verbs: frozenset[str]
    sign_light_verbs: frozenset[str]


def _pair(v: Any) -> tuple[str, str | None] | None:
    return None if v is None else (str(v[0]), v[1])


@lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    """The packaged trigger lexicon, read once per process."""
    raw = json.loads(
        resources.files("storyline").joinpath("data", "plover_triggers.json").read_text("utf-8")
    )
    particles = {}
    for key, val in raw["particle_verbs"].items():
        verb, part = key.split(" ", 1)
        particles[(verb, part)] = _pair(val)
    return Lexicon(
        verbs={k: _pair(v) for k, v in raw["verbs"].items()},
        nouns={k: _pair(v) for k, v in raw["nouns"].items()},
        noun_needs_modifier={k: frozenset(v) for k, v in raw["noun_needs_modifier"].items()},
        verb_needs_object={k: frozenset(v) for k, v in raw["verb_needs_object"].items()},
        object_overrides={
            k: {o: _pair(t) for o, t in v.items()} for k, v in raw["object_overrides"].items()
        },
        particle_verbs=particles,
        undo_sanction_verbs=frozenset(raw["undo_sanction_verbs"]),
        agree_light_verbs=frozenset(raw["agree_light_verbs"]),
        sign_light_verbs=frozenset(raw["sign_light_verbs"]),
    )


# ---------------------------------------------------------------- trigger finding


def _objects(tok: Token) -> list[Token]:
    return [c for c in tok.children if c.dep_ in ("dobj", "nsubjpass", "attr")]


def _verb_trigger(tok: Token, lex: Lexicon) -> tuple[str, str | None] | None:
    """PLOVER (type, mode) for a verb token, or None when it is not an event trigger."""
    lemma = tok.lemma_.lower()
    for child in tok.children:
        if child.dep_ in ("prt", "prep", "dobj"):
            hit = lex.particle_verbs.get((lemma, child.lemma_.lower()))
            if hit:
                return hit
    hit = lex.verbs.get(lemma)
    if hit is None:
        return None
    if any(c.dep_ == "xcomp" and c.lemma_ == "be" for c in tok.children):
        return None  # "the summit promises to be interesting", "threatens to become"
    if tok.dep_ == "amod":
        return None  # participial modifier: "the alleged boss", "occupied parts"
    objects = _objects(tok)
    objs = [o.lemma_.lower() for o in objects]
    need = lex.verb_needs_object.get(lemma)
    if need is not None:
        kinds = objs + ["@" + o.ent_type_ for o in objects if o.ent_type_]
        if not objs or (need and not any(o in need for o in kinds)):
            return None
    if hit[0] in ("ASSAULT", "FIGHT") and _caused_by_nature(tok):
        return None  # "killed in the earthquake": a disaster, not an attack
    if lemma == "attack" and _has_child(tok, ("prep",), {"over", "for"}):
        return ("ACCUSE", "disapprove")  # "attacked the West over the war": words, not arms
    overrides = lex.object_overrides.get(lemma)
    if overrides:
        for o in objs:
            if o in overrides:
                return overrides[o]
    return hit


DISASTERS = {
    "earthquake", "quake", "tremor", "aftershock", "storm", "hurricane", "typhoon", "cyclone",
    "flood", "flooding", "tsunami", "landslide", "mudslide", "avalanche", "fire", "blaze",
    "wildfire", "crash", "accident", "collision", "tornado", "eruption", "disease", "virus",
    "heat", "drought", "outbreak", "wreck", "derailment", "lightning", "car", "vehicle", "truck",
    "temblor", "fall", "plunge", "collapse",
}  # fmt: skip


def _caused_by_nature(tok: Token) -> bool:
    """A subject, agent or "in/by" phrase naming a disaster or accident rather than an attacker."""
    pred = tok
    while pred.dep_ == "conj" and pred.head is not pred:
        pred = pred.head  # "the quake killed one, injured dozens and destroyed buildings"
    if pred.dep_ == "relcl" and pred.head.lemma_.lower() in DISASTERS:
        return True  # "an earthquake that killed ten"
    for c in [*tok.children, *(pred.children if pred is not tok else ())]:
        if c.dep_ == "nsubj" and c.lemma_.lower() in DISASTERS:
            return True
        if (
            c.dep_ in ("agent", "prep")
            and c.lower_ in ("by", "in", "during", "after")
            and any(p.dep_ == "pobj" and p.lemma_.lower() in DISASTERS for p in c.children)
        ):
            return True
    return False


def _noun_trigger(tok: Token, lex: Lexicon) -> tuple[str, str | None] | None:
    lemma = tok.lemma_.lower()
    hit = lex.nouns.get(lemma)
    if hit is None:
        return None
    need = lex.noun_needs_modifier.get(lemma)
    if need is not None:
        mods = {c.lower_ for c in tok.children if c.dep_ in ("compound", "amod", "nmod")}
        if not mods & need:
            return None
    return hit


# a trigger word inside a name is no event: "the Cold War" (EVENT), "War Office", "Sanctions Act"
NAME_LABELS = ("PERSON", "GPE", "ORG", "EVENT", "LAW", "WORK_OF_ART", "FAC")


def find_triggers(doc: Doc, lex: Lexicon | None = None) -> dict[int, tuple[str, str | None]]:
    """Token index -> (type, mode) for every trigger in ``doc``: one pass, dict look-ups."""
    lex = lex or load_lexicon()
    found: dict[int, tuple[str, str | None]] = {}
    for tok in doc:
        pos = tok.pos_
        if pos == "VERB":
            hit = _verb_trigger(tok, lex)
        elif pos in ("NOUN", "PROPN") and tok.ent_type_ not in NAME_LABELS:
            hit = _noun_trigger(tok, lex)
        else:
            continue
        if hit is not None:
            found[tok.i] = hit
    _resolve_light_verbs(doc, found, lex)
    return found


def _resolve_light_verbs(doc: Doc, found: dict[int, tuple[str, str | None]], lex: Lexicon) -> None:
    """One event per verb + noun pair: "launched an attack", "signed a deal", "lifted sanctions".

    The noun names the event; the verb only says it was done (or, for "lift", undone).
    """
    for i in list(found):
        tok = doc[i]
        if tok.pos_ != "VERB":
            continue
        nouns = [o for o in _objects(tok) if o.i in found and o.pos_ != "VERB"]
        lemma = tok.lemma_.lower()
        if not nouns:
            continue
        verb_hit = found.pop(i)
        for noun in nouns:
            ntype, nmode = found[noun.i]
            if ntype == "SANCTION" and lemma in lex.undo_sanction_verbs:
                found[noun.i] = ("RETREAT", "ease")
            elif ntype in ("AGREE", "COOPERATE") and lemma in lex.agree_light_verbs:
                mode = "sign" if lemma in lex.sign_light_verbs else nmode
                found[noun.i] = ("AGREE", mode)
            elif nmode is None and verb_hit[0] == ntype:
                found[noun.i] = (ntype, verb_hit[1])
    # "war games", "partnership agreement": the head noun names the one event
    for i in list(found):
        tok = doc[i]
        if tok.pos_ != "VERB" and tok.dep_ in ("compound", "nmod") and tok.head.i in found:
            del found[i]
    # "lifted sanctions" where "lift" itself is no trigger
    for i, (etype, _mode) in list(found.items()):
        tok = doc[i]
        if (
            etype == "SANCTION"
            and tok.pos_ != "VERB"
            and tok.dep_ in ("dobj", "nsubjpass")
            and tok.head.lemma_.lower() in lex.undo_sanction_verbs
        ):
            found[i] = ("RETREAT", "ease")


# ---------------------------------------------------------------- status


def _has_child(tok: Token, deps: set[str] | tuple[str, ...], words: set[str]) -> bool:
    return any(c.dep_ in deps and c.lower_ in words for c in tok.children)


def _own_status(tok: Token) -> str | None:
    """Status markers attached to this very predicate (its aux, neg, mark children)."""
    for c in tok.children:
        if c.dep_ == "neg" or (c.dep_ == "advmod" and c.lower_ == "never"):
            nxt = c.nbor(1) if c.i + 1 < len(c.doc) else None
            if nxt is None or nxt.lower_ not in ("only", "just", "merely"):
                return "denied"
        if c.dep_ in ("nsubj", "nsubjpass") and (
            c.lower_ in NOBODY or any(g.dep_ == "det" and g.lower_ == "no" for g in c.children)
        ):
            return "denied"  # "no one was struck", "nobody was hurt"
    if _has_child(tok, ("mark",), CONDITIONAL_MARKS):
        return "hypothetical"  # "if he is convicted", "could not say whether he shot himself"
    aux = [c for c in tok.children if c.dep_ in ("aux", "auxpass")]
    words = {c.lower_ for c in aux}
    if words & PLAN_AUX:
        return "planned"
    if "going" in words and any(c.lower_ == "to" for c in aux):
        return "planned"
    if words & HYPO_AUX:
        conditional = "have" in words or any(
            c.dep_ == "advcl" and _has_child(c, ("mark",), CONDITIONAL_MARKS) for c in tok.children
        )  # "would have taken", "would be arrested if she ..."
        if "would" in words and not conditional and _under_reporting(tok):
            return "planned"  # future in the past: "officials said documents would be signed"
        return "hypothetical"
    if tok.dep_ == "ROOT" and any(c.tag_ == "TO" for c in aux):
        return "planned"  # headline infinitive: "Xi to visit Moscow"
    return None


def _under_reporting(tok: Token) -> bool:
    head = tok
    for _ in range(3):
        if head.dep_ not in ("ccomp", "conj") or head.head is head:
            return False
        head = head.head
        if head.lemma_.lower() in REPORTING:
            return True
    return False


RANK = {"happened": 0, "planned": 1, "hypothetical": 2, "denied": 3}


def _stronger(a: str, b: str | None) -> str:
    return b if b is not None and RANK[b] > RANK[a] else a


def clause_status(tok: Token) -> str:
    """Status of the predicate ``tok``: its own markers, then those of governing predicates.

    Precedence: denied > hypothetical > planned > happened ("denied that Putin plans to visit"
    is denied). Reported content (ccomp of "said") keeps its own status: the speaker's tense
    does not carry over, only a denial does.
    """
    best = "happened"
    cur = tok
    for _ in range(6):
        best = _stronger(best, _own_status(cur))
        if best == "denied":
            return best
        dep, head = cur.dep_, cur.head
        if head is cur:
            break
        hl = head.lemma_.lower()
        if dep == "conj":
            if any(c.dep_ in ("aux", "auxpass", "nsubj", "nsubjpass") for c in cur.children):
                break
            cur = head
            continue
        if dep == "advcl":
            if _has_child(cur, ("mark",), CONDITIONAL_MARKS):
                best = _stronger(best, "hypothetical")
            elif any(c.tag_ == "TO" for c in cur.children) and _own_status(head) == "planned":
                best = _stronger(best, "planned")  # "will meet on Monday to resume talks"
            break
        if dep == "acl" and head.pos_ in ("NOUN", "PROPN"):
            if hl in PLAN_NOUNS:
                best = _stronger(best, "planned")  # "revealed plans to build"
            elif hl in HYPO_NOUNS:
                best = _stronger(best, "hypothetical")  # "an attempt to seize"
            break
        if dep in ("prep", "pcomp", "pobj") and head.pos_ not in ("VERB", "AUX", "ADJ"):
            break
        if dep not in ("xcomp", "ccomp", "acomp", "prep", "pcomp", "pobj"):
            break
        if hl in DENY_GOVERNORS:
            return "denied"
        if dep == "ccomp":
            break
        if hl == "have" and any(c.lower_ == "yet" for c in head.children):
            return "denied"  # "has yet to condemn"
        if hl in PLAN_GOVERNORS:
            best = _stronger(best, "planned")
        elif hl in HYPO_GOVERNORS:
            best = _stronger(best, "hypothetical")
        cur = head
    return best


def _governing_predicate(tok: Token) -> Token | None:
    """The verb a nominal trigger hangs from ("held talks", "at a summit", "the visit will")."""
    cur = tok
    for _ in range(4):
        if cur.dep_ not in ("dobj", "nsubj", "nsubjpass", "attr", "pobj", "prep", "conj",
                            "compound", "appos", "oprd", "npadvmod"):  # fmt: skip
            return None
        if cur.dep_ == "prep" and cur.lower_ not in EVENT_PREPS:
            return None  # "since the war", "before the summit": background, not this clause
        cur = cur.head
        if cur.pos_ in ("VERB", "AUX"):
            return cur
    return None


def _bare_no(det: Token, noun: Token) -> bool:
    """ "no talks", "no new talks" deny the event; a quoted "no limits" partnership does not."""
    between = det.doc[det.i + 1 : noun.i]
    return all(t.pos_ in ("ADJ", "ADV") for t in between)


def status_of(tok: Token) -> str:
    """Status of an event trigger token (verb or noun): happened, planned, denied, hypothetical."""
    if tok.pos_ in ("VERB", "AUX"):
        return clause_status(tok)
    if tok.dep_ == "conj" and tok.head.pos_ in ("NOUN", "PROPN"):
        return status_of(tok.head)  # "a ceasefire and direct talks" share one fate
    gov = _governing_predicate(tok)
    if gov is not None and (
        gov.lemma_.lower() in CANCEL_VERBS
        or (gov.lemma_ == "call" and _has_child(gov, ("prt",), {"off"}))
    ):
        return "hypothetical" if _own_status(gov) in ("planned", "hypothetical") else "denied"
    for c in tok.children:
        low = c.lower_
        if c.dep_ in ("amod", "compound", "nmod") and low in PLAN_ADJ:
            return "planned"
        if c.dep_ in ("amod", "compound") and low in HYPO_ADJ:
            return "hypothetical"
        if c.dep_ == "neg" or (c.dep_ == "det" and low == "no" and _bare_no(c, tok)):
            return "denied"
        if c.dep_ == "acl" and c.pos_ == "VERB":
            st = clause_status(c)
            if st != "happened" or c.lemma_.lower() in PLAN_GOVERNORS:
                if c.lemma_.lower() in PLAN_GOVERNORS and st == "happened":
                    return "planned"
                return st
    if gov is None:
        return "happened"
    gl = gov.lemma_.lower()
    own = _own_status(gov)
    if tok.dep_ in ("dobj", "pobj") and gl in HYPO_GOVERNORS | {"propose", "offer"}:
        return "denied" if own == "denied" else "hypothetical"  # "called for a ceasefire"
    scheduled = gov.tag_ == "VBN" and (gl in SCHEDULED or gov.lower_ in SCHEDULED_WORDS)
    if scheduled or (
        gl in PLAN_GOVERNORS
        and (tok.dep_ in ("dobj", "pobj") or any(c.dep_ == "xcomp" for c in gov.children))
    ):
        # "scheduled talks", "the summit is set to be held", "talks are planned for May"
        return own if own in ("denied", "hypothetical") else "planned"
    if tok.dep_ == "dobj" and gl in ("deny", "reject", "dismiss"):
        # "denied arson": the act is denied; "denied the accusations": the statement stands
        hit = load_lexicon().nouns.get(tok.lemma_.lower())
        return "denied" if hit and hit[0] not in STATEMENT_TYPES else "happened"
    if gl == "be" and any(
        c.dep_ in ("acomp", "attr") and c.lower_ in SCHEDULED_WORDS for c in gov.children
    ):
        return "planned"  # "a hearing is slated for August"
    status = clause_status(gov)
    if (
        gl in LIGHT_VERBS
        and tok.dep_ in ("dobj", "nsubjpass", "attr")
        or (tok.dep_ == "nsubj" and gl in LIGHT_VERBS and gl != "be")
    ):
        if status == "denied" and gl == "be" and tok.dep_ != "attr":
            return "happened"  # "the meeting is not significant": a negated property
        return status  # "will hold talks", "no talks were held", "was not a homicide"
    # Other verbs take the event as given: "not linked to the attack", "may be related to
    # the shooting", "seek to end the war". Only a future carries over ("the visit will ...").
    return "planned" if status == "planned" else "happened"


# ---------------------------------------------------------------- arguments


def _arg_tokens(tok: Token) -> list[Token]:
    """The tokens of an argument phrase, without clauses hanging off it."""
    out = [tok]
    stack = [c for c in tok.children if c.dep_ not in SKIP_SUBTREE]
    while stack:
        t = stack.pop()
        out.append(t)
        stack.extend(c for c in t.children if c.dep_ not in SKIP_SUBTREE)
    return out


def _is_modifier_mention(
    k: int, root: Token, by_token: dict[int, int], mentions: list[Mention], trigger: Token | None
) -> bool:
    """A nationality or country that only qualifies a named actor ("Russian President Putin").

    It still counts when it qualifies the event itself ("the Russian invasion", "Moscow's
    visit"), since then it names the actor.
    """
    label = mentions[k].label
    if label not in ("NORP", "GPE", "GOV", "ORG"):
        return False
    cur = root
    for _ in range(4):
        if cur.dep_ not in ("amod", "compound", "poss", "nmod", "case") or cur.head is cur:
            return False
        cur = cur.head
        if trigger is not None and cur.i == trigger.i:
            return False
        other = by_token.get(cur.i)
        if other is not None and mentions[other].label in ("GPE", "GOV", "NORP"):
            return False  # "Russia-China talks": a pair of countries, both actors
        if label == "ORG":
            if other is not None and mentions[other].label == "PERSON":
                return True  # "House Speaker Nancy Pelosi"
            continue
        if label == "NORP" or cur.pos_ == "PROPN":
            return True
        other = by_token.get(cur.i)
        if other is not None and other != k and mentions[other].label in ("PERSON", "ORG"):
            return True
    return False


def _bracketed(doc: Doc, span: tuple[int, int] | None) -> bool:
    if span is None:
        return False
    start, end = span
    return start > 0 and end < len(doc) and doc[start - 1].text == "(" and doc[end].text == ")"


@lru_cache(maxsize=512)
def _pycountry_name(code: str) -> str | None:
    try:
        import pycountry

        c = pycountry.countries.get(alpha_2=code)
    except (ImportError, LookupError, KeyError):
        return None
    return None if c is None else getattr(c, "common_name", None) or c.name


class _Index:
    """Token -> mention / timex look-ups for one document, built once per article."""

    def __init__(self, ctx: Context) -> None:
        doc = ctx.doc
        self.mentions = ctx.ann.mentions
        self.by_token: dict[int, int] = {}
        self.mention_root: dict[int, Token] = {}
        self.mention_span: dict[int, tuple[int, int]] = {}
        self.doc = doc
        for k, m in enumerate(self.mentions):
            span = doc.char_span(m.start, m.end, alignment_mode="expand")
            if span is None or len(span) == 0:
                continue
            self.mention_root[k] = span.root
            self.mention_span[k] = (span.start, span.end)
            for t in span:
                self.by_token.setdefault(t.i, k)
        self.timex_root: dict[int, Token] = {}
        for k, tx in enumerate(ctx.ann.timexes):
            span = doc.char_span(tx.start, tx.end, alignment_mode="expand")
            if span is None or len(span) == 0:
                continue
            self.timex_root[k] = span.root
        self._countries: dict[str, str | None] = {}
        self.sent_starts = [s.start for s in ctx.ann.sentences] or [s.start_char for s in doc.sents]

    def sentence_of(self, tok: Token) -> int:
        return max(0, bisect.bisect_right(self.sent_starts, tok.idx) - 1)

    def place(self, tokens: list[Token]) -> str | None:
        """The most specific place named in a phrase: a city or country before a region."""
        ks = {self.by_token[t.i] for t in tokens if t.i in self.by_token}
        ks = {k for k in ks if self.mentions[k].label in PLACE_LABELS}
        if not ks:
            return None
        m = self.mentions[min(ks, key=lambda k: (PLACE_ORDER[self.mentions[k].label], k))]
        return m.canonical or m.text

    def names(
        self, tokens: list[Token], labels: set[str], trigger: Token | None = None
    ) -> list[str]:
        out: list[str] = []
        seen: set[int] = set()
        for t in sorted(tokens, key=lambda x: x.i):
            k = self.by_token.get(t.i)
            if k is None or k in seen:
                continue
            seen.add(k)
            m = self.mentions[k]
            if m.label not in labels:
                continue
            if _bracketed(self.doc, self.mention_span[k]):
                continue  # "(Reuters)", "(SCO)": a credit or an abbreviation, not another actor
            root = self.mention_root.get(k)
            if root is not None and _is_modifier_mention(
                k, root, self.by_token, self.mentions, trigger
            ):
                continue
            out.append(self.display(m))
        return out

    def display(self, m: Mention) -> str:
        """The name an actor is listed under: a nationality stands for its country."""
        if m.label == "NORP" and m.country:
            return self.country_name(m.country) or m.canonical or m.text
        return m.canonical or m.text

    def country_name(self, code: str) -> str | None:
        if code not in self._countries:
            name = next(
                (
                    m.canonical or m.text
                    for m in self.mentions
                    if m.label in ("GPE", "GOV") and m.country == code and m.kind == "name"
                ),
                None,
            )
            self._countries[code] = name or _pycountry_name(code)
        return self._countries[code]


PLACE_ORDER = {"GPE": 0, "FAC": 1, "LOC": 2}


def _dedupe(xs: list[str]) -> list[str]:
    return list(dict.fromkeys(xs))


def _verb_args(tok: Token, idx: _Index) -> tuple[list[str], list[str]]:
    actors: list[str] = []
    targets: list[str] = []
    pred = tok
    # subjects are shared along conj / xcomp chains ("met and agreed", "plans to visit")
    for _ in range(4):
        subj = [c for c in pred.children if c.dep_ in SUBJ_DEPS]
        if subj or pred.dep_ not in ("conj", "xcomp", "advcl", "acomp") or pred.head is pred:
            break
        pred = pred.head
    for c in pred.children:
        if c.dep_ in SUBJ_DEPS:
            actors += idx.names(_arg_tokens(c), ACTOR_LABELS)
    for c in tok.children:
        if c.dep_ == "agent":
            for p in c.children:
                actors += idx.names(_arg_tokens(p), ACTOR_LABELS)
        elif c.dep_ in OBJ_DEPS:
            targets += idx.names(_arg_tokens(c), ACTOR_LABELS)
    return actors, targets + _prep_targets(tok, idx)


def _prep_targets(pred: Token, idx: _Index) -> list[str]:
    """Targets in "with X", "against X", "on X" phrases of a predicate."""
    out: list[str] = []
    for c in pred.children:
        if c.dep_ == "prep" and c.lower_ in TARGET_PREPS:
            for p in c.children:
                if p.dep_ == "pobj":
                    out += idx.names(_arg_tokens(p), ACTOR_LABELS - {"NORP"})
    return out


def _noun_args(tok: Token, idx: _Index) -> tuple[list[str], list[str]]:
    actors: list[str] = []
    targets: list[str] = []
    for c in tok.children:
        if c.dep_ in ("poss", "compound", "amod", "nmod"):
            actors += idx.names(_arg_tokens(c), ACTOR_LABELS, tok)
        elif c.dep_ == "prep":
            pobj = [p for p in c.children if p.dep_ == "pobj"]
            for p in pobj:
                names = idx.names(_arg_tokens(p), ACTOR_LABELS)
                if c.lower_ in ("between", "by", "among"):
                    actors += names
                elif c.lower_ in TARGET_PREPS or c.lower_ == "of":
                    targets += names  # "the invasion of Ukraine", "talks with Beijing"
    gov = _governing_predicate(tok)
    if gov is not None and gov.lemma_.lower() not in REPORTING and tok.dep_ != "nsubj":
        a, t = _verb_args(gov, idx)
        if not actors:
            actors += a
        if not targets and tok.dep_ == "dobj":
            targets += _prep_targets(gov, idx)  # "imposed sanctions on Moscow"
    return actors, targets


def _location(tok: Token, idx: _Index) -> str | None:
    """A place in a prepositional phrase on the trigger or its predicate ("at a summit in X")."""
    frontier = [tok]
    gov = _governing_predicate(tok) if tok.pos_ not in ("VERB", "AUX") else None
    if gov is not None:
        frontier.append(gov)
    for depth in range(3):
        nxt: list[Token] = []
        for head in frontier:
            for c in head.children:
                if c.dep_ != "prep" or (depth == 0 and c.lower_ not in PLACE_PREPS):
                    continue
                for p in c.children:
                    if p.dep_ != "pobj":
                        continue
                    place = idx.place(_arg_tokens(p))
                    if place:
                        return place
                    nxt.append(p)
        frontier = nxt
        if not frontier:
            break
    return None


# ---------------------------------------------------------------- dating


def _iso_range(value: str) -> tuple[str, str | None, str] | None:
    """(date, date_end, precision) for a TIMEX3 date value, None when not a calendar date."""
    v = value.split("T", 1)[0]
    try:
        if len(v) == 10 and v[4] == "-" and v[7] == "-":
            date.fromisoformat(v)
            return v, None, "day"
        if len(v) == 7 and v[4] == "-" and v[5:].isdigit():
            return v, None, "month"
        if len(v) == 4 and v.isdigit():
            return v, None, "year"
        if len(v) == 8 and v[4:6] == "-W":
            monday = date.fromisocalendar(int(v[:4]), int(v[6:]), 1)
            return monday.isoformat(), (monday + timedelta(days=6)).isoformat(), "day"
    except ValueError:
        return None
    return None


# "the start of the invasion on February 24": the date is the invasion's, not the verb's
ASPECT_NOUNS = {"start", "beginning", "outbreak", "onset", "launch", "end", "height"}


def _aspect_event(noun: Token, triggers: dict[int, Any]) -> int | None:
    """The trigger an aspect noun is about: "start of the invasion" -> invasion."""
    if noun.lemma_.lower() not in ASPECT_NOUNS or noun.pos_ != "NOUN":
        return None
    for prep in noun.children:
        if prep.dep_ == "prep" and prep.lower_ == "of":
            for obj in prep.children:
                if obj.dep_ == "pobj" and obj.i in triggers:
                    return obj.i
    return None


def _timex_attachment(root: Token, triggers: dict[int, Any]) -> int | None:
    """The predicate (trigger or verb) a time expression modifies."""
    cur = root
    for _ in range(6):
        if cur.head is cur:
            return cur.i
        cur = cur.head
        if cur.i in triggers or cur.pos_ in ("VERB", "AUX"):
            return cur.i
        aspect = _aspect_event(cur, triggers)
        if aspect is not None:
            return aspect
    return None


def _pick_timex(
    tok: Token, sent: int, idx: _Index, timexes: list[Timex], triggers: dict[int, Any]
) -> int | None:
    anchors = {tok.i}
    gov = _governing_predicate(tok) if tok.pos_ not in ("VERB", "AUX") else None
    if gov is not None:
        anchors.add(gov.i)
    # a nominal trigger's predicate can sit on a conj / xcomp chain: "set to be held Sept. 15"
    for c in tok.children:
        if c.dep_ == "acl":
            anchors.add(c.i)
            anchors.update(g.i for g in c.children if g.dep_ == "xcomp")
    attached: list[int] = []
    free: list[int] = []
    for k, tx in enumerate(timexes):
        if tx.sentence != sent or tx.type not in ("DATE", "TIME"):
            continue
        # an unanchored time ("next week" in an undated article) is still this event's time:
        # the link stage fills its date once the article is dated
        pending = not tx.anchored and tx.symbolic is not None
        if _iso_range(tx.value) is None and not pending:
            continue
        root = idx.timex_root.get(k)
        if root is None:
            continue
        att = _timex_attachment(root, triggers)
        if att in anchors:
            attached.append(k)
        elif att is None and not pending:
            free.append(k)
    if attached:
        return min(attached, key=lambda k: abs(timexes[k].start - tok.idx))
    if free:
        return min(free, key=lambda k: abs(timexes[k].start - tok.idx))
    return None


def _future_symbolic(symbolic: str | None) -> bool:
    """A relative time pointing after the publication date ("DCT@W+1", "DCT>WD1")."""
    if not symbolic:
        return False
    return ("+" in symbolic or ">" in symbolic) and "-" not in symbolic and "<" not in symbolic


TEMPORAL_PREPS = {"before", "after", "since", "until", "ago", "following", "prior"}


def _reported_today(tok: Token) -> bool:
    """A simple-past main event with no time of its own: "the two leaders met in Samarkand".

    Only such events may borrow the publication date; a noun inside a prepositional phrase
    ("since the start of the war") or a clause placed relative to another event ("weeks before
    the war") is background, not news of the day.
    """
    if tok.pos_ in ("VERB", "AUX"):
        pred = tok
    elif tok.dep_ in ("dobj", "nsubj", "nsubjpass", "attr"):
        pred = _governing_predicate(tok)
    else:
        return False
    if pred is None or pred.lemma_ == "be":
        return False
    perfect = pred.tag_ == "VBN" and any(
        c.dep_ == "aux" and c.lower_ in ("has", "have") for c in pred.children
    )  # "have met face-to-face": news of the day as much as "met"
    if pred.tag_ != "VBD" and not perfect:
        return False
    for c in pred.children:
        if c.lower_ in TEMPORAL_PREPS or (c.dep_ == "aux" and c.lower_ == "had"):
            return False
        if c.dep_ in ("prep", "advmod", "npadvmod") and any(
            g.lower_ in TEMPORAL_PREPS for g in c.subtree
        ):
            return False
    return True


def _is_past(tok: Token) -> bool:
    pred = tok if tok.pos_ in ("VERB", "AUX") else _governing_predicate(tok)
    if pred is None:
        return False
    if pred.tag_ == "VBD":
        return True
    return pred.tag_ == "VBN" and any(c.lower_ in ("has", "have", "had") for c in pred.children)


# ---------------------------------------------------------------- the component


def _build(
    ctx: Context, tok: Token, etype: str, mode: str | None, idx: _Index, triggers: dict
) -> EventMention:
    sent = idx.sentence_of(tok)
    status = status_of(tok)
    if tok.pos_ in ("VERB", "AUX"):
        actors, targets = _verb_args(tok, idx)
    else:
        actors, targets = _noun_args(tok, idx)
    actors = _dedupe(actors)
    targets = [t for t in _dedupe(targets) if t not in actors]
    location = _location(tok, idx)
    if location is None and mode == "visit":
        places = idx.names(
            [t for c in tok.children if c.dep_ == "dobj" for t in _arg_tokens(c)], PLACE_LABELS
        )
        location = places[0] if places else None
    ev = EventMention(
        trigger=tok.text,
        start=tok.idx,
        end=tok.idx + len(tok.text),
        sentence=sent,
        type=etype,
        mode=mode,
        status=status,  # type: ignore[arg-type]
        actors=actors,
        targets=targets,
        location=location,
        confidence=0.9 if tok.pos_ == "VERB" else 0.8,
    )
    k = _pick_timex(tok, sent, idx, ctx.ann.timexes, triggers)
    if k is not None:
        tx = ctx.ann.timexes[k]
        ev.timex = k
        rng = _iso_range(tx.value) if tx.anchored else None
        if rng is not None:
            ev.date, ev.date_end, ev.precision = rng  # type: ignore[assignment]
            if tx.end_value and _iso_range(tx.end_value):
                ev.date_end = _iso_range(tx.end_value)[0]  # type: ignore[index]
        future = (
            ev.date is not None
            and ctx.pub_date is not None
            and ev.date[: len(ctx.pub_date)] > ctx.pub_date[: len(ev.date)]
        ) or (rng is None and _future_symbolic(tx.symbolic))
        if future and status == "happened" and not _is_past(tok):
            ev.status = "planned"  # "Xi's visit next week is aimed at ...": a future date
    elif status == "happened" and ctx.pub_date and _reported_today(tok):
        rng = _iso_range(ctx.pub_date)
        if rng and rng[2] == "day":
            ev.date, ev.precision = rng[0], "day"
            ev.confidence = round(ev.confidence * 0.6, 2)  # dated by the article, not the text
    if not actors:
        ev.confidence = round(ev.confidence * 0.8, 2)
    return ev


def run(ctx: Context) -> None:
    """Add one EventMention per trigger found in the article to ``ctx.ann.events``."""
    lex = load_lexicon()
    triggers = find_triggers(ctx.doc, lex)
    if not triggers:
        return
    idx = _Index(ctx)
    for i in sorted(triggers):
        etype, mode = triggers[i]
        tok = ctx.doc[i]
        if mode == "exercise" and _has_child(tok, ("amod", "compound"), {"joint"}):
            etype, mode = "COOPERATE", "military"
        ev = _build(ctx, tok, etype, mode, idx, triggers)
        if ev.type == "MOBILIZE" and ev.mode == "exercise" and len(ev.actors) > 1:
            ev.type, ev.mode = "COOPERATE", "military"
        ctx.ann.events.append(ev)
