"""The Python API: a notebook user's handle on one store."""

from __future__ import annotations

import builtins
import os
from collections.abc import Iterable, Iterator
from typing import Any

from .records import Article, Removed
from .store import Store, open_store


class Storyline:
    """One store, with the verbs of the CLI as methods returning typed records."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __repr__(self) -> str:
        return f"<Storyline {self.store.location}>"

    def __enter__(self) -> Storyline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.store.close()

    def ingest(self, paths: Iterable[str | os.PathLike[str]], **options: Any) -> Any:
        """Read, extract, annotate, store and link; returns an IngestReport."""
        from .pipeline import ingest

        return ingest(self.store, [os.fspath(p) for p in paths], **options)

    def articles(self, **filters: Any) -> Iterator[Article]:
        """Stored articles in ingest order, as Article records (filters: outlet, since, until)."""
        for row in self.store.articles(with_text=True, **filters):
            yield article_from_row(row)

    def article(self, article_id: str) -> Article:
        return article_from_row(self.store.article(article_id))

    def timeline(self, **options: Any) -> builtins.list[Any]:
        """Timeline entries (story, date_from, date_to, actor, show_all, evidence, limit)."""
        from .tell.timeline import timeline

        return timeline(self.store, **options)

    def events(self) -> builtins.list[dict[str, Any]]:
        """Linked events with their sources (the export's ``events`` records)."""
        return self.export()["events"]

    def quotes(self, speaker: str | None = None) -> builtins.list[dict[str, Any]]:
        """Quotes, optionally of one speaker (substring of the name, any case)."""
        rows = self.export()["quotes"]
        if speaker:
            rows = [q for q in rows if speaker.lower() in (q["speaker"] or "").lower()]
        return rows

    def entities(self) -> builtins.list[dict[str, Any]]:
        return self.export()["entities"]

    def stories(self) -> builtins.list[dict[str, Any]]:
        return self.export()["stories"]

    def search(self, query: str, limit: int = 20) -> builtins.list[dict[str, Any]]:
        return self.store.search(query, limit=limit)

    def export(self) -> dict[str, Any]:
        """The whole store as the JSON export document."""
        from .export import build_document

        return build_document(self.store)

    def dataframe(self, kind: str = "articles") -> Any:
        """A pandas DataFrame of articles, events, quotes, entities, stories or timeline."""
        import pandas as pd

        if kind == "timeline":
            return pd.DataFrame([e.to_dict() for e in self.timeline(show_all=True, limit=None)])
        doc = self.export()
        if kind not in doc:
            raise ValueError(f"kind must be one of {', '.join(doc)}")
        return pd.DataFrame(doc[kind])


def article_from_row(row: dict[str, Any]) -> Article:
    return Article(
        id=row["id"],
        source=row["source"],
        content_hash=row["content_hash"],
        text=row["text"],
        title=row["title"],
        outlet=row["outlet"],
        outlet_source=row["outlet_source"] or "unknown",
        pub_date=row["pub_date"],
        pub_date_source=row["pub_date_source"],
        pub_date_precision=row["pub_date_precision"],
        url=row["url"],
        record=row["record"],
        language=row["language"],
        removed=[Removed(**r) for r in row.get("removed") or []],
        notes=list(row.get("notes") or []),
        is_article=bool(row["is_article"]),
        version=row["version"],
        supersedes=row["supersedes"],
    )


def open(
    location: str | os.PathLike[str] = "storyline.db", *, read_only: bool = False
) -> Storyline:  # noqa: A001
    """Open (or create) a store: an SQLite file path or a postgresql:// URL."""
    return Storyline(open_store(location, read_only=read_only))
