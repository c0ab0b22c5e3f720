"""The web app's JSON API and pages, through FastAPI's TestClient over a real SQLite store.

The link stage's tables (entities, events, utterances, stories, relations) are filled here by
``seed_links`` with plain inserts into the real schema, so these tests do not depend on the
link stage's current output.
"""

from __future__ import annotations

import re
import shutil
import socket
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, update

from storyline.records import Annotations, Article, EventMention, Mention, Quote, Sentence
from storyline.store import open_store, schema

SAMARKAND = (
    "Russian President Vladimir Putin met Chinese leader Xi Jinping in Samarkand on Thursday. "
    '"We highly value the balanced position of our Chinese friends," Putin said.'
)
SAMARKAND_TASS = (
    "Vladimir Putin held talks with Xi Jinping in Samarkand on Thursday. "
    '"We greatly appreciate the balanced stance of our Chinese friends," Putin said.'
)
PLANNED = "Xi Jinping will visit Moscow next week, the Kremlin said on Monday."
HOSTILE_TITLE = "<script>document.title='pwned'</script> Breaking"
HOSTILE = (
    "Officials met on Tuesday. <script>document.body.dataset.pwned = 'yes'</script> "
    'Read more: <a href="javascript:alert(1)">javascript:alert(1)</a> and <img src=x onerror=alert(1)>'
)


def _sentences(text: str) -> list[Sentence]:
    out, start = [], 0
    for i, m in enumerate(re.finditer(r"[^.]+?[.!?](?:\"|”)?(?:\s|$)|[^.]+$", text)):
        s, e = m.start(), m.end()
        while e > s and text[e - 1].isspace():
            e -= 1
        out.append(Sentence(i, s, e, text[s:e]))
        start = e
    assert start
    return out


def _article(aid: str, text: str, title: str, outlet: str, date: str, url: str | None = None):
    return Article(
        id=aid,
        source=f"/corpus/{aid}.txt",
        content_hash=aid * 2,
        text=text,
        title=title,
        outlet=outlet,
        pub_date=date,
        pub_date_source="metadata",
        pub_date_precision="day",
        url=url,
    )


def _span(text: str, part: str) -> tuple[int, int]:
    i = text.index(part)
    return i, i + len(part)


def _quote_ann(aid: str, text: str, event_trigger: str, etype: str, status: str, date: str):
    sents = _sentences(text)
    ann = Annotations(article_id=aid, sentences=sents)
    for name, label, canon in (
        ("Putin", "PERSON", "Vladimir Putin"),
        ("Xi Jinping", "PERSON", "Xi Jinping"),
    ):
        if name in text:
            s, e = _span(text, name)
            ann.mentions.append(Mention(s, e, name, label, 0, canonical=canon))
    if '"' in text:
        s = text.index('"')
        e = text.index('"', s + 1) + 1
        sent = next(x.index for x in sents if x.start <= s < x.end)
        ann.quotes.append(
            Quote(
                s,
                e,
                text[s:e],
                "direct",
                sent,
                speaker="Putin",
                speaker_canonical="Vladimir Putin",
                channel="told reporters",
            )
        )
    s, e = _span(text, event_trigger)
    sent = next(x.index for x in sents if x.start <= s < x.end)
    ann.events.append(
        EventMention(event_trigger, s, e, sent, etype, status=status, date=date, precision="day")
    )
    return ann


def _insert_each(conn, table, rows) -> None:
    for row in rows:  # rows with different keys: one insert each
        conn.execute(insert(table).values(**row))


