"""The read stage: turn paths, globs, folders and stdin into RawDocs.

Readers are small functions registered by format. Each takes the source name and its bytes and
yields RawDocs, or Failures for the parts it cannot read, so one bad row never stops a batch.
New formats (feeds, WARC, Parquet) plug in with ``@reader("name", sniff)``.
"""

from __future__ import annotations

import csv
import glob
import gzip
import io
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError
from .records import RawDoc

log = logging.getLogger(__name__)

MAX_DOC_BYTES = 10 * 1024 * 1024  # one article larger than this is a mistake, not news
MAX_GZIP_BYTES = 2 * 1024 * 1024 * 1024

# Extensions picked up when walking a folder; an explicit file is read whatever its name.
FOLDER_SUFFIXES = {
    ".txt",
    ".text",
    ".html",
    ".htm",
    ".xhtml",
    ".json",
    ".jsonl",
    ".ndjson",
    ".csv",
    ".tsv",
    ".gz",
}

DEFAULT_FIELDS: dict[str, tuple[str, ...]] = {
    "text": ("text", "content", "body", "maintext", "article", "story"),
    "html": ("html", "raw_html"),
    "title": ("title", "headline"),
    "date": (
        "date",
        "published",
        "pub_date",
        "publish_date",
        "published_at",
        "date_publish",
        "time",
    ),
    "url": ("url", "link", "uri"),
    "outlet": ("outlet", "source", "site", "site_name", "sitename", "domain", "publisher"),
}

BINARY_MAGIC = {
    b"%PDF": "a PDF",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"PK\x03\x04": "a zip archive",
    b"\x7fELF": "an executable",
    b"SQLite format 3": "an SQLite database",
}


@dataclass
class Failure:
    """Something a reader could not turn into a document; reported, then skipped."""

    source: str
    message: str
    record: int | None = None

    def __str__(self) -> str:
        where = self.source if self.record is None else f"{self.source} (record {self.record})"
        return f"{where}: {self.message}"


Item = RawDoc | Failure
ReaderFn = Callable[[str, bytes, "FieldMap"], Iterator[Item]]
SniffFn = Callable[[str, bytes], bool]


@dataclass
class Reader:
    name: str
    sniff: SniffFn
    read: ReaderFn


READERS: list[Reader] = []

PathReaderFn = Callable[[str, "FieldMap"], Iterator[Item]]
PATH_READERS: list[tuple[Callable[[str], bool], PathReaderFn]] = []


def path_reader(matches: Callable[[str], bool]) -> Callable[[PathReaderFn], PathReaderFn]:
    """Register a reader that streams from a file path instead of taking its bytes."""

    def register(fn: PathReaderFn) -> PathReaderFn:
        PATH_READERS.append((matches, fn))
        return fn

    return register


def find_path_reader(path: str) -> PathReaderFn | None:
    for matches, fn in PATH_READERS:
        if matches(path):
            return fn
    return None


def is_url(p: str) -> bool:
    return p.startswith(("http://", "https://"))


def reader(name: str, sniff: SniffFn) -> Callable[[ReaderFn], ReaderFn]:
    """Register a reader; readers registered first are asked first."""

    def register(fn: ReaderFn) -> ReaderFn:
        READERS.append(Reader(name, sniff, fn))
        return fn

    return register


