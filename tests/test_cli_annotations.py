"""The ``entities``, ``quotes`` and ``events`` verbs, run as the real command on real stores."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import run_cli

ARTICLES = {
    "visit.txt": (
        "Xi to visit Moscow\n\nPublished: 2023-03-17\n\n"
        "Chinese President Xi Jinping will visit Moscow next week, the Kremlin said on Friday. "
        "Mr Xi will hold talks with Russian President Vladimir Putin, Kremlin spokesman Dmitry "
        'Peskov told reporters.\n\n"The visit will strengthen our partnership," Peskov said. '
        "Putin said he looked forward to meeting the Chinese leader.\n"
    ),
    "summit.txt": (
        "Leaders meet in Samarkand\n\nPublished: 2022-09-15\n\n"
        "Russian President Vladimir Putin met Chinese President Xi Jinping in Samarkand, "
        'Uzbekistan, on Thursday. "We are ready to work with Russia," Xi said. '
        "Washington criticised the meeting.\n"
    ),
}

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def unlinked_db(tmp_path_factory):
    """Two small generated articles, annotated but not linked."""
    from storyline.pipeline import ingest
    from storyline.store import open_store

    folder = tmp_path_factory.mktemp("news")
    for name, text in ARTICLES.items():
        (folder / name).write_text(text, encoding="utf-8")
    path = folder / "unlinked.db"
    store = open_store(path)
    report = ingest(store, [str(folder)], link=False, workers=1, progress=False)
    store.close()
    assert len(report.added) == 2
    return path


@pytest.fixture(scope="module")
def linked_db(unlinked_db, tmp_path_factory):
    """The same store after the link stage."""
    from storyline.link import link_new
    from storyline.store import open_store

    path = tmp_path_factory.mktemp("linked") / "linked.db"
    shutil.copy(unlinked_db, path)
    store = open_store(path)
    link_new(store, [a["id"] for a in store.articles()])
    store.close()
    return path


def cli_json(*args: str) -> object:
    res = run_cli(*args, "--json")
    assert res.returncode == 0, res.stderr.decode()
    return json.loads(res.stdout)


def test_entities_grouped_from_mentions_before_linking(unlinked_db) -> None:
    rows = cli_json("entities", "--db", str(unlinked_db))
    by = {(r["name"], r["type"]): r for r in rows}
    xi = by[("Xi Jinping", "PERSON")]
    assert xi["country"] == "CN" and xi["articles"] == 2
    assert "Xi" in xi["aliases"] and "the Chinese leader" in xi["aliases"]
    assert xi["mentions"] >= 4
    assert by[("Russia", "GOV")]["aliases"] == ["Kremlin"]  # the Kremlin as Russia's government
    assert by[("Samarkand", "GPE")]["country"] == "UZ"
    assert [r["mentions"] for r in rows] == sorted((r["mentions"] for r in rows), reverse=True)

    people = cli_json("entities", "--db", str(unlinked_db), "--type", "person", "--limit", "2")
    assert len(people) == 2 and {r["type"] for r in people} == {"PERSON"}

    text = run_cli("entities", "--db", str(unlinked_db))
    assert text.returncode == 0 and "not linked yet" in text.stdout.decode()


def test_entities_from_the_entities_table_after_linking(linked_db) -> None:
    rows = cli_json("entities", "--db", str(linked_db))
    assert rows and all({"id", "name", "type", "aliases", "mentions"} <= set(r) for r in rows)
    names = {r["name"] for r in rows}
    assert "Xi Jinping" in names and "Vladimir Putin" in names
    xi = next(r for r in rows if r["name"] == "Xi Jinping")
    assert xi["country"] == "CN" and "Xi" in xi["aliases"]


def test_quotes_list_and_filter(unlinked_db) -> None:
    rows = cli_json("quotes", "--db", str(unlinked_db))
    assert rows, "the quotes component found nothing"
    assert all({"speaker", "kind", "text", "article", "utterance"} <= set(r) for r in rows)
    peskov = cli_json("quotes", "--db", str(unlinked_db), "--speaker", "peskov")
    assert peskov and all("peskov" in (r["speaker"] or "").lower() for r in peskov)
    assert len(peskov) < len(rows)
    none = cli_json("quotes", "--db", str(unlinked_db), "--speaker", "nobody-at-all")
    assert none == []


def test_quotes_grouped_by_utterance(unlinked_db) -> None:
    rows = cli_json("quotes", "--db", str(unlinked_db))
    groups = cli_json("quotes", "--db", str(unlinked_db), "--utterances")
    assert sum(g["n_quotes"] for g in groups) == len(rows)
    assert all(g["n_quotes"] == len(g["quotes"]) for g in groups)


def test_event_mentions_before_linking(unlinked_db) -> None:
    rows = cli_json("events", "--db", str(unlinked_db))
    assert rows, "the events component found nothing"
    for r in rows:
        assert {"type", "status", "date", "actors", "trigger", "sentence", "article"} <= set(r)
        assert r["trigger"].lower() in r["sentence"].lower()
    one = rows[0]
    shown = cli_json("events", one["id"], "--db", str(unlinked_db))
    assert shown["mention"]["id"] == one["id"]
    planned = cli_json("events", "--db", str(unlinked_db), "--status", "planned")
    assert all(r["status"] == "planned" for r in planned)


def test_events_after_linking_and_one_event_with_sources(linked_db) -> None:
    rows = cli_json("events", "--db", str(linked_db))
    assert rows and all({"id", "date", "type", "status", "title", "actors"} <= set(r) for r in rows)
    event = cli_json("events", rows[0]["id"], "--db", str(linked_db))
    assert event["id"] == rows[0]["id"]
    assert event["sources"] and all(s["sentence"] for s in event["sources"])
    text = run_cli("events", rows[0]["id"], "--db", str(linked_db))
    assert text.returncode == 0 and "sources" in text.stdout.decode()


def test_unknown_event_and_missing_store_are_one_line_errors(unlinked_db, tmp_path) -> None:
    res = run_cli("events", "no-such-event", "--db", str(unlinked_db))
    assert res.returncode == 5
    assert b"Traceback" not in res.stderr and b"no-such-event" in res.stderr
    res = run_cli("entities", "--db", str(tmp_path / "missing.db"))
    assert res.returncode == 5 and b"Traceback" not in res.stderr
    assert not (tmp_path / "missing.db").exists()  # read-only verbs never create a store