def seed(path: Path) -> dict[str, str]:
    """A small store with articles, annotations and link rows, through the real tables."""
    st = open_store(path)
    items = [
        (
            _article(
                "a1" * 8,
                SAMARKAND,
                "Putin and Xi meet in Samarkand",
                "Reuters",
                "2022-09-15",
                "https://example.com/samarkand",
            ),
            _quote_ann("a1" * 8, SAMARKAND, "met", "CONSULT", "happened", "2022-09-15"),
        ),
        (
            _article("a2" * 8, SAMARKAND_TASS, "Putin, Xi hold talks", "TASS", "2022-09-16"),
            _quote_ann("a2" * 8, SAMARKAND_TASS, "held talks", "CONSULT", "happened", "2022-09-15"),
        ),
        (
            _article("a3" * 8, PLANNED, "Xi to visit Moscow", "AP", "2023-03-13"),
            _quote_ann("a3" * 8, PLANNED, "visit", "CONSULT", "planned", "2023-03-20"),
        ),
        (
            _article(
                "a4" * 8,
                HOSTILE,
                HOSTILE_TITLE,
                "Evil Gazette",
                "2023-05-01",
                "javascript:alert(1)",
            ),
            Annotations(article_id="a4" * 8, sentences=_sentences(HOSTILE)),
        ),
    ]
    with st.transaction() as conn:
        st.add_articles(conn, items)
        conn.execute(
            insert(schema.entities),
            [
                {
                    "id": "ent-putin",
                    "name": "Vladimir Putin",
                    "type": "PERSON",
                    "country": "RU",
                    "aliases": ["Putin", "Russian President"],
                    "mentions": 3,
                },
                {
                    "id": "ent-xi",
                    "name": "Xi Jinping",
                    "type": "PERSON",
                    "country": "CN",
                    "aliases": ["Xi", "Chinese leader"],
                    "mentions": 3,
                },
            ],
        )
        conn.execute(
            insert(schema.stories),
            [
                {
                    "id": "story-rc",
                    "seq": 1,
                    "title": "Russia–China summits",
                    "date_start": "2022-09-15",
                    "date_end": "2023-03-22",
                    "n_events": 2,
                    "n_articles": 3,
                    "n_outlets": 3,
                },
                {
                    "id": "story-x",
                    "seq": 2,
                    "title": "Other story",
                    "date_start": "2023-05-01",
                    "date_end": "2023-05-01",
                    "n_events": 1,
                    "n_articles": 1,
                    "n_outlets": 1,
                },
            ],
        )
        _insert_each(
            conn,
            schema.events,
            [
                {
                    "id": "ev-samarkand",
                    "seq": 1,
                    "type": "CONSULT",
                    "mode": "meet",
                    "title": "Putin and Xi meet in Samarkand",
                    "date": "2022-09-15",
                    "precision": "day",
                    "status": "happened",
                    "status_history": [
                        {"status": "happened", "article": "a1" * 8, "date": "2022-09-15"}
                    ],
                    "location": "Samarkand",
                    "lat": 39.65,
                    "lon": 66.96,
                    "actors": ["ent-putin", "ent-xi"],
                    "story_id": "story-rc",
                    "n_articles": 2,
                    "n_outlets": 2,
                    "outlets": ["Reuters", "TASS"],
                },
                {
                    "id": "ev-moscow",
                    "seq": 2,
                    "type": "CONSULT",
                    "mode": "visit",
                    "title": "Xi visits Moscow",
                    "date": "2023-03-20",
                    "date_end": "2023-03-22",
                    "precision": "day",
                    "status": "happened",
                    "status_history": [
                        {"status": "planned", "article": "a3" * 8, "date": "2023-03-13"},
                        {"status": "happened", "article": None, "date": "2023-03-20"},
                    ],
                    "location": "Moscow",
                    "actors": ["ent-xi"],
                    "story_id": "story-rc",
                    "n_articles": 1,
                    "n_outlets": 1,
                    "outlets": ["AP"],
                },
                {
                    "id": "ev-other",
                    "seq": 3,
                    "type": "STATEMENT",
                    "title": HOSTILE_TITLE,
                    "date": "2023-05-01",
                    "precision": "day",
                    "status": "planned",
                    "actors": [],
                    "story_id": "story-x",
                    "n_articles": 1,
                    "n_outlets": 1,
                    "outlets": ["Evil Gazette"],
                },
            ],
        )
        em = schema.event_mentions
        for aid, ev in (
            ("a1" * 8, "ev-samarkand"),
            ("a2" * 8, "ev-samarkand"),
            ("a3" * 8, "ev-moscow"),
        ):
            conn.execute(update(em).where(em.c.article_id == aid).values(event_id=ev))
        conn.execute(
            insert(schema.utterances),
            [
                {
                    "id": "utt-1",
                    "speaker_id": "ent-putin",
                    "speaker": "Vladimir Putin",
                    "text": "We highly value the balanced position of our Chinese friends",
                    "n_quotes": 2,
                }
            ],
        )
        q = schema.quotes
        conn.execute(
            update(q)
            .where(q.c.article_id.in_(["a1" * 8, "a2" * 8]))
            .values(utterance_id="utt-1", speaker_id="ent-putin")
        )
        conn.execute(
            insert(schema.relations),
            [{"article_id": "a2" * 8, "other_id": "a1" * 8, "kind": "rewrite_of", "score": 0.81}],
        )
    st.close()
    return {"a1": "a1" * 8, "a2": "a2" * 8, "a3": "a3" * 8, "hostile": "a4" * 8}