class FieldMap:
    """Which field of a collection row holds the text, title, date, url and outlet."""

    def __init__(self, overrides: dict[str, str] | None = None) -> None:
        self.overrides = {k: v for k, v in (overrides or {}).items() if v}
        unknown = set(self.overrides) - set(DEFAULT_FIELDS)
        if unknown:
            raise InputError(
                f"unknown field name {sorted(unknown)[0]!r}; use one of {', '.join(DEFAULT_FIELDS)}"
            )

    def pick(self, row: dict[str, Any], role: str) -> Any:
        names = (self.overrides[role],) if role in self.overrides else DEFAULT_FIELDS[role]
        lowered = {str(k).lower(): v for k, v in row.items()}
        for name in names:
            value = lowered.get(name.lower())
            if isinstance(value, dict):  # e.g. {"source": {"name": "Reuters"}}
                value = value.get("name") or value.get("title")
            if value not in (None, ""):
                return value
        return None

    def has_text(self, columns: Iterable[str]) -> bool:
        cols = {c.lower() for c in columns}
        wanted = [self.overrides["text"]] if "text" in self.overrides else DEFAULT_FIELDS["text"]
        html = [] if "text" in self.overrides else DEFAULT_FIELDS["html"]
        return any(n.lower() in cols for n in (*wanted, *html))

    def describe_text(self) -> str:
        if "text" in self.overrides:
            return repr(self.overrides["text"])
        return ", ".join(DEFAULT_FIELDS["text"])


def parse_field_options(options: Iterable[str]) -> dict[str, str]:
    """Parse CLI ``--field role=column`` options."""
    out = {}
    for opt in options:
        role, sep, column = opt.partition("=")
        if not sep or not column:
            raise InputError(f"--field expects ROLE=COLUMN (e.g. text=body), got {opt!r}")
        out[role.strip()] = column.strip()
    return out


# ---------------------------------------------------------------------------------------------
# Finding the files


def expand_paths(paths: Iterable[str]) -> Iterator[str | Failure]:
    """Expand folders (recursively) and globs; '-' stands for stdin."""
    for p in paths:
        if p == "-" or is_url(p):
            yield p
            continue
        path = Path(p).expanduser()
        if path.is_dir():
            found = sorted(
                f
                for f in path.rglob("*")
                if f.is_file()
                and not any(part.startswith(".") for part in f.relative_to(path).parts)
                and _wanted_in_folder(f)
            )
            if not found:
                yield Failure(str(path.resolve()), "folder holds no readable files")
            for f in found:
                yield str(f.resolve())
        elif path.exists():
            yield str(path.resolve())
        elif any(ch in p for ch in "*?["):
            matches = sorted(glob.glob(os.path.expanduser(p), recursive=True))
            files = [m for m in matches if Path(m).is_file()]
            if not files:
                yield Failure(p, "no file matches this pattern")
            for m in files:
                yield str(Path(m).resolve())
        else:
            yield Failure(p, "no such file or folder")


def _wanted_in_folder(path: Path) -> bool:
    suffixes = [s.lower() for s in path.suffixes]
    if not suffixes:
        return True
    if suffixes[-1] == ".gz" and len(suffixes) >= 2:
        return suffixes[-2] in FOLDER_SUFFIXES or suffixes[-2] in EXTRA_FOLDER_SUFFIXES
    return suffixes[-1] in FOLDER_SUFFIXES or suffixes[-1] in EXTRA_FOLDER_SUFFIXES


# Readers registered by later modules (feeds, WARC, Parquet) add their suffixes here.
EXTRA_FOLDER_SUFFIXES: set[str] = set()


def iter_docs(
    paths: Iterable[str], fields: FieldMap | None = None, stdin: io.BufferedReader | None = None
) -> Iterator[Item]:
    """Yield a RawDoc for every document found under ``paths``, a Failure for every bad one."""
    fields = fields or FieldMap()
    for p in expand_paths(paths):
        if isinstance(p, Failure):
            yield p
            continue
        if is_url(p):
            from .readers.fetch import read_url

            yield from read_url(p, fields)
            continue
        streaming = find_path_reader(p)
        if streaming is not None:  # formats read as a stream from the file (WARC, Parquet)
            yield from streaming(p, fields)
            continue
        try:
            if p == "-":
                data = (stdin or sys.stdin.buffer).read(MAX_GZIP_BYTES)
                name = "-"
            else:
                name = p
                size = os.path.getsize(p)
                if size == 0:
                    yield Failure(p, "empty file")
                    continue
                data = _read_file(p, size)
        except OSError as exc:
            yield Failure(p, f"cannot read: {exc.strerror or exc}")
            continue
        yield from read_bytes(name, data, fields)


