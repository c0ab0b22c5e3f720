"""WARC files (warcio), streamed record by record: HTML responses only, each URL and each
content once, so a Common Crawl News file never has to fit in memory."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator

from ..read import (
    EXTRA_FOLDER_SUFFIXES,
    MAX_DOC_BYTES,
    Failure,
    FieldMap,
    Item,
    RawDoc,
    path_reader,
)

log = logging.getLogger(__name__)

EXTRA_FOLDER_SUFFIXES.update({".warc", ".arc"})


def is_warc(path: str) -> bool:
    low = path.lower()
    return low.endswith((".warc", ".warc.gz", ".arc", ".arc.gz"))


@path_reader(is_warc)
def read_warc(path: str, fields: FieldMap) -> Iterator[Item]:
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    seen_urls: set[str] = set()
    seen_hashes: set[str] = set()
    n_records = 0
    try:
        with open(path, "rb") as fh:
            for i, rec in enumerate(ArchiveIterator(fh)):
                n_records = i + 1
                if rec.rec_type != "response" or rec.http_headers is None:
                    continue
                ctype = (rec.http_headers.get_header("Content-Type") or "").lower()
                if "html" not in ctype:
                    continue
                status = rec.http_headers.get_statuscode() or ""
                if not status.startswith("2"):
                    continue
                url = rec.rec_headers.get_header("WARC-Target-URI") or f"{path}#{i}"
                if url in seen_urls:
                    continue
                seen_urls.add(url)
                data = rec.content_stream().read(MAX_DOC_BYTES + 1)
                if len(data) > MAX_DOC_BYTES:
                    yield Failure(path, f"response for {url} is larger than the limit", i)
                    continue
                digest = hashlib.sha256(data).hexdigest()
                if digest in seen_hashes or not data.strip():
                    continue
                seen_hashes.add(digest)
                yield RawDoc(source=url, data=data, kind="html", meta={"url": url})
    except (ArchiveLoadFailed, OSError, ValueError) as exc:
        yield Failure(path, f"not a readable WARC file ({str(exc).splitlines()[0]})")
        return
    if not seen_hashes:
        yield Failure(path, f"no HTML responses among {n_records} WARC records")
