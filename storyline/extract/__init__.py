"""The extract stage: RawDoc -> Article (clean text, title, outlet, publication date, language).

``extract`` is a pure function of one document, so it runs in any worker process.
"""

from __future__ import annotations

import hashlib
import logging
import re

from ..read import decode_bytes
from ..records import Article, RawDoc, Removed
from . import boilerplate as bp
from . import metadata as md

log = logging.getLogger(__name__)

__all__ = ["extract", "article_id", "content_hash"]

MAX_TITLE_WORDS = 25
TOP_BLOCKS = 6  # how far down a headline may stand
LANGUAGE_SAMPLE = 1500  # characters: plenty for a language id, and its cost grows with length


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def article_id(source: str, record: int | None, digest: str) -> str:
    """Stable id: the same bytes from the same place always get the same id."""
    key = f"{source}\x00{'' if record is None else record}\x00{digest}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def extract(raw: RawDoc) -> Article:
    """Clean one raw document into an Article."""
    digest = content_hash(raw.data)
    art = Article(
        id=article_id(raw.source, raw.record, digest),
        source=raw.source,
        record=raw.record,
        content_hash=digest,
        text="",
    )
    if raw.kind == "html":
        _from_html(raw, art)
    else:
        _from_text(decode_bytes(raw.data), art, meta_title=_meta_str(raw.meta.get("title")))
    _apply_metadata(raw, art)
    art.language = detect_language(art.text)
    if art.language and art.language != "en":
        art.notes.append(f"language {art.language}: later stages skip non-English text")
    if not art.text.strip():
        art.is_article = False
        art.notes.append("no text left after extraction")
    return art


def _meta_str(value: object) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


# ---------------------------------------------------------------------------------------------
# Plain text


def split_blocks(text: str) -> list[str]:
    """Paragraphs: blank-line separated, or one per line when the text uses single newlines.

    Hard-wrapped paragraphs (several lines between blank lines) are joined back into one block.
    """
    paragraphs = [p for p in re.split(r"\n[ \t]*\n", text) if p.strip()]
    lines_per_par = sum(p.strip().count("\n") + 1 for p in paragraphs) / max(len(paragraphs), 1)
    if len(paragraphs) > 1 and lines_per_par >= 2.5:
        return [" ".join(line.strip() for line in p.strip().splitlines()) for p in paragraphs]
    return [line.strip() for line in text.split("\n") if line.strip()]


