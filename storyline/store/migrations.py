"""Schema versions. Each migration runs once, in order, inside the opening transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Connection, inspect, select

from . import schema

log = logging.getLogger(__name__)

SCHEMA_VERSION_KEY = "schema_version"


def _v1(conn: Connection, dialect: str) -> None:
    schema.metadata.create_all(conn)
    if dialect == "sqlite":
        conn.exec_driver_sql(
            "CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5("
            "title, text, content='articles', content_rowid='rowid', "
            "tokenize='porter unicode61 remove_diacritics 2')"
        )
    elif dialect == "postgresql":
        conn.exec_driver_sql(
            "CREATE INDEX IF NOT EXISTS ix_articles_fts ON articles USING GIN "
            "(to_tsvector('english', coalesce(title, '') || ' ' || text))"
        )


def _v2(conn: Connection, dialect: str) -> None:
    """Blocking tables for linking at scale: ``event_actors``, ``person_keys``, ``key_df``,
    utterance day ranges, and indexes on ``events.seq`` / ``stories.seq``; filled from the
    rows already stored, so an old store links new batches the same way a new one does."""
    from sqlalchemy import func, text

    from ..link.entities import person_key_rows
    from ..link.events import event_pub_spans, event_span, index_event
    from ..link.utterances import pub_day

    json_type = "JSONB" if dialect == "postgresql" else "JSON"
    for table, cols in (
        ("utterances", (("day_first", "INTEGER"), ("day_last", "INTEGER"))),
        ("embeddings", (("terms", json_type), ("names", json_type))),
    ):
        have = {c["name"] for c in inspect(conn).get_columns(table)}
        for col, kind in cols:
            if col not in have:
                conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {col} {kind}"))
    for table in (schema.event_actors, schema.person_keys, schema.key_df):
        table.create(conn, checkfirst=True)
    tables = (schema.articles, schema.events, schema.stories, schema.utterances)
    names = {ix["name"] for t in tables for ix in inspect(conn).get_indexes(t.name)}
    for table in tables:
        for ix in table.indexes:
            if ix.name not in names:
                ix.create(conn)
    ev, et, lk, ut = schema.events, schema.entities, schema.link_keys, schema.utterances
    if conn.execute(select(func.count()).select_from(schema.event_actors)).scalar_one() == 0:
        rows = (
            conn.execute(
                select(ev.c.id, ev.c.type, ev.c.actors, ev.c.date, ev.c.precision, ev.c.date_end)
            )
            .mappings()
            .all()
        )
        undated = [r["id"] for r in rows if not r["date"]]
        spans = event_pub_spans(conn, undated) if undated else {}
        for r in rows:
            where = event_span(dict(r), []) if r["date"] else spans.get(r["id"])
            actors = list(r["actors"] or [])
            index_event(conn, r["id"], r["type"], actors, where, dated=bool(r["date"]))
    if conn.execute(select(func.count()).select_from(schema.person_keys)).scalar_one() == 0:
        keys = [
            k
            for r in conn.execute(select(et.c.id, et.c.name).where(et.c.type == "PERSON"))
            for k in person_key_rows(r.id, r.name)
        ]
        for i in range(0, len(keys), 5000):
            conn.execute(schema.person_keys.insert(), keys[i : i + 5000])
    if conn.execute(select(func.count()).select_from(schema.key_df)).scalar_one() == 0:
        q = (
            select(lk.c.kind, lk.c.key, func.count().label("df"))
            .where(lk.c.kind == "name")
            .group_by(lk.c.kind, lk.c.key)
        )
        dfs = [dict(r) for r in conn.execute(q).mappings()]
        for i in range(0, len(dfs), 5000):
            conn.execute(schema.key_df.insert(), dfs[i : i + 5000])
    qt, a = schema.quotes, schema.articles
    q = (
        select(qt.c.utterance_id, func.min(a.c.pub_date), func.max(a.c.pub_date))
        .join(a, a.c.id == qt.c.article_id)
        .where(qt.c.utterance_id.is_not(None), a.c.pub_date.is_not(None))
        .group_by(qt.c.utterance_id)
    )
    for uid, lo, hi in conn.execute(q).all():
        conn.execute(
            ut.update().where(ut.c.id == uid).values(day_first=pub_day(lo), day_last=pub_day(hi))
        )


def _v3(conn: Connection, dialect: str) -> None:
    """Covering indexes for event blocking (a look-up reads the index, not the table)."""
    from sqlalchemy import text

    have = {ix["name"] for ix in inspect(conn).get_indexes("event_actors")}
    for old in ("ix_event_actors_block", "ix_event_actors_bucket"):
        if old in have:
            conn.execute(text(f"DROP INDEX {old}"))
    for ix in schema.event_actors.indexes:
        if ix.name not in have:
            ix.create(conn)


def _v4(conn: Connection, dialect: str) -> None:
    """Covering indexes in place of two single-column ones: ``event_mentions (event_id,
    article_id)`` for a story's article count, ``articles (seq, id, pub_date)`` for the ANN
    index's hits. A story of thousands of events was counted by reading each mention's row,
    and each vector neighbour cost an article row: a random page apiece in a big store."""
    from sqlalchemy import text

    for table, old in (
        (schema.event_mentions, "ix_event_mentions_event_id"),
        (schema.articles, "ix_articles_seq"),
    ):
        have = {ix["name"] for ix in inspect(conn).get_indexes(table.name)}
        for ix in table.indexes:
            if ix.name not in have:
                ix.create(conn)
        if old in have:
            conn.execute(text(f"DROP INDEX {old}"))


# (version, what it does, function). Append; never edit a released migration.
MIGRATIONS: list[tuple[int, str, Callable[[Connection, str], None]]] = [
    (1, "initial schema", _v1),
    (2, "blocking tables for linking at scale", _v2),
    (3, "covering indexes for event blocking", _v3),
    (4, "covering indexes for story counts and vector neighbours", _v4),
]
LATEST = MIGRATIONS[-1][0]


def current_version(conn: Connection) -> int:
    if not inspect(conn).has_table("meta"):
        return 0
    row = conn.execute(
        select(schema.meta.c.value).where(schema.meta.c.key == SCHEMA_VERSION_KEY)
    ).first()
    return int(row[0]) if row else 0


def migrate(conn: Connection, dialect: str) -> int:
    """Bring the schema up to date; returns the version now in force."""
    version = current_version(conn)
    if version > LATEST:
        from ..errors import StoreError

        raise StoreError(
            f"store schema version {version} is newer than this Storyline ({LATEST}); upgrade it"
        )
    for number, what, fn in MIGRATIONS:
        if number > version:
            log.info("migrating store to schema %d (%s)", number, what)
            fn(conn, dialect)
            version = number
            _set(conn, version)
    return version


def _set(conn: Connection, version: int) -> None:
    m = schema.meta
    exists = conn.execute(select(m.c.key).where(m.c.key == SCHEMA_VERSION_KEY)).first()
    if exists:
        conn.execute(m.update().where(m.c.key == SCHEMA_VERSION_KEY).values(value=str(version)))
    else:
        conn.execute(m.insert().values(key=SCHEMA_VERSION_KEY, value=str(version)))
