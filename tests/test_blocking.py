"""Blocking for linking at scale: the indexed look-ups that keep a batch's cost off the store size.

Real SQLite stores throughout; no model is needed.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from sqlalchemy import insert, inspect, select, text

from storyline.link import embed
from storyline.link.articles import SEQ_HITS
from storyline.link.entities import _store_surnames, person_key_rows
from storyline.link.events import (
    BUCKET_DAYS,
    WIDE,
    _blocked_query,
    _create,
    blocked_events,
    buckets,
    index_event,
    next_seq,
)
from storyline.link.utterances import similar, similar_many
from storyline.store import open_store, schema
from storyline.store.migrations import LATEST
from storyline.tell.stories import STORY_ARTICLES

D = date(2022, 9, 15)


@pytest.fixture
def store(any_store):  # SQLite and PostgreSQL (conftest)
    return any_store


def _event(conn, eid: str, actors: list[str], when: tuple[date, date] | None, dated=True):
    conn.execute(
        insert(schema.events).values(
            id=eid, seq=next_seq(conn, schema.events), type="CONSULT", title=eid, status="happened"
        )
    )
    index_event(conn, eid, "CONSULT", actors, when, dated=dated)


def test_buckets_cover_the_span_and_wide_is_one_bucket():
    lo, hi = D.toordinal(), (D + timedelta(days=40)).toordinal()
    got = buckets(lo, hi)
    assert got[0] == lo // BUCKET_DAYS and got[-1] == hi // BUCKET_DAYS
    assert got == list(range(got[0], got[-1] + 1))
    assert buckets(0, 10**7) == [WIDE]


def test_events_are_found_by_shared_actor_and_nearby_time_only(store):
    day = (D - timedelta(days=1), D + timedelta(days=1))
    with store.transaction() as conn:
        _event(conn, "ev-samarkand", ["per:xi", "per:putin"], day)
        _event(conn, "ev-2024", ["per:xi", "per:putin"], (date(2024, 5, 15), date(2024, 5, 17)))
        _event(conn, "ev-other", ["per:erdogan"], day)
        _event(conn, "ev-undated", ["per:putin"], None, dated=False)  # may lie anywhere
        _event(conn, "ev-nobody", [], day)
        week = (D - timedelta(days=7), D)
        found = blocked_events(conn, ["per:xi"], week, fam="consult")
        assert set(found) == {"ev-samarkand"}
        assert set(blocked_events(conn, ["per:putin"], week, fam="consult")) == {
            "ev-samarkand",
            "ev-undated",
        }
        assert blocked_events(conn, ["per:xi"], week, fam="fight") == {}
        # an actor-less mention meets only actor-less (dated) events
        assert set(blocked_events(conn, [""], week, fam="consult", dated_only=True)) == {
            "ev-nobody"
        }
        # open-ended: the latest events of the actor, whatever their date
        assert set(blocked_events(conn, ["per:xi"], None)) == {"ev-samarkand", "ev-2024"}


def test_a_busy_actor_gives_its_nearest_events_when_more_match_than_the_cap(store):
    with store.transaction() as conn:
        for i in range(12):  # one event per 16-day bucket, back from D, two actors each
            day = D - timedelta(days=BUCKET_DAYS * i)
            _event(conn, f"ev-{i:02d}", ["country:us", f"per:p{i % 2}"], (day, day))
        _event(conn, "ev-anytime", ["country:us"], None, dated=False)  # the wide bucket
        span = (D - timedelta(days=BUCKET_DAYS * 12), D)
        few = blocked_events(conn, ["country:us"], span, fam="consult", limit=100)
        assert len(few) == 13  # under the cap: all of them, from one probe
        capped = blocked_events(conn, ["country:us", "per:p0"], span, fam="consult", limit=4)
        # over the cap: the events of the latest weeks win, as an ordered query would give
        latest = sorted(few, key=lambda e: -few[e][0])
        got = sorted(capped, key=lambda e: -capped[e][0])
        assert len(capped) <= 4 and got == [e for e in latest if e in capped]
        assert capped[got[-1]][0] >= few[latest[3]][0]
        assert "ev-anytime" not in capped  # the wide bucket comes after every dated one
        # a range of more than 64 buckets takes the same path
        long = (D - timedelta(days=3 * 365), D)
        far = blocked_events(conn, ["country:us"], long, fam="consult", limit=3)
        assert {"ev-00", "ev-01", "ev-02"} <= set(far) and "ev-anytime" in far


@pytest.mark.parametrize("per_statement", [1, 50])
def test_a_single_name_that_hundreds_carry_stands_for_nobody(any_store, monkeypatch, per_statement):
    """Each key's rows are capped on their own, in one statement or several."""
    from storyline.link import entities

    monkeypatch.setattr(entities, "MAX_NAMESAKES", 3)
    monkeypatch.setattr(entities, "NAMESAKES_PER_STATEMENT", per_statement)
    with any_store.transaction() as conn:
        rows = person_key_rows("per:ann-jordan", "Ann Jordan")
        for i, first in enumerate(["Kim", "Lee", "Max"]):
            rows += person_key_rows(f"per:jordan-{i}", f"Jordan Test{first}")
        rows += person_key_rows("per:eve-moss", "Eve Moss")
        conn.execute(insert(schema.person_keys), rows)
        got = _store_surnames(conn, {"jordan", "moss"})
    assert got["moss"] == "eve moss"
    assert got["jordan"] is None  # four people carry it: too many to say which