@pytest.fixture(scope="module")
def seeded_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("seeded") / "seeded.db"
    seed(path)
    return path


@pytest.fixture
def seeded(seeded_template, tmp_path) -> Path:
    """A private copy of the seeded store (tests may write to it)."""
    path = tmp_path / "seeded.db"
    shutil.copyfile(seeded_template, path)
    return path


@pytest.fixture
def client(seeded):
    from storyline.serve.app import create_app

    with TestClient(create_app(seeded)) as c:
        yield c


A1, A2, A3, HOST = "a1" * 8, "a2" * 8, "a3" * 8, "a4" * 8


def test_read_only_store_and_write_refused(client):
    assert client.app.state.store.read_only
    r = client.post("/api/upload", data={"text": "hello"})
    assert r.status_code == 403
    assert "read-only" in r.json()["error"]
    assert client.delete("/api/articles/" + A1).status_code == 403


def test_stats_and_story_pagination(client):
    s = client.get("/api/stats").json()
    assert (s["articles"], s["events"], s["stories"], s["entities"]) == (4, 3, 2, 2)
    p1 = client.get("/api/stories", params={"limit": 1}).json()
    assert p1["total"] == 2 and p1["next_offset"] == 1
    p2 = client.get("/api/stories", params={"limit": 1, "offset": 1}).json()
    assert p2["next_offset"] is None
    assert [p1["items"][0]["id"], p2["items"][0]["id"]] == ["story-rc", "story-x"]


def test_timeline_filters_and_aggregation(client):
    tl = client.get("/api/stories/story-rc/timeline").json()
    assert not tl["aggregated"]
    assert [e["id"] for e in tl["items"]] == ["ev-samarkand", "ev-moscow"]
    assert tl["items"][0]["actor_names"] == ["Vladimir Putin", "Xi Jinping"]

    def ids(**params):
        r = client.get("/api/stories/story-rc/timeline", params=params)
        assert r.status_code == 200, r.text
        return [e["id"] for e in r.json()["items"]]

    assert ids(actor="ent-putin") == ["ev-samarkand"]
    assert ids(outlet="AP") == ["ev-moscow"]
    assert ids(since="2023-01-01") == ["ev-moscow"]
    assert ids(until="2022-12") == ["ev-samarkand"]
    assert ids(type="STATEMENT") == []
    agg = client.get("/api/stories/all/timeline", params={"max_items": 1}).json()
    assert agg["aggregated"] and agg["items"] == []
    assert sum(b["count"] for b in agg["buckets"]) == agg["total"] == 3
    assert {b["key"] for b in agg["buckets"]} == {"2022-09", "2023-03", "2023-05"}
    story = client.get("/api/stories/story-rc").json()
    assert {a["id"] for a in story["facets"]["actors"]} == {"ent-putin", "ent-xi"}


def test_event_sources_side_by_side(client):
    ev = client.get("/api/events/ev-samarkand").json()
    assert [s["outlet"] for s in ev["sources"]] == ["Reuters", "TASS"]
    for src in ev["sources"]:
        (evid,) = src["evidence"]
        assert "Samarkand" in evid["text"]
        a, b = evid["trigger_span"]
        assert evid["text"][a:b] == evid["trigger"]
    assert sorted(ev["copy_groups"][0]) == [A1, A2]
    assert ev["coordinates"] == [39.65, 66.96]
    moscow = client.get("/api/events/ev-moscow").json()
    assert [h["status"] for h in moscow["status_history"]] == ["planned", "happened"]
    history = client.get("/events/ev-moscow").text
    assert re.search(r"announced on 2023-03-13.*happened on 2023-03-20", history, re.S)
    utt = client.get("/quotes", params={"utterance": "utt-1"}).text
    assert "balanced stance" in utt and utt.count('class="utterance"') == 1
    page = client.get("/events/ev-samarkand").text
    assert f'href="/articles/{A1}?s=0#s-0"' in page
    assert '<mark class="trigger">met</mark>' in page


def test_events_list_filters_and_pages(client):
    all_ = client.get("/api/events", params={"limit": 2}).json()
    assert all_["total"] == 3 and len(all_["items"]) == 2 and all_["next_offset"] == 2
    assert [e["id"] for e in all_["items"]] == ["ev-samarkand", "ev-moscow"]
    assert client.get("/api/events", params={"status": "planned"}).json()["total"] == 1
    assert (
        client.get("/api/events", params={"q": "Samarkand"}).json()["items"][0]["id"]
        == "ev-samarkand"
    )


