"""The store, on both backends: real SQLite files and a real PostgreSQL server."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storyline.errors import NotAStore, ReadOnlyStore, StoreError
from storyline.pipeline import ingest
from storyline.records import Annotations, Sentence, Timex
from storyline.store import open_store, schema

BODY = (
    "The council voted on {topic} on Tuesday after a long debate in the chamber. "
    "Members said the decision on {topic} would take effect next month.\n\n"
    "Opponents of the {topic} plan promised to challenge it in court, officials said."
)


def write_articles(folder: Path, n: int, prefix: str = "a") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        p = folder / f"{prefix}{i:04d}.txt"
        p.write_text(
            f"Council decides on item {prefix}{i}\n\n" + BODY.format(topic=f"item {prefix}{i}")
        )
        paths.append(p)
    return paths


def test_ingest_skip_and_new_version(any_store, tmp_path):
    write_articles(tmp_path / "in", 3)
    r1 = ingest(any_store, [str(tmp_path / "in")], annotate=False, link=False, progress=False)
    assert len(r1.added) == 3
    r2 = ingest(any_store, [str(tmp_path / "in")], annotate=False, link=False, progress=False)
    assert r2.added == [] and r2.skipped == 3
    changed = tmp_path / "in" / "a0001.txt"
    changed.write_text(changed.read_text() + "\n\nA correction was added later by the editors.")
    r3 = ingest(any_store, [str(tmp_path / "in")], annotate=False, link=False, progress=False)
    assert len(r3.added) == 1
    new = any_store.article(r3.added[0])
    assert new["version"] == 2
    old = any_store.article(new["supersedes"])
    assert old["source"] == new["source"] and old["version"] == 1
    assert "correction" in new["text"] and "correction" not in old["text"]
    assert any_store.count() == 4
    # a second change supersedes the latest version, not the first one
    changed.write_text(changed.read_text() + "\n\nA second correction followed a day later.")
    r4 = ingest(any_store, [str(tmp_path / "in")], annotate=False, link=False, progress=False)
    newest = any_store.article(r4.added[0])
    assert newest["version"] == 3 and newest["supersedes"] == new["id"]
    assert any_store.count() == 5


def test_batch_is_all_or_nothing(any_store):
    from storyline.extract import extract
    from storyline.records import RawDoc

    arts = [
        (
            extract(RawDoc(source=f"mem://{i}", data=f"Story number {i} happened today.".encode())),
            None,
        )
        for i in range(3)
    ]
    with pytest.raises(RuntimeError), any_store.transaction() as conn:
        any_store.add_articles(conn, arts)
        raise RuntimeError("crash in the middle of a batch")
    assert any_store.count() == 0
    with any_store.transaction() as conn:
        assert len(any_store.add_articles(conn, arts)) == 3
    assert any_store.count() == 3


def test_ctrl_c_during_a_statement_rolls_the_batch_back_and_frees_the_store(any_store, monkeypatch):
    """A KeyboardInterrupt raised as a statement returns (Ctrl-C while it ran) rolls the write
    back, and the next writer gets the store at once: it once waited 30 s on a closed SQLite
    connection that still held the write lock."""
    import sqlite3

    from storyline.extract import extract
    from storyline.records import RawDoc

    def arts(prefix: str) -> list:
        docs = [
            RawDoc(source=f"mem://{prefix}{i}", data=f"Story {prefix}{i} today.".encode())
            for i in range(3)
        ]
        return [(extract(d), None) for d in docs]

    with any_store.transaction() as conn:
        any_store.add_articles(conn, arts("a"))
    dialect = any_store.engine.dialect
    real = dialect.do_execute
    armed = []

    def interrupted(cursor, statement, parameters, context=None):
        real(cursor, statement, parameters, context)
        if armed and statement.lstrip().upper().startswith("SELECT"):
            raise KeyboardInterrupt

    monkeypatch.setattr(dialect, "do_execute", interrupted)
    with pytest.raises(KeyboardInterrupt), any_store.transaction() as conn:
        any_store.add_articles(conn, arts("b"))
        armed.append(True)
        conn.execute(select(schema.articles.c.id)).fetchall()  # rows left to read
    armed.clear()
    if any_store.dialect == "sqlite":
        other = sqlite3.connect(any_store.location, timeout=1)
        other.execute("BEGIN IMMEDIATE")  # "database is locked" after 1 s if a lock is left
        other.rollback()
        other.close()
    assert any_store.count() == 3
    with any_store.transaction() as conn:
        assert len(any_store.add_articles(conn, arts("b"))) == 3
    assert any_store.count() == 6


def test_annotations_round_trip_and_replace(any_store):
    from storyline.extract import extract
    from storyline.records import RawDoc

    art = extract(RawDoc(source="mem://x", data=b"Leaders met on Thursday. They agreed."))
    ann = Annotations(
        article_id=art.id,
        sentences=[
            Sentence(0, 0, 24, "Leaders met on Thursday."),
            Sentence(1, 25, 37, "They agreed."),
        ],
        timexes=[Timex(15, 23, "Thursday", "DATE", "2022-09-15", 0)],
    )
    with any_store.transaction() as conn:
        any_store.add_articles(conn, [(art, ann)])
    with any_store.read() as conn:
        rows = conn.execute(select(schema.timexes)).mappings().all()
        assert [(r["text"], r["value"], r["sentence"]) for r in rows] == [
            ("Thursday", "2022-09-15", 0)
        ]
        assert conn.execute(select(schema.articles.c.annotated)).scalar_one()
    ann.timexes = []
    with any_store.transaction() as conn:
        any_store.save_annotations(conn, [ann])
    with any_store.read() as conn:
        assert conn.execute(select(func.count()).select_from(schema.timexes)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(schema.sentences)).scalar_one() == 2


def test_full_text_search_ranks_title_matches(any_store, tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "1.txt").write_text(
        "Harbour bridge reopens\n\nThe harbour bridge reopened to traffic on Monday after repairs."
    )
    (folder / "2.txt").write_text(
        "Budget talks stall\n\nCouncil members argued about the budget; one mentioned a bridge."
    )
    ingest(any_store, [str(folder)], annotate=False, link=False, progress=False)
    hits = any_store.search("bridge")
    assert [h["title"] for h in hits][0] == "Harbour bridge reopens"
    assert len(hits) == 2
    assert "[" in hits[0]["snippet"]
    assert any_store.search("nonexistentword") == []
    assert any_store.search('"budget talks"')[0]["title"] == "Budget talks stall"


def _worker(url: str, folder: str) -> int:
    s = open_store(url)
    r = ingest(s, [folder], annotate=False, link=False, progress=False, workers=1)
    s.close()
    return len(r.added)


def test_concurrent_ingest_loses_and_duplicates_nothing(store_url, tmp_path):
    """Three processes ingest overlapping folders at once: every article stored exactly once."""
    shared = write_articles(tmp_path / "shared", 40, "s")
    dirs = []
    for w in range(3):
        d = tmp_path / f"w{w}"
        write_articles(d, 20, f"w{w}-")
        for p in shared:  # every worker also reads the same 40 shared files
            (d / p.name).symlink_to(p)
        dirs.append(str(d))
    open_store(store_url).close()  # create the schema once, before the race
    ctx = mp.get_context("spawn")
    with ctx.Pool(3) as pool:
        added = pool.starmap(_worker, [(store_url, d) for d in dirs])
    s = open_store(store_url)
    with s.read() as conn:
        a = schema.articles
        total = conn.execute(select(func.count()).select_from(a)).scalar_one()
        distinct = conn.execute(
            select(func.count(func.distinct(a.c.source_key + a.c.content_hash)))
        ).scalar_one()
    s.close()
    # symlinked files resolve to the same source path, so the 40 shared ones count once
    assert total == distinct == 40 + 3 * 20
    assert sum(added) == total


def test_sqlite_store_errors_are_typed(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"PK\x03\x04 not a database at all")
    with pytest.raises(NotAStore):
        open_store(bad)
    good = tmp_path / "good.db"
    open_store(good).close()
    ro = open_store(good, read_only=True)
    with pytest.raises(ReadOnlyStore), ro.transaction():
        pass
    ro.close()
    good.chmod(0o444)
    try:
        import os

        if os.geteuid() != 0:  # root ignores file permissions
            with pytest.raises(ReadOnlyStore):
                open_store(good)
    finally:
        good.chmod(0o644)
    with pytest.raises(StoreError):
        open_store(tmp_path)  # a folder


def test_export_same_on_both_backends(store_url, tmp_path):
    from storyline.export import build_document

    write_articles(tmp_path / "e", 4)
    s = open_store(store_url)
    ingest(s, [str(tmp_path / "e")], annotate=False, link=False, progress=False)
    doc = build_document(s)
    s.close()
    assert [a["title"] for a in doc["articles"]] == [
        f"Council decides on item a{i}" for i in range(4)
    ]
    assert set(doc) == {"articles", "events", "quotes", "entities", "stories"}


@pytest.mark.model
def test_linking_the_sample_corpus_gives_the_same_chronicle_on_both_backends(
    pg_url, demo_export, tmp_path
):
    """The link stage batches its writes and reads through in-memory overlays; whatever the
    backend, the events, quotes (with their utterance groups), entities and stories must be
    the same as SQLite's."""
    import json

    from conftest import DEMO, _fresh_pg

    from storyline.export import build_document

    _fresh_pg(pg_url)
    s = open_store(pg_url)
    try:
        ingest(s, [str(DEMO)], progress=False)
        doc = json.loads(json.dumps(build_document(s)))
    finally:
        s.close()

    def comparable(d: dict) -> dict:
        return {k: v for k, v in d.items() if k not in ("ingested_at", "batch_id", "source")}

    for part in ("events", "quotes", "entities", "stories"):
        assert [comparable(x) for x in doc[part]] == [comparable(x) for x in demo_export[part]], (
            part
        )
