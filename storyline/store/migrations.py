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


# (version, what it does, function). Append; never edit a released migration.
MIGRATIONS: list[tuple[int, str, Callable[[Connection, str], None]]] = [
    (1, "initial schema", _v1),
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