def test_article_annotations_and_highlighted_page(client):
    art = client.get(f"/api/articles/{A1}").json()
    assert art["quotes"][0]["utterance_id"] == "utt-1"
    assert [r["kind"] for r in art["relations"]] == ["rewritten_as"]
    page = client.get(f"/articles/{A1}", params={"s": 1}).text
    assert re.search(r'<mark class="quote direct"[^>]*>&#34;We highly value', page)
    assert '<span class="sentence focus" id="s-1">' in page
    assert 'class="ent ent-person"' in page


def test_untrusted_article_renders_as_text(client):
    page = client.get(f"/articles/{HOST}").text
    assert "<script>document" not in page
    assert "&lt;script&gt;document" in page
    assert 'href="javascript:' not in page
    assert "<img src=x" not in page
    assert "script-src 'self'" in client.get(f"/articles/{HOST}").headers["content-security-policy"]
    for url in ("/", "/stories/story-x", "/events/ev-other", "/search?q=Breaking"):
        body = client.get(url).text
        assert "<script>document.title" not in body, url


def test_quotes_grouped_by_utterance(client):
    qs = client.get("/api/quotes").json()
    utt = next(q for q in qs["items"] if q["utterance"] == "utt-1")
    assert utt["speaker_id"] == "ent-putin"
    assert {w["outlet"] for w in utt["wordings"]} == {"Reuters", "TASS"}
    assert len({w["text"] for w in utt["wordings"]}) == 2
    assert client.get("/api/quotes", params={"speaker": "ent-xi"}).json()["total"] == 0
    assert "balanced stance" in client.get("/quotes").text


def test_entity_events_quotes_and_co_actors(client):
    xi = client.get("/api/entities/ent-xi").json()
    assert [e["id"] for e in xi["events"]] == ["ev-samarkand", "ev-moscow"]
    months = xi["events_by_month"]
    assert (months[0], months[-1], len(months)) == (
        {"month": "2022-09", "count": 1},
        {"month": "2023-03", "count": 1},
        7,
    )
    assert sum(m["count"] for m in months) == 2
    assert xi["co_actors"] == [{"id": "ent-putin", "name": "Vladimir Putin", "events": 1}]
    putin = client.get("/api/entities/ent-putin").json()
    assert putin["quotes"][0]["id"] == "utt-1"
    assert "<svg" in client.get("/entities/ent-xi").text
    found = client.get("/api/entities", params={"q": "Chinese leader"}).json()
    assert [e["id"] for e in found["items"]] == ["ent-xi"]


def test_search_articles_entities_events(client):
    res = client.get("/api/search", params={"q": "Samarkand"}).json()
    assert {a["id"] for a in res["articles"]} == {A1, A2}
    assert [e["id"] for e in res["events"]] == ["ev-samarkand"]
    assert client.get("/api/search", params={"q": "Xi"}).json()["entities"][0]["id"] == "ent-xi"
    assert "Putin and Xi meet in Samarkand" in client.get("/search", params={"q": "Samarkand"}).text


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/events/nope", 404),
        ("/api/articles/nope", 404),
        ("/api/stories/nope/timeline", 404),
        ("/api/entities/nope", 404),
        ("/api/nothing-here", 404),
        ("/api/events?limit=0", 422),
        ("/api/events?limit=abc", 422),
        ("/api/articles?offset=-1", 422),
        ("/api/events?since=yesterday", 422),
        ("/api/search", 422),
    ],
)
def test_bad_ids_and_params_are_json_errors(client, url, status):
    r = client.get(url)
    assert r.status_code == status
    body = r.json()
    assert body["status"] == status and body["error"]
    assert "Traceback" not in r.text


def test_bad_page_is_html_error_not_traceback(client):
    r = client.get("/events/nope")
    assert r.status_code == 404
    assert "text/html" in r.headers["content-type"]
    assert "no event with id" in r.text and "Traceback" not in r.text