def _read_file(path: str, size: int) -> bytes:
    with open(path, "rb") as fh:
        head = fh.read(4)
        fh.seek(0)
        is_collection = _suffix(path) in {".jsonl", ".ndjson", ".csv", ".tsv", ".json"}
        if head[:2] != b"\x1f\x8b" and not is_collection and size > MAX_DOC_BYTES:
            raise _TooLarge(size)
        return fh.read()


class _TooLarge(OSError):
    def __init__(self, size: int) -> None:
        super().__init__(
            f"{size / 1e6:.1f} MB is too large for one article (limit {MAX_DOC_BYTES / 1e6:.0f} MB)"
        )
        self.strerror = str(self)


def _suffix(name: str) -> str:
    suffixes = [s.lower() for s in Path(name).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def read_bytes(name: str, data: bytes, fields: FieldMap | None = None) -> Iterator[Item]:
    """Read one file's bytes with the first reader that recognises them."""
    fields = fields or FieldMap()
    if not data.strip():
        yield Failure(name, "empty file")
        return
    if data[:2] == b"\x1f\x8b":
        try:
            data = _gunzip(data)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            yield Failure(name, f"broken gzip file: {exc}")
            return
        if not data.strip():
            yield Failure(name, "empty file (inside gzip)")
            return
    kind = binary_kind(data)
    if kind:
        yield Failure(name, f"binary file ({kind}), not text")
        return
    for r in READERS:
        if r.sniff(name, data):
            yield from r.read(name, data, fields)
            return
    yield from read_text(name, data, fields)


def _gunzip(data: bytes) -> bytes:
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as gz:
        out = gz.read(MAX_GZIP_BYTES + 1)
    if len(out) > MAX_GZIP_BYTES:
        raise OSError("decompressed size over the limit")
    return out


def binary_kind(data: bytes) -> str | None:
    """Name the kind of a binary file, or None when it looks like text."""
    for magic, kind in BINARY_MAGIC.items():
        if data.startswith(magic):
            return kind
    head = data[:4096]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 text has NULs but is text
        return None
    if head.count(b"\x00") > len(head) // 100:
        return "binary data"
    return None


# ---------------------------------------------------------------------------------------------
# Readers


def _looks_html(name: str, data: bytes) -> bool:
    if _suffix(name) in {".html", ".htm", ".xhtml"}:
        return True
    head = data[:2048].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or (
        head.startswith(b"<") and b"<body" in data[:65536].lower()
    )


@reader("html", _looks_html)
def read_html(name: str, data: bytes, fields: FieldMap) -> Iterator[Item]:
    if len(data) > MAX_DOC_BYTES * 3:
        yield Failure(name, f"HTML page of {len(data) / 1e6:.1f} MB is too large")
        return
    yield RawDoc(source=name, data=data, kind="html")


def _looks_jsonl(name: str, data: bytes) -> bool:
    if _suffix(name) in {".jsonl", ".ndjson"}:
        return True
    head = data[:4096].lstrip()
    return head.startswith(b"{") and b"\n{" in data[:1_000_000] and _suffix(name) != ".json"


@reader("jsonl", _looks_jsonl)
def read_jsonl(name: str, data: bytes, fields: FieldMap) -> Iterator[Item]:
    for i, line in enumerate(data.splitlines()):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            yield Failure(
                name,
                f"line {i + 1} is not valid JSON ({exc.msg if hasattr(exc, 'msg') else exc})",
                i,
            )
            continue
        yield _row_doc(name, i, row, fields)


def _looks_json(name: str, data: bytes) -> bool:
    return _suffix(name) == ".json" or data[:4096].lstrip()[:1] in (b"[", b"{")


@reader("json", _looks_json)
def read_json(name: str, data: bytes, fields: FieldMap) -> Iterator[Item]:
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        yield Failure(name, f"not valid JSON: {exc}")
        return
    rows = doc
    if isinstance(doc, dict):
        for key in ("articles", "items", "data", "documents", "docs", "results"):
            if isinstance(doc.get(key), list):
                rows = doc[key]
                break
        else:
            rows = [doc]
    if not isinstance(rows, list):
        yield Failure(name, "JSON holds neither an article object nor a list of them")
        return
    for i, row in enumerate(rows):
        yield _row_doc(name, i, row, fields)


def _looks_csv(name: str, data: bytes) -> bool:
    return _suffix(name) in {".csv", ".tsv"}


@reader("csv", _looks_csv)
def read_csv(name: str, data: bytes, fields: FieldMap) -> Iterator[Item]:
    text = decode_bytes(data)
    delimiter = "\t" if _suffix(name) == ".tsv" else ","
    csv.field_size_limit(MAX_DOC_BYTES)
    rows = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        columns = rows.fieldnames or []
    except csv.Error as exc:
        yield Failure(name, f"not a readable CSV file: {exc}")
        return
    if not fields.has_text(columns):
        yield Failure(
            name,
            f"CSV has no text column (looked for {fields.describe_text()}; "
            f"columns are {', '.join(columns) or 'none'}); pass --field text=COLUMN",
        )
        return
    i = -1
    while True:
        try:
            i += 1
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:
            yield Failure(name, f"row {i + 1} is not valid CSV ({exc})", i)
            continue
        yield _row_doc(name, i, row, fields)


def read_text(name: str, data: bytes, fields: FieldMap) -> Iterator[Item]:
    if len(data) > MAX_DOC_BYTES:  # e.g. a gzip that unpacks to more than one article can be
        yield Failure(name, f"{len(data) / 1e6:.1f} MB of text is too large for one article")
        return
    yield RawDoc(source=name, data=data, kind="text")


def _row_doc(name: str, i: int, row: Any, fields: FieldMap) -> Item:
    if not isinstance(row, dict):
        return Failure(name, "record is not an object", i)
    text = fields.pick(row, "text")
    kind = "text"
    if not isinstance(text, str) or not text.strip():
        html = None if "text" in fields.overrides else fields.pick(row, "html")
        if isinstance(html, str) and html.strip():
            text, kind = html, "html"
        else:
            return Failure(name, f"record has no text (looked for {fields.describe_text()})", i)
    meta = {}
    for role in ("title", "date", "url", "outlet"):
        value = fields.pick(row, role)
        if value not in (None, ""):
            meta[role] = value if isinstance(value, str | int | float) else str(value)
    return RawDoc(source=name, data=text.encode("utf-8"), kind=kind, record=i, meta=meta)


# ---------------------------------------------------------------------------------------------
# Decoding


UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]{1,3}")


def guess_encoding(data: bytes) -> str:
    """The encoding of non-UTF-8 bytes. Where charset-normalizer finds several single-byte
    encodings equally plausible (short Western text reads as cp1250 as well as cp1252), the
    Windows Western one wins: it is what non-UTF-8 news pages nearly always are."""
    from charset_normalizer import from_bytes

    results = list(from_bytes(data))
    if not results:
        return "cp1252"
    best = results[0]
    for match in results:
        if (
            match.encoding == "cp1252"
            and match.chaos <= best.chaos + 0.01
            and match.coherence >= best.coherence - 0.01
        ):
            return "cp1252"
    return best.encoding


def decode_bytes(data: bytes) -> str:
    """Decode text of any common encoding; UTF-8 (with or without BOM) is tried first."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with its byte-order mark
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if UTF8_MULTIBYTE.search(data):  # UTF-8 with a few broken bytes: keep it UTF-8
        text = data.decode("utf-8", errors="replace")
        if text.count("\ufffd") <= max(3, len(data) // 2000):
            return text
    encoding = guess_encoding(data[:200_000])
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return data.decode("cp1252", errors="replace")


# More formats register themselves on import (feeds, WARC, Parquet).
from .readers import feeds, parquet, warc  # noqa: E402, F401