def test_reindexing_an_event_replaces_its_rows(store):
    with store.transaction() as conn:
        _event(conn, "ev-a", ["per:xi"], (D, D))
        index_event(conn, "ev-a", "CONSULT", ["per:li"], (D, D), dated=True)
        ea = schema.event_actors
        who = {r.entity_id for r in conn.execute(select(ea.c.entity_id))}
    assert who == {"per:li"}


def test_an_event_created_and_reindexed_in_one_transaction_keeps_only_its_last_rows(store):
    """A new event's first blocking rows are written without a delete (it has none yet); the
    next rewrite in the same transaction must still replace them."""
    m = dict(id="em-1", type="CONSULT", mode=None, status="happened", timex=0, trigger="met")
    m.update(date=D.isoformat(), date_end=None, precision="day", article_id="a1")
    m.update(pub_date=D.isoformat(), outlet=None, location=None, actor_ids=["per:xi"])
    m.update(actors=["Xi Jinping"], targets=[])
    ea = schema.event_actors
    with store.transaction() as conn:
        eid = _create(conn, m)
        index_event(conn, eid, "CONSULT", ["per:xi"], (D, D), dated=True)
        index_event(conn, eid, "CONSULT", ["per:li", "per:xi"], (D, D + timedelta(days=40)), True)
    with store.read() as conn:
        rows = conn.execute(select(ea.c.entity_id, ea.c.bucket).where(ea.c.event_id == eid)).all()
    span = buckets(D.toordinal(), (D + timedelta(days=40)).toordinal())
    assert sorted(rows) == sorted((who, b) for who in ("per:li", "per:xi") for b in span)


def test_postgresql_plans_each_lookup_for_its_values(pg_url):
    """A generic plan of the capped blocking look-up was 15x slower than a custom one."""
    store = open_store(pg_url)
    try:
        with store.read() as conn:
            assert conn.exec_driver_sql("SHOW plan_cache_mode").scalar() == "force_custom_plan"
    finally:
        store.close()


def test_surnames_resolve_by_lookup_and_never_guess_between_two_people(any_store):
    with any_store.transaction() as conn:
        rows = person_key_rows("per:xi-jinping", "Xi Jinping")
        rows += person_key_rows("per:john-smith", "John Smith")
        rows += person_key_rows("per:anna-smith", "Anna Smith")
        conn.execute(insert(schema.person_keys), rows)
        got = _store_surnames(conn, {"xi", "jinping", "smith", "nobody"})
    assert got["xi"] == "xi jinping" and got["jinping"] == "xi jinping"
    assert got["smith"] is None  # two Smiths: do not merge
    assert "nobody" not in got