def test_openapi_and_offline_docs(client):
    spec = client.get("/openapi.json").json()
    for path in (
        "/api/stories",
        "/api/stories/{story_id}/timeline",
        "/api/events/{event_id}",
        "/api/articles",
        "/api/quotes",
        "/api/entities",
        "/api/search",
    ):
        assert path in spec["paths"], path
    docs = client.get("/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs
    assert not re.search(r"""(src|href)=["']https?://""", docs)
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert client.get("/static/vendor/vis-timeline/vis-timeline-graph2d.min.js").status_code == 200
    page = client.get("/stories/story-rc").text
    assert not re.search(r"""(src|href)=["']https?://""", page)


def test_reader_sees_committed_data_while_a_write_is_open(seeded, client):
    writer = open_store(seeded)
    before = client.get("/api/stats").json()["articles"]
    with writer.transaction() as conn:
        writer.add_articles(
            conn, [(_article("b" * 16, "New text here.", "New", "X", "2024-01-01"), None)]
        )
        assert client.get("/api/stats").json()["articles"] == before  # not yet committed
    assert client.get("/api/stats").json()["articles"] == before + 1
    assert client.get("/api/articles/" + "b" * 16).status_code == 200
    writer.close()


@pytest.fixture
def write_client(seeded):
    from storyline.serve.app import create_app

    app = create_app(seeded, write=True, token="s3cret", max_upload_bytes=2000)
    with TestClient(app) as c:
        yield c


def test_upload_needs_token_and_checks_size_and_type(write_client):
    assert not write_client.app.state.store.read_only
    assert write_client.post("/api/upload", data={"text": "x"}).status_code == 401
    assert write_client.post("/api/upload", data={"text": "x", "token": "wrong"}).status_code == 401
    r = write_client.post(
        "/api/upload",
        data={"token": "s3cret"},
        files={"files": ("a.exe", b"MZ...", "application/x")},
    )
    assert r.status_code == 415 and "unsupported file type" in r.json()["error"]
    r = write_client.post(
        "/api/upload",
        data={"token": "s3cret"},
        files={"files": ("big.txt", b"x " * 1500, "text/plain")},
    )
    assert r.status_code == 413 and "too large" in r.json()["error"]
    r = write_client.post("/api/upload", data={"token": "s3cret"})
    assert r.status_code == 422 and "nothing to ingest" in r.json()["error"]


@pytest.mark.model
def test_upload_with_token_ingests(write_client):
    text = "Leaders of both countries met in Tashkent on Friday to discuss a new gas pipeline."
    r = write_client.post(
        "/api/upload",
        data={"text": text, "title": "Pipeline talks"},
        headers={"Authorization": "Bearer s3cret"},
    )
    assert r.status_code == 200, r.text
    (aid,) = r.json()["added"]
    art = write_client.get(f"/api/articles/{aid}").json()
    assert "Tashkent" in art["text"]
    assert art["source"].startswith("upload:")
    assert [
        a["id"]
        for a in write_client.get("/api/search", params={"q": "Tashkent"}).json()["articles"]
    ] == [aid]


def test_highlight_nests_crossing_spans_and_escapes():
    from storyline.serve.render import Span, highlight, safe_url

    text = "a <b> c & d"
    html = highlight(text, [Span(0, 5, "quote", 4), Span(2, 8, "ent", 1), Span(2, 5, "timex", 2)])
    assert (
        str(html) == '<mark class="quote">a <mark class="timex">&lt;b&gt;</mark></mark> c &amp; d'
    )
    assert safe_url("javascript:alert(1)") is None and safe_url(" JAVASCRIPT:x") is None
    assert safe_url("https://example.com/x") == "https://example.com/x"


def test_html_report_is_self_contained_and_escaped(seeded):
    from storyline.export import export_string
    from storyline.serve import report  # noqa: F401

    st = open_store(seeded, read_only=True)
    html = export_string(st, "html")
    st.close()
    assert "Putin and Xi meet in Samarkand" in html
    assert html.index("Putin and Xi meet in Samarkand") < html.index("Xi visits Moscow")
    assert "<script" not in html.lower()
    assert "&lt;script&gt;" in html
    assert not re.search(
        r"""(src|href)=["'](https?:)?//""", html.replace('href="https://example.com/samarkand"', "")
    )
    assert 'href="javascript:' not in html
    assert "We greatly appreciate" in html  # the TASS wording of the utterance


def test_serve_cli_errors_are_one_line(tmp_path, seeded):
    from conftest import run_cli

    missing = run_cli("serve", "--db", str(tmp_path / "none.db"), "--port", "0")
    assert missing.returncode == 5 and b"no store at" in missing.stderr
    assert b"Traceback" not in missing.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        taken = run_cli("serve", "--db", str(seeded), "--port", str(port))
    assert taken.returncode != 0 and b"cannot listen on 127.0.0.1" in taken.stderr
    assert b"Traceback" not in taken.stderr


def test_export_html_from_the_cli(tmp_path, seeded):
    from conftest import run_cli

    out = tmp_path / "report.html"
    done = run_cli("export", "--db", str(seeded), "--format", "html", "-o", str(out))
    assert done.returncode == 0, done.stderr
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and "Putin and Xi meet in Samarkand" in html
    assert "<script" not in html.lower()