def _from_text(text: str, art: Article, meta_title: str | None = None) -> None:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    removed: list[tuple[int, str, str]] = []  # (block index, text, reason)
    m = md.LEADING_DATE.match(text)
    if m:
        iso = md.iso_from_parts(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if iso:
            art.pub_date, art.pub_date_source, art.pub_date_precision = iso, "text", "day"
        removed.append((0, m.group(0).strip(), "date-line"))
        text = text[m.end() :]
    blocks = split_blocks(text)
    reasons: list[str | None] = [None] * len(blocks)

    if art.pub_date is None:
        found = md.date_from_lines(blocks[:TOP_BLOCKS])
        if found:
            art.pub_date, art.pub_date_source, art.pub_date_precision = found, "text", "day"
            for i, b in enumerate(blocks[:TOP_BLOCKS]):
                if len(b) <= 120 and md.date_from_lines([b]) == found:
                    reasons[i] = "date-line"
                    break

    for i, block in enumerate(blocks):
        if reasons[i] is None:
            reasons[i] = bp.classify_block(block, first=i == 0, last=i == len(blocks) - 1)

    if art.pub_date is None:  # a dateline opens the first paragraph of the body, nowhere else
        first_body = next(
            (
                b
                for b, r in zip(blocks[:TOP_BLOCKS], reasons, strict=False)
                if r is None and not bp.is_headline_like(b)
            ),
            None,
        )
        found = md.date_from_dateline(first_body) if first_body else None
        if found:
            art.pub_date, art.pub_date_source, art.pub_date_precision = found, "text", "day"

    title_index = _find_title(blocks, reasons, meta_title)
    if title_index is not None:
        art.title = blocks[title_index]
        reasons[title_index] = "title"

    kept: list[str] = []
    offset = 0
    for i, (block, reason) in enumerate(zip(blocks, reasons, strict=True)):
        if reason is None:
            kept.append(block)
            offset += len(block) + 2
        elif reason != "title":
            removed.append((i, block, reason))
    art.text = "\n\n".join(kept)
    why_not = bp.non_article_reason(kept, [(t, r) for _, t, r in removed])
    if why_not:
        art.is_article = False
        art.notes.append(f"not an article: {why_not}")
    # positions: where each removed block stood in the clean text
    pos_of_block = []
    offset = 0
    for block, reason in zip(blocks, reasons, strict=True):
        pos_of_block.append(min(offset, len(art.text)))
        if reason is None:
            offset += len(block) + 2
    art.removed = [
        Removed(text=t, reason=r, position=pos_of_block[i] if i < len(pos_of_block) else 0)
        for i, t, r in removed
    ]
    if meta_title:
        art.title = meta_title


def _find_title(blocks: list[str], reasons: list[str | None], meta_title: str | None) -> int | None:
    """The headline is the last headline-like block before the body starts; earlier ones are
    section labels or unrelated headlines glued on top."""
    if meta_title:
        norm = " ".join(meta_title.lower().split())
        for i, b in enumerate(blocks[:TOP_BLOCKS]):
            if " ".join(b.lower().split()) == norm:
                return i
        return None
    candidates: list[int] = []
    for i, block in enumerate(blocks[:TOP_BLOCKS]):
        if reasons[i] is not None:
            continue
        if bp.looks_like_body(block):
            break
        if bp.is_headline_like(block):
            candidates.append(i)
        else:
            break
    else:
        return None  # no body found below: keep the text as it is
    if not candidates:
        return None
    title = candidates[-1]
    for i in candidates[:-1]:
        n = len(bp.words(blocks[i]))
        reasons[i] = "section-label" if n <= 3 else "stray-headline"
    return title


# ---------------------------------------------------------------------------------------------
# HTML


def _from_html(raw: RawDoc, art: Article) -> None:
    import trafilatura

    html = decode_bytes(raw.data)
    url = _meta_str(raw.meta.get("url")) or (raw.source if "://" in raw.source else None)
    try:
        doc = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=False,
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
    except Exception as exc:  # trafilatura raises many kinds on broken markup
        log.debug("trafilatura failed on %s: %s", raw.source, exc)
        doc = None
    if doc is None:
        art.notes.append("HTML page has no extractable main text")
        return
    data = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    body = data.get("text") or ""
    title = _meta_str(data.get("title"))
    # trafilatura keeps the headline as the first line; the text-level rules then run as usual
    _from_text(body, art, meta_title=title)
    if title:
        art.title = title
    date = data.get("date")
    if not date:
        try:
            from htmldate import find_date

            date = find_date(html, extensive_search=False, original_date=True)
        except Exception:  # htmldate is best-effort
            date = None
    parsed = md.normalise_date(date)
    if parsed:
        art.pub_date, art.pub_date_precision = parsed
        art.pub_date_source = "metadata"
    if data.get("sitename"):
        art.outlet, art.outlet_source = _meta_str(data["sitename"]), "metadata"
    elif data.get("hostname"):
        art.outlet, art.outlet_source = data["hostname"], "url"
    if url and not art.url:
        art.url = url


# ---------------------------------------------------------------------------------------------
# Metadata from the collection row, URL, text signals


def _apply_metadata(raw: RawDoc, art: Article) -> None:
    meta = raw.meta
    if meta.get("url"):
        art.url = _meta_str(meta["url"])
    if meta.get("title"):
        art.title = _meta_str(meta["title"])
    parsed = md.normalise_date(meta.get("date"))
    if parsed:
        art.pub_date, art.pub_date_precision = parsed
        art.pub_date_source = "metadata"
    if meta.get("outlet"):
        art.outlet, art.outlet_source = _meta_str(meta["outlet"]), "metadata"
    elif not art.outlet and art.url:
        art.outlet, art.outlet_source = md.outlet_from_url(art.url), "url"
    if not art.outlet:
        head = art.text[:300]
        found = md.outlet_from_text(head, [r.text for r in art.removed if _names_publisher(r)])
        if found:
            art.outlet, art.outlet_source = found


# Removed furniture that speaks for the publisher ("listen to Fox News articles", "sign up to
# our emails ... from The Independent"). Captions credit a photo agency and "X contributed to
# this report" credits a helper: neither names who published the article.
PUBLISHER_REASONS = {"newsletter", "promo", "account", "sign-off"}
CREDITS_SOMEONE_ELSE = re.compile(r"\b(contributed|reporting by|writing by|editing by)\b", re.I)


def _names_publisher(removed: Removed) -> bool:
    return removed.reason in PUBLISHER_REASONS and not CREDITS_SOMEONE_ELSE.search(removed.text)


def detect_language(text: str) -> str | None:
    sample = text[:LANGUAGE_SAMPLE]
    if len(sample.split()) < 5:
        return None
    import py3langid

    lang, _score = py3langid.classify(sample)
    return lang