def test_an_old_store_is_migrated_and_its_events_blocked(tmp_path):
    path = tmp_path / "old.db"
    s = open_store(path)
    with s.transaction() as conn:  # make it look like a schema-1 store holding one event
        for t in ("event_actors", "person_keys", "key_df"):
            conn.execute(text(f"DROP TABLE {t}"))
        conn.execute(text("DROP INDEX ix_utterances_speaker_day"))
        conn.execute(text("ALTER TABLE utterances DROP COLUMN day_first"))
        conn.execute(text("ALTER TABLE utterances DROP COLUMN day_last"))
        conn.execute(text("ALTER TABLE embeddings DROP COLUMN terms"))
        conn.execute(text("ALTER TABLE embeddings DROP COLUMN names"))
        conn.execute(text("UPDATE meta SET value = '1' WHERE key = 'schema_version'"))
        conn.execute(
            insert(schema.events).values(
                id="ev-old",
                seq=1,
                type="CONSULT",
                title="Putin and Xi meet",
                status="happened",
                date="2022-09-15",
                precision="day",
                actors=["per:vladimir-putin"],
            )
        )
        conn.execute(
            insert(schema.entities).values(
                id="per:vladimir-putin", name="Vladimir Putin", type="PERSON", mentions=1
            )
        )
    s.close()
    s = open_store(path)  # migrates to the latest schema
    with s.read() as conn:
        version = conn.execute(text("SELECT value FROM meta WHERE key='schema_version'")).scalar()
        found = blocked_events(conn, ["per:vladimir-putin"], (D, D), fam="consult")
        surname = _store_surnames(conn, {"putin"})
        cols = {c["name"] for c in inspect(conn).get_columns("embeddings")}
    s.close()
    assert int(version) == LATEST
    assert {"terms", "names"} <= cols  # the columns it lacked are back
    assert set(found) == {"ev-old"}
    assert surname == {"putin": "vladimir putin"}


