"""The store: one interface over SQLite (default) and PostgreSQL.

SQLAlchemy Core gives us one schema and one set of queries for both backends; what differs
(full-text search, pragmas) lives in small dialect branches here. Stages write through
``Store.transaction()`` so a batch goes in whole or not at all.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    create_engine,
    delete,
    event,
    false,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import NullPool, QueuePool

from ..errors import NotAStore, NotFound, ReadOnlyStore, StoreError
from ..records import Annotations, Article
from . import schema
from .migrations import migrate

log = logging.getLogger(__name__)

__all__ = ["Store", "open_store", "schema"]

SQLITE_MAGIC = b"SQLite format 3\x00"


LINK_LOCK_KEY = 0x5707_11E0  # pg_advisory_xact_lock key of the link stage
BATCH_CACHE = "storyline.batch"  # conn.info key: caches that live for one write transaction


def in_chunks(items: Sequence[Any], n: int = 500) -> Iterator[Sequence[Any]]:
    """Slices of ``items`` small enough for one ``IN (...)`` list (SQLite's bound-parameter
    limit)."""
    for i in range(0, len(items), n):
        yield items[i : i + n]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def open_store(
    location: str | os.PathLike[str], *, read_only: bool = False, pool_size: int = 0
) -> Store:
    """Open (and create or migrate) a store: a SQLite path or a ``postgresql://`` URL.

    ``pool_size`` > 0 keeps that many SQLite connections open for reuse (a server's many short
    reads: no reconnect, warm page cache); 0 opens one per use.
    """
    loc = str(location)
    if loc.startswith(("postgresql://", "postgres://", "postgresql+")):
        url = loc.replace("postgres://", "postgresql://", 1)
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        engine = create_engine(url, pool_pre_ping=True)
        event.listen(engine, "connect", _custom_plans)
        return Store(engine, loc, read_only=read_only)
    path = Path(loc).expanduser()
    if path.is_dir():
        raise NotAStore(f"{path} is a folder, not a store file")
    if path.exists() and path.stat().st_size > 0:
        with open(path, "rb") as fh:
            if fh.read(16) != SQLITE_MAGIC:
                raise NotAStore(f"{path} is not a Storyline store (not an SQLite database)")
    elif read_only:
        raise NotFound(f"no store at {path}; ingest something first (storyline ingest PATH)")
    if not read_only and path.exists() and not os.access(path, os.W_OK):
        raise ReadOnlyStore(f"{path} is read-only; open it without writing or fix its permissions")
    if not read_only and not path.exists() and not os.access(path.parent.resolve(), os.W_OK):
        raise ReadOnlyStore(f"cannot create {path}: its folder is not writable")
    abspath = str(path.resolve())
    if read_only:
        creator = lambda: sqlite3.connect(  # noqa: E731
            f"file:{abspath}?mode=ro", uri=True, check_same_thread=False, timeout=30
        )
    else:
        creator = lambda: sqlite3.connect(abspath, check_same_thread=False, timeout=30)  # noqa: E731
    if pool_size > 0:
        engine = create_engine(
            "sqlite://",
            creator=creator,
            poolclass=QueuePool,
            pool_size=pool_size,
            max_overflow=2 * pool_size,
        )
    else:
        engine = create_engine("sqlite://", creator=creator, poolclass=NullPool)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        if not read_only:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA cache_size=-65536")
        cur.close()

    event.listen(engine, "handle_error", _interrupt_is_not_a_disconnect)
    return Store(engine, abspath, read_only=read_only)


def _interrupt_is_not_a_disconnect(ctx: Any) -> None:
    """Roll back, do not drop, an SQLite connection that a Ctrl-C interrupted. SQLAlchemy
    treats a KeyboardInterrupt raised in a statement as a lost connection and closes it with
    its cursor still open; SQLite then keeps the closed connection, and its write lock, alive
    until that cursor is collected, and the batch's closing write waited 30 s and failed
    ("locked"). The sqlite3 call has returned by then, so the connection is sound: SQLAlchemy
    closes the cursor and the transaction rolls back as for any other error."""
    if ctx.is_disconnect and not isinstance(ctx.original_exception, Exception):
        ctx.is_disconnect = False


def _custom_plans(dbapi_conn: Any, _record: Any) -> None:
    """Plan every PostgreSQL statement for its parameters. psycopg prepares a statement after
    a few executions, and the server then switches to a generic plan, which for the blocking
    look-ups (an actor's rows in a time range, capped) was 15x slower than the custom one: 3.3
    against 0.5 ms per look-up, most of the link stage's time on PostgreSQL."""
    cur = dbapi_conn.cursor()
    cur.execute("SET plan_cache_mode = force_custom_plan")
    cur.close()
    dbapi_conn.commit()


class Store:
    """Articles, annotations and the linked story, behind one small interface."""

    def __init__(self, engine: Engine, location: str, *, read_only: bool = False) -> None:
        self.engine = engine
        self.location = location
        self.read_only = read_only
        self.dialect = engine.dialect.name  # "sqlite" or "postgresql"
        self.t = schema
        try:
            if read_only:
                self._check_version()
            else:
                with self.engine.begin() as conn:
                    migrate(conn, self.dialect)
        except DatabaseError as exc:
            raise _store_error(exc, location) from exc

    def __repr__(self) -> str:
        return f"<Store {self.dialect} {self.location}>"

    def _check_version(self) -> None:
        with self.engine.connect() as conn:
            try:
                conn.execute(
                    select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")
                )
            except OperationalError as exc:
                raise NotAStore(f"{self.location} is not a Storyline store") from exc

    # -- connections ------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction: everything inside commits together or not at all."""
        if self.read_only:
            raise ReadOnlyStore(f"{self.location} is open read-only")
        try:
            with self.engine.begin() as conn:
                if self.dialect == "sqlite":
                    conn.exec_driver_sql("BEGIN IMMEDIATE")  # one writer at a time, from the start
                conn.info.pop(BATCH_CACHE, None)  # per-transaction caches of the link stage
                yield conn
        except (OperationalError, DatabaseError) as exc:
            raise _store_error(exc, self.location) from exc

    def lock_linking(self, conn: Connection) -> None:
        """Serialise linkers of one store until this transaction ends: two processes linking at
        once would each create the same event. SQLite's BEGIN IMMEDIATE already does; on
        PostgreSQL a transaction-scoped advisory lock."""
        if self.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LINK_LOCK_KEY})

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read connection that sees one consistent snapshot."""
        try:
            with self.engine.connect() as conn:
                if self.dialect == "sqlite":
                    conn.exec_driver_sql("BEGIN")
                yield conn
        except (OperationalError, DatabaseError) as exc:
            raise _store_error(exc, self.location) from exc

    def close(self) -> None:
        self.engine.dispose()

    # -- writing articles -------------------------------------------------------------------

    def start_batch(self, paths: Sequence[str]) -> int:
        with self.transaction() as conn:
            res = conn.execute(
                insert(schema.batches).values(started_at=now(), paths=json.dumps(list(paths)[:100]))
            )
            return int(res.inserted_primary_key[0])

    def finish_batch(self, batch_id: int, added: int, skipped: int, failed: int) -> None:
        with self.transaction() as conn:
            conn.execute(
                update(schema.batches)
                .where(schema.batches.c.id == batch_id)
                .values(finished_at=now(), n_added=added, n_skipped=skipped, n_failed=failed)
            )

    def known_hashes(
        self, conn: Connection, keys: Iterable[tuple[str, str]]
    ) -> set[tuple[str, str]]:
        """Which (source_key, content_hash) pairs are already stored."""
        keys = list(keys)
        hashes = {h for _, h in keys}
        if not hashes:
            return set()
        a = schema.articles
        rows = conn.execute(
            select(a.c.source_key, a.c.content_hash).where(a.c.content_hash.in_(hashes))
        )
        return {(r.source_key, r.content_hash) for r in rows}

    def add_articles(
        self,
        conn: Connection,
        items: Sequence[tuple[Article, Annotations | None]],
        batch_id: int | None = None,
    ) -> list[str]:
        """Insert new articles (and their annotations); returns the ids actually added.

        An article whose source and bytes are already stored is skipped; one whose source is
        stored with other bytes becomes a new version that supersedes the old one.
        """
        if not items:
            return []
        a = schema.articles
        keys = [(source_key(art), art.content_hash) for art, _ in items]
        known = self.known_hashes(conn, keys)
        seq = conn.execute(select(func.coalesce(func.max(a.c.seq), 0))).scalar_one()
        latest = self._latest_versions(conn, sorted({k[0] for k in keys if k not in known}))
        added: list[str] = []
        rows = []
        seen: set[tuple[str, str]] = set()
        for (art, _ann), key in zip(items, keys, strict=True):
            if key in known or key in seen:
                continue
            seen.add(key)
            if (prev := latest.get(key[0])) is not None:
                art.version, art.supersedes = prev.version + 1, prev.id
            seq += 1
            rows.append(article_row(art, seq, batch_id))
            added.append(art.id)
        if rows:
            # a concurrent writer may have stored the same document meanwhile: skip, never fail
            inserted = {r[0] for r in conn.execute(self._insert_ignore(a).returning(a.c.id), rows)}
            added = [i for i in added if i in inserted]
            if self.dialect == "sqlite" and added:
                conn.execute(
                    text(
                        "INSERT INTO articles_fts(rowid, title, text) "
                        "SELECT rowid, coalesce(title, ''), text FROM articles WHERE id = :id"
                    ),
                    [{"id": i} for i in added],
                )
        added_set = set(added)
        anns = [ann for art, ann in items if ann is not None and art.id in added_set]
        if anns:
            self.save_annotations(conn, anns)
        return added

    def _latest_versions(self, conn: Connection, source_keys: Sequence[str]) -> dict[str, Any]:
        """Source key -> its stored article of the highest version (id, version), in one
        look-up per 500 keys (one per article was a round trip each on PostgreSQL)."""
        a = schema.articles
        out: dict[str, Any] = {}
        for part in in_chunks(source_keys):
            q = select(a.c.source_key, a.c.id, a.c.version).where(a.c.source_key.in_(part))
            for r in conn.execute(q.order_by(a.c.source_key, a.c.version.desc(), a.c.id)):
                out.setdefault(r.source_key, r)
        return out

    def _insert_ignore(self, table: Any) -> Any:
        """INSERT that skips rows violating a unique constraint (both backends)."""
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table).on_conflict_do_nothing()
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).on_conflict_do_nothing()

    def save_annotations(self, conn: Connection, anns: Sequence[Annotations]) -> None:
        """Replace the per-article annotations of these articles."""
        ids = [ann.article_id for ann in anns]
        for table in (
            schema.sentences,
            schema.mentions,
            schema.timexes,
            schema.quotes,
            schema.event_mentions,
        ):
            conn.execute(delete(table).where(table.c.article_id.in_(ids)))
        sent, ment, tx, qt, ev = [], [], [], [], []
        for ann in anns:
            aid = ann.article_id
            sent += [
                {"article_id": aid, "idx": s.index, "start": s.start, "end": s.end, "text": s.text}
                for s in ann.sentences
            ]
            for m in ann.mentions:
                ment.append({"article_id": aid, **_fields(m)})
            for i, t in enumerate(ann.timexes):
                tx.append({"article_id": aid, "idx": i, **_fields(t)})
            for i, q in enumerate(ann.quotes):
                qt.append({"id": f"{aid}-q{i}", "article_id": aid, **_fields(q)})
            for i, e in enumerate(ann.events):
                ev.append({"id": f"{aid}-e{i}", "article_id": aid, **_fields(e)})
        for table, rows in (
            (schema.sentences, sent),
            (schema.mentions, ment),
            (schema.timexes, tx),
            (schema.quotes, qt),
            (schema.event_mentions, ev),
        ):
            if rows:
                conn.execute(insert(table), rows)
        a = schema.articles
        notes = {ann.article_id: ann.notes for ann in anns if ann.notes}
        conn.execute(update(a).where(a.c.id.in_(ids)).values(annotated=True))
        for aid, extra in notes.items():
            old = conn.execute(select(a.c.notes).where(a.c.id == aid)).scalar_one_or_none() or []
            conn.execute(update(a).where(a.c.id == aid).values(notes=list(old) + list(extra)))

    # -- reading articles -------------------------------------------------------------------

    def unlinked_ids(self) -> list[str]:
        """Articles stored but not linked yet (an ingest interrupted before linking, or one
        run without it), oldest first: the next linking ingest takes them along."""
        a = schema.articles
        with self.read() as conn:
            q = select(a.c.id).where(a.c.linked == false()).order_by(a.c.seq)
            return [r.id for r in conn.execute(q)]

    def count(self, table: str = "articles") -> int:
        with self.read() as conn:
            return int(
                conn.execute(select(func.count()).select_from(schema.TABLES[table])).scalar_one()
            )

    def article(self, article_id: str) -> dict[str, Any]:
        """One article by id (or unique id prefix); raises NotFound."""
        a = schema.articles
        with self.read() as conn:
            row = conn.execute(select(a).where(a.c.id == article_id)).mappings().first()
            if row is None and len(article_id) >= 4:
                rows = (
                    conn.execute(select(a).where(a.c.id.startswith(article_id)).limit(2))
                    .mappings()
                    .all()
                )
                row = rows[0] if len(rows) == 1 else None
        if row is None:
            raise NotFound(f"no article with id {article_id!r}")
        return dict(row)

    def articles(
        self,
        *,
        limit: int | None = None,
        offset: int = 0,
        outlet: str | None = None,
        since: str | None = None,
        until: str | None = None,
        with_text: bool = False,
    ) -> list[dict[str, Any]]:
        a = schema.articles
        cols = [c for c in a.c if with_text or c.name not in ("text", "removed")]
        q = select(*cols).order_by(a.c.seq)
        if outlet:
            q = q.where(func.lower(a.c.outlet) == outlet.lower())
        if since:
            q = q.where(a.c.pub_date >= since)
        if until:
            q = q.where(a.c.pub_date <= until)
        if limit is not None:
            q = q.limit(limit).offset(offset)
        with self.read() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def relations_of(self, conn: Connection, ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        r = schema.relations
        out: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
        if not ids:
            return out
        for row in conn.execute(select(r).where(r.c.article_id.in_(list(ids)))).mappings():
            out[row["article_id"]].append(dict(row))
        return out

    def search(self, query: str, *, limit: int = 20) -> list[dict[str, Any]]:
        """Full-text search over titles and texts, best first, with a snippet."""
        from .search import search_articles

        with self.read() as conn:
            return search_articles(conn, self.dialect, query, limit=limit)

    def stats(self) -> dict[str, Any]:
        a = schema.articles
        with self.read() as conn:
            out: dict[str, Any] = {
                name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                for name, t in (
                    ("articles", a),
                    ("entities", schema.entities),
                    ("events", schema.events),
                    ("quotes", schema.quotes),
                    ("stories", schema.stories),
                )
            }
            out["outlets"] = int(
                conn.execute(select(func.count(func.distinct(a.c.outlet)))).scalar_one()
            )
            span = conn.execute(select(func.min(a.c.pub_date), func.max(a.c.pub_date))).first()
            out["first_date"], out["last_date"] = (span[0], span[1]) if span else (None, None)
            out["undated"] = int(
                conn.execute(select(func.count()).where(a.c.pub_date.is_(None))).scalar_one()
            )
        return out


def source_key(art: Article) -> str:
    return art.source if art.record is None else f"{art.source}#{art.record}"


def article_row(art: Article, seq: int, batch_id: int | None) -> dict[str, Any]:
    return {
        "id": art.id,
        "seq": seq,
        "source": art.source,
        "record": art.record,
        "source_key": source_key(art),
        "content_hash": art.content_hash,
        "version": art.version,
        "supersedes": art.supersedes,
        "url": art.url,
        "title": art.title,
        "outlet": art.outlet,
        "outlet_source": art.outlet_source,
        "pub_date": art.pub_date,
        "pub_date_source": art.pub_date_source,
        "pub_date_precision": art.pub_date_precision,
        "language": art.language,
        "text": art.text,
        "words": art.words,
        "is_article": art.is_article,
        "removed": [
            {"text": r.text, "reason": r.reason, "position": r.position} for r in art.removed
        ],
        "notes": list(art.notes),
        "annotated": False,
        "linked": False,
        "batch_id": batch_id,
        "ingested_at": now(),
    }


def _fields(obj: Any) -> dict[str, Any]:
    """A record's fields as a row, leaving out the ones the table does not store."""
    from dataclasses import fields

    out = {}
    for f in fields(obj):
        if f.name == "index":
            continue
        out[f.name] = getattr(obj, f.name)
    return out


def _store_error(exc: SQLAlchemyError, location: str) -> StoreError:
    msg = str(getattr(exc, "orig", exc)).splitlines()[0]
    low = msg.lower()
    if "readonly" in low or "read-only" in low or "read only" in low:
        return ReadOnlyStore(f"{location} is read-only ({msg})")
    if "not a database" in low or "file is encrypted" in low:
        return NotAStore(f"{location} is not a Storyline store ({msg})")
    if "database is locked" in low:
        return StoreError(f"{location} is locked by another writer; try again")
    return StoreError(f"store error in {location}: {msg}")
