"""RSS and Atom feeds (feedparser): one document per entry.

When an entry carries only a summary, its linked page is fetched (politely, cached) when the
feed itself came from the web or when STORYLINE_FETCH_PAGES=1; otherwise the summary is used
and the article is marked as such.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

from ..read import READERS, Failure, FieldMap, Item, RawDoc, _suffix, reader

log = logging.getLogger(__name__)

FEED_SUFFIXES = {".rss", ".atom", ".xml", ".rdf"}


def looks_like_feed(name: str, data: bytes) -> bool:
    head = data[:2048].lstrip().lower()
    if not head.startswith((b"<?xml", b"<rss", b"<feed", b"<rdf")):
        return False
    return (
        b"<rss" in head or b"<feed" in head or b"<rdf:rdf" in head or _suffix(name) in FEED_SUFFIXES
    )


def fetch_pages_wanted(feed_source: str) -> bool:
    flag = os.environ.get("STORYLINE_FETCH_PAGES")
    if flag is not None:
        return flag not in ("0", "", "no", "false")
    return feed_source.startswith(("http://", "https://"))


@reader("feed", looks_like_feed)
def read_feed(name: str, data: bytes, fields: FieldMap) -> Iterator[Item]:
    import feedparser

    parsed = feedparser.parse(data)
    if not parsed.entries:
        reason = getattr(parsed, "bozo_exception", None)
        yield Failure(name, f"feed has no entries{f' ({reason})' if reason else ''}")
        return
    outlet = (parsed.feed.get("title") or "").strip() or None
    fetch = fetch_pages_wanted(name)
    for i, entry in enumerate(parsed.entries):
        yield entry_doc(name, i, entry, outlet, fetch)


def entry_doc(name: str, i: int, entry: Any, outlet: str | None, fetch: bool) -> Item:
    link = entry.get("link")
    meta: dict[str, Any] = {}
    if entry.get("title"):
        meta["title"] = entry["title"]
    date = entry.get("published") or entry.get("updated") or entry.get("created")
    if date:
        meta["date"] = date
    if link:
        meta["url"] = link
    if outlet:
        meta["outlet"] = outlet
    content = ""
    if entry.get("content"):
        content = max((c.get("value", "") for c in entry["content"]), key=len)
    summary = entry.get("summary", "")
    if fetch and link and link.startswith(("http://", "https://")) and len(content) < 1500:
        from ..errors import InputError
        from .fetch import fetcher

        try:
            page = fetcher().get(link)
            meta.pop("title", None)  # the page's own headline is better than the feed's
            return RawDoc(source=link, data=page, kind="html", meta=meta)
        except InputError as exc:
            log.warning("feed entry page not fetched: %s", exc)
    body = content or summary
    if not body.strip():
        return Failure(name, "feed entry has no text", i)
    kind = "html" if "<" in body and ">" in body else "text"
    if kind == "html":
        body = f"<html><body><article>{body}</article></body></html>"
    return RawDoc(source=name, data=body.encode("utf-8"), kind=kind, record=i, meta=meta)


# Feeds are XML and could look like HTML to a sniffer: ask the feed reader first.
READERS.insert(0, READERS.pop())