def _vectors(n: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, embed.DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_vector_index_saves_a_delta_and_folds_it_in(tmp_path, monkeypatch):
    path = str(tmp_path / "s.db.ann.usearch")
    a, b = _vectors(30, 1), _vectors(5, 2)
    idx = embed.VectorIndex(path)
    idx.add(np.arange(1, 31, dtype=np.uint64), a)
    idx.save()  # first save: everything in the main file
    idx.add(np.arange(31, 36, dtype=np.uint64), b)
    idx.save()  # later saves: only the delta
    assert len(idx.main) == 30 and len(idx.delta) == 5

    again = embed.VectorIndex(path)
    again.sync(35, lambda: pytest.fail("must load the files, not rebuild"))
    assert len(again) == 35
    hit = again.search(b[:1], 3)[0]
    assert hit[0][0] == 31 and hit[0][1] > 0.99  # a delta vector is found as itself

    monkeypatch.setattr(embed.VectorIndex, "MERGE_MIN", 1)
    again.remove(np.array([31], dtype=np.uint64))
    again.add(np.array([31], dtype=np.uint64), b[:1])
    again.save()  # the delta (5 >= 10% of 30) is folded into the main index
    assert len(again.main) == 35 and len(again.delta) == 0
    third = embed.VectorIndex(path)
    third.sync(35, lambda: pytest.fail("must load the files, not rebuild"))
    assert third.search(a[:1], 1)[0][0][0] == 1


def test_vector_index_rebuilds_when_the_table_disagrees(tmp_path):
    path = str(tmp_path / "s.db.ann.usearch")
    idx = embed.VectorIndex(path)
    idx.add(np.arange(1, 4, dtype=np.uint64), _vectors(3, 3))
    idx.save()
    fresh = embed.VectorIndex(path)
    keys, vecs = np.arange(1, 6, dtype=np.uint64), _vectors(5, 4)
    fresh.sync(5, lambda: (keys, vecs))  # the table holds 5: the files are stale
    assert len(fresh) == 5


@pytest.mark.parametrize(
    "text",
    [
        "We will never accept this",
        "no",
        "",
        "China and Russia are friends forever and ever",
        "The meeting was productive and useful for both sides",
    ],
)
def test_vectorised_quote_similarity_equals_the_pairwise_one(text):
    from storyline.link.entities import fold

    others = [
        "we will never accept this deal, he said",
        "friends forever",
        "",
        "China and Russia are friends, forever",
        "the talks were productive",
        text,
    ]
    got = similar_many(fold(text), [fold(o) for o in others])
    want = [similar(text, o) for o in others]
    assert got == pytest.approx(want, abs=1e-9)
    # with a cutoff: what reaches it is exact, what does not stays below it
    cut = similar_many(fold(text), [fold(o) for o in others], 80.0)
    assert [c for c, w in zip(cut, want, strict=True) if w >= 80] == [w for w in want if w >= 80]
    assert all(c < 80 for c, w in zip(cut, want, strict=True) if w < 80)


def test_a_server_store_keeps_its_ann_index_in_the_local_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("STORYLINE_CACHE", str(tmp_path / "cache"))
    url = "postgresql://u:secret@db.example/news"
    path = embed.index_path(url, "postgresql")
    assert path.startswith(str(tmp_path / "cache" / "ann"))
    assert "secret" not in path  # named by a hash: no password in a file name
    assert embed.index_path("/data/news.db", "sqlite") == "/data/news.db.ann.usearch"


def test_linkers_of_one_store_are_serialised(any_store):
    """A second linker waits for the first one's transaction (advisory lock on PostgreSQL,
    BEGIN IMMEDIATE on SQLite)."""
    import threading
    import time

    order: list[str] = []

    def second() -> None:
        with any_store.transaction() as conn:
            any_store.lock_linking(conn)
            order.append("second")

    with any_store.transaction() as conn:
        any_store.lock_linking(conn)
        t = threading.Thread(target=second)
        t.start()
        time.sleep(0.5)  # the second linker is blocked meanwhile
        order.append("first")
    t.join(timeout=30)
    assert order == ["first", "second"]


def test_the_cap_counts_only_events_that_overlap_the_window(store):
    """A crowded bucket (hundreds of events on other days of the same 16 days) must not
    crowd out the one event on the mention's day."""
    start = D - timedelta(days=D.toordinal() % BUCKET_DAYS)  # first day of D's bucket
    target = start + timedelta(days=8)
    with store.transaction() as conn:
        _event(conn, "ev-that-day", ["country:us"], (target, target))  # stored first
        for i in range(60):
            day = start + timedelta(days=i % 4)  # the bucket's first four days
            _event(conn, f"ev-crowd-{i:03d}", ["country:us"], (day, day))
        found = blocked_events(conn, ["country:us"], (target, target), fam="consult", limit=10)
    assert set(found) == {"ev-that-day"}


def test_blocking_reads_only_a_covering_index_and_old_indexes_are_replaced(tmp_path):
    path = tmp_path / "v2.db"
    s = open_store(path)
    with s.transaction() as conn:  # a schema-2 store: the blocking indexes before covering
        conn.execute(text("DROP INDEX ix_event_actors_cover"))
        conn.execute(text("DROP INDEX ix_event_actors_cover_any"))
        conn.execute(
            text("CREATE INDEX ix_event_actors_block ON event_actors (entity_id, family, bucket)")
        )
        conn.execute(
            text("CREATE INDEX ix_event_actors_bucket ON event_actors (entity_id, bucket)")
        )
        conn.execute(text("UPDATE meta SET value = '2' WHERE key = 'schema_version'"))
    s.close()
    s = open_store(path)
    values = dict(keys=["country:us", ""], key="country:us", fam="consult", lim=10)
    values.update(b_lo=1, b_hi=2, bks=[-1, 1, 2], lo=20, hi=30)
    with s.read() as conn:
        names = {ix["name"] for ix in inspect(conn).get_indexes("event_actors")}
        plans = []
        for kind in ("buckets", "range", "key_range", "latest"):
            for by_family in (True, False):
                q = _blocked_query(kind, by_family, True, ordered=kind != "buckets")
                sql = q.params(values).compile(conn, compile_kwargs={"literal_binds": True})
                plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
                plans.append(" ".join(str(r[-1]) for r in plan))
    s.close()
    assert {"ix_event_actors_cover", "ix_event_actors_cover_any"} <= names
    assert not {"ix_event_actors_block", "ix_event_actors_bucket"} & names
    assert all("COVERING INDEX" in p for p in plans), plans


def test_story_counts_and_vector_hits_read_covering_indexes_that_replace_the_old(tmp_path):
    path = tmp_path / "v3.db"
    s = open_store(path)
    with s.transaction() as conn:  # a schema-3 store: the single-column indexes
        conn.execute(text("DROP INDEX ix_event_mentions_event"))
        conn.execute(text("CREATE INDEX ix_event_mentions_event_id ON event_mentions (event_id)"))
        conn.execute(text("DROP INDEX ix_articles_seq_day"))
        conn.execute(text("CREATE INDEX ix_articles_seq ON articles (seq)"))
        conn.execute(text("UPDATE meta SET value = '3' WHERE key = 'schema_version'"))
    s.close()
    s = open_store(path)
    with s.read() as conn:
        names = {
            ix["name"]
            for t in ("event_mentions", "articles")
            for ix in inspect(conn).get_indexes(t)
        }
        plans = []
        for q in (STORY_ARTICLES.params(sid="st-x"), SEQ_HITS.params(seqs=[1, 2])):
            sql = q.compile(conn, compile_kwargs={"literal_binds": True})
            plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")
            plans.append(" ".join(str(r[-1]) for r in plan))
    s.close()
    assert {"ix_event_mentions_event", "ix_articles_seq_day"} <= names
    assert not {"ix_event_mentions_event_id", "ix_articles_seq"} & names
    assert "COVERING INDEX ix_event_mentions_event" in plans[0], plans
    assert "COVERING INDEX ix_articles_seq_day" in plans[1], plans


def test_names_prefetched_for_a_batch_resolve_as_before_without_more_lookups(any_store):
    """One look-up for a batch's names (a round trip each on PostgreSQL), same answers."""
    from sqlalchemy import event

    from storyline.link.entities import EntityIndex, prefetch_names, resolve

    with any_store.transaction() as conn:
        conn.execute(
            insert(schema.entities),
            [
                dict(id="per:vladimir-putin", name="Vladimir Putin", type="PERSON", mentions=3),
                dict(id="org:nato", name="NATO", type="ORG", mentions=2),
            ],
        )
        keys = person_key_rows("per:vladimir-putin", "Vladimir Putin")
        conn.execute(insert(schema.person_keys), keys)  # "Putin" stands for him
    names = [("a1", "Putin"), ("a1", "NATO"), ("a2", "Jane Nobody"), ("a2", "Moss"), ("a2", "")]
    with any_store.transaction() as conn:
        one_by_one = {n: resolve(conn, EntityIndex(), a, n) for a, n in names}
        index = EntityIndex()
        index.add("a2", "Moss", "per:eve-moss")  # named in its own article: not looked up
        prefetch_names(conn, index, names)
        statements: list[str] = []
        event.listen(conn, "before_cursor_execute", lambda *a: statements.append(a[2]))
        batched = {n: resolve(conn, index, a, n) for a, n in names}
    assert one_by_one["Putin"] == "per:vladimir-putin" and one_by_one["NATO"] == "org:nato"
    assert one_by_one["Jane Nobody"] is None
    assert batched == {**one_by_one, "Moss": "per:eve-moss"}
    assert statements == []


def test_the_same_batches_give_the_same_vector_neighbours():
    """The ANN graph must not depend on thread timing: the same input, the same relations."""
    first, second, queries = _vectors(1500, 1), _vectors(1500, 2), _vectors(200, 3)
    found = []
    for _ in range(2):
        index = embed.VectorIndex(None)
        index.add(np.arange(1500), first)
        index.add(np.arange(1500, 3000), second)
        found.append(index.search(queries, 20))
    assert found[0] == found[1]


def test_a_fold_in_gives_the_same_vector_neighbours(tmp_path, monkeypatch):
    """Folding the delta into the main index (every 10% of growth) is deterministic too: two
    stores fed the same batches stay alike past their first fold-in."""
    monkeypatch.setattr(embed.VectorIndex, "MERGE_MIN", 1000)
    batches = [_vectors(1500, seed) for seed in (1, 2, 3)]
    queries = _vectors(200, 4)
    found = []
    for run in range(2):
        index = embed.VectorIndex(str(tmp_path / f"run{run}.ann"))
        for i, vecs in enumerate(batches):
            index.add(np.arange(i * 1500, (i + 1) * 1500), vecs)
            index.save()
        assert len(index.main) == 4500 and len(index.delta) == 0  # folded in after each batch
        found.append(index.search(queries, 20))
    assert found[0] == found[1]
