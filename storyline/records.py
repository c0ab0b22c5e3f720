"""The records that flow between stages.

Every stage takes and returns these plain dataclasses, so a stage can be run, tested and
replaced on its own. Offsets are Python ``str`` offsets into ``Article.text`` unless a field
says otherwise: any answer can point back at its evidence.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

PubDateSource = Literal["metadata", "text", "inferred", "unknown"]
Precision = Literal["day", "month", "year"]
EventStatus = Literal["happened", "planned", "denied", "hypothetical", "unknown"]


@dataclass
class RawDoc:
    """One document as a reader found it, before any cleaning."""

    source: str  # absolute path or URL the document was read from ("-" for stdin)
    data: bytes  # the bytes of the document (for collection rows: the text, UTF-8)
    kind: Literal["text", "html"] = "text"
    record: int | None = None  # row / record number inside a collection (0-based)
    meta: dict[str, Any] = field(default_factory=dict)  # title, date, url, outlet from the source


@dataclass
class Removed:
    """A span the extractor took out of the text, kept for audit and restore."""

    text: str
    reason: str  # e.g. "caption-credit", "newsletter", "section-label", "stray-headline"
    position: int  # offset in Article.text where the span stood (text before it keeps its offsets)


@dataclass
class Article:
    """A clean, dated article: the output of the extract stage."""

    id: str
    source: str
    content_hash: str
    text: str
    title: str | None = None
    outlet: str | None = None
    outlet_source: str = "unknown"  # "metadata", "url", "dateline", "text", "unknown"
    pub_date: str | None = None  # ISO date (YYYY-MM-DD, YYYY-MM or YYYY)
    pub_date_source: PubDateSource = "unknown"
    pub_date_precision: Precision | None = None
    url: str | None = None
    record: int | None = None
    language: str | None = None
    removed: list[Removed] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what a stage could not do, for the user
    is_article: bool = True  # False for login walls, promo pages and other non-articles
    version: int = 1
    supersedes: str | None = None  # id of the previous version of the same source

    @property
    def words(self) -> int:
        return len(self.text.split())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Sentence:
    index: int
    start: int
    end: int
    text: str


@dataclass
class Mention:
    """An entity mention in one article."""

    start: int
    end: int
    text: str
    label: str  # PERSON, ORG, GPE, LOC, NORP, FAC, GOV (a government by metonym), ...
    sentence: int
    kind: str = "name"  # "name", "title" (e.g. "the Chinese leader"), "pronoun", "metonym"
    canonical: str | None = None  # best full name found in the article ("Xi Jinping")
    role: str | None = None  # attached title or role ("Chinese President")
    country: str | None = None  # ISO 3166 alpha-2 of the country it belongs to / stands for
    lat: float | None = None
    lon: float | None = None
    entity_id: str | None = None  # filled by the link stage


@dataclass
class Timex:
    """A time expression, TIMEX3 style."""

    start: int
    end: int
    text: str
    type: Literal["DATE", "TIME", "DURATION", "SET"]
    value: str  # TIMEX3 value ("2022-09-15", "2022-W37", "P6M", "XXXX-WI"), or symbolic "DCT..."
    sentence: int
    anchored: bool = True  # False while the value depends on an unknown publication date
    symbolic: str | None = None  # relative form kept for re-resolution, e.g. "DCT-P1D", "DCT+W+1"
    end_value: str | None = None  # for ranges ("from Monday to Wednesday")


@dataclass
class Quote:
    start: int
    end: int
    text: str
    kind: Literal["direct", "indirect"]
    sentence: int
    speaker: str | None = None
    speaker_start: int | None = None
    speaker_end: int | None = None
    speaker_canonical: str | None = None  # the speaker's full name where it could be resolved
    addressee: str | None = None
    channel: str | None = None  # "told reporters", "in a statement", "tweeted", ...
    second_hand: bool = False  # reported through someone else ("state media quoted him")
    speaker_id: str | None = None  # entity id, filled by the link stage
    utterance_id: str | None = None  # filled by the link stage


@dataclass
class EventMention:
    """Who did what to whom, where, when: one mention in one sentence."""

    trigger: str
    start: int  # trigger offsets
    end: int
    sentence: int
    type: str  # PLOVER type: CONSULT, AGREE, ...
    mode: str | None = None  # PLOVER mode, e.g. "visit", "third-party"
    status: EventStatus = "happened"
    actors: list[str] = field(default_factory=list)  # canonical names of the source actors
    targets: list[str] = field(default_factory=list)
    location: str | None = None
    date: str | None = None  # ISO value of the dating timex (or the publication date)
    date_end: str | None = None
    precision: Precision | None = None
    timex: int | None = None  # index into Annotations.timexes of the dating expression
    confidence: float = 1.0
    event_id: str | None = None  # filled by the link stage


@dataclass
class Annotations:
    """Everything the annotate stage finds in one article."""

    article_id: str
    sentences: list[Sentence] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    timexes: list[Timex] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    events: list[EventMention] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # the article's passage vector (float32 little-endian), computed in the worker beside the
    # parse so that the linker, one thread for the whole ingest, does not embed
    vector: bytes | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
