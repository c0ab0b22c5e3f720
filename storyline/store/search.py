"""Full-text search: SQLite FTS5 or PostgreSQL's tsvector, same result shape."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, text


def fts5_query(query: str) -> str:
    """Make a user's words safe for FTS5: each word quoted, all must match; "phrases" kept."""
    phrases = re.findall(r'"([^"]+)"', query)
    rest = re.sub(r'"[^"]*"', " ", query)
    terms = [f'"{p.strip()}"' for p in phrases if p.strip()]
    terms += ['"' + w.replace('"', "") + '"' for w in re.findall(r"[\w'’-]+", rest)]
    return " ".join(terms)


def search_articles(
    conn: Connection, dialect: str, query: str, *, limit: int = 20
) -> list[dict[str, Any]]:
    if dialect == "sqlite":
        q = fts5_query(query)
        if not q:
            return []
        rows = conn.execute(
            text(
                "SELECT a.id, a.title, a.outlet, a.pub_date, "
                "snippet(articles_fts, 1, '[', ']', ' … ', 16) AS snippet, "
                "bm25(articles_fts, 5.0, 1.0) AS score "
                "FROM articles_fts JOIN articles a ON a.rowid = articles_fts.rowid "
                "WHERE articles_fts MATCH :q ORDER BY score LIMIT :limit"
            ),
            {"q": q, "limit": limit},
        ).mappings()
        return [dict(r) | {"score": -float(r["score"])} for r in rows]
    rows = conn.execute(
        text(
            "SELECT id, title, outlet, pub_date, "
            "ts_headline('english', text, q, 'StartSel=[,StopSel=],MaxWords=25,MinWords=10') AS snippet, "
            "ts_rank(to_tsvector('english', coalesce(title, '') || ' ' || text), q) AS score "
            "FROM articles, websearch_to_tsquery('english', :q) q "
            "WHERE to_tsvector('english', coalesce(title, '') || ' ' || text) @@ q "
            "ORDER BY score DESC LIMIT :limit"
        ),
        {"q": query, "limit": limit},
    ).mappings()
    return [dict(r) | {"score": float(r["score"])} for r in rows]
