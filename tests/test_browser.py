"""End-to-end: the real ``storyline serve`` in a subprocess, driven by Debian's chromium.

Playwright from PyPI drives the system browser (never ``playwright install``). The sample
corpus comes from the ``demo_db`` fixture; where the link stage has not (yet) produced an event
for the Samarkand summit or any quote, ``ensure_demo_links`` adds stand-in rows built from the
demo's own sentences, so these tests check the web app, not the linker's current recall.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, insert, or_, select

from storyline.store import open_store, schema

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``python -m storyline serve`` on a free port, stopped at the end."""

    def __init__(self, db: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "storyline",
                "serve",
                "--db",
                str(db),
                "--port",
                str(self.port),
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, **(env or {})},
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(self.url + "/api/stats", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(self.proc.stderr.read().decode()) from None
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(self.url + path, timeout=10) as r:
            return json.loads(r.read())

    def stop(self) -> str:
        self.proc.terminate()
        try:
            out, _ = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        return out.decode()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium missing: run scripts/system-deps.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.dialogs = dialogs
    pg.set_default_timeout(15000)
    yield pg
    ctx.close()


def ensure_demo_links(path: Path) -> None:
    """Make sure the store has a Samarkand event with evidence and at least one quote."""
    st = open_store(path)
    t = schema
    with st.transaction() as conn:
        ev, em, s = t.events, t.event_mentions, t.sentences
        has_event = conn.execute(
            select(func.count())
            .select_from(ev)
            .outerjoin(em, em.c.event_id == ev.c.id)
            .outerjoin(s, (s.c.article_id == em.c.article_id) & (s.c.idx == em.c.sentence))
            .where(or_(ev.c.title.like("%Samarkand%"), s.c.text.like("%Samarkand%")))
        ).scalar_one()
        if not has_event:
            rows = conn.execute(
                select(s.c.article_id, s.c.idx, s.c.start, s.c.text).where(
                    s.c.text.like("%Samarkand%")
                )
            ).all()
            assert rows, "the demo corpus mentions Samarkand"
            seq = conn.execute(select(func.coalesce(func.max(ev.c.seq), 0))).scalar_one()
            outlets = sorted(
                {
                    o
                    for (o,) in conn.execute(
                        select(t.articles.c.outlet).where(
                            t.articles.c.id.in_([r.article_id for r in rows])
                        )
                    )
                    if o
                }
            )
            conn.execute(
                insert(ev).values(
                    id="standin-samarkand",
                    seq=seq + 1,
                    type="CONSULT",
                    title="Putin and Xi meet in Samarkand",
                    date="2022-09-15",
                    precision="day",
                    status="happened",
                    status_history=[],
                    location="Samarkand",
                    actors=[],
                    story_id=None,
                    n_articles=len({r.article_id for r in rows}),
                    n_outlets=len(outlets),
                    outlets=outlets,
                )
            )
            for r in rows:
                i = r.text.index("Samarkand")
                conn.execute(
                    insert(em).values(
                        id=f"{r.article_id}-standin{r.idx}",
                        article_id=r.article_id,
                        sentence=r.idx,
                        trigger="Samarkand",
                        start=r.start + i,
                        end=r.start + i + 9,
                        type="CONSULT",
                        status="happened",
                        actors=[],
                        targets=[],
                        event_id="standin-samarkand",
                    )
                )
        if not conn.execute(select(func.count()).select_from(t.quotes)).scalar_one():
            a = t.articles
            for aid, text in conn.execute(select(a.c.id, a.c.text)):
                m = re.search(r"[“\"]([^”\"]{20,300})[”\"]", text)
                if m:
                    conn.execute(
                        insert(t.quotes).values(
                            id=f"{aid}-standin-q",
                            article_id=aid,
                            sentence=0,
                            start=m.start(),
                            end=m.end(),
                            text=m.group(0),
                            kind="direct",
                        )
                    )
                    break
    st.close()


@pytest.fixture(scope="module")
def demo_server(demo_db, tmp_path_factory):
    path = tmp_path_factory.mktemp("serve") / "demo.db"
    shutil.copyfile(demo_db, path)
    ensure_demo_links(path)
    srv = Server(path)
    yield srv
    srv.stop()


def samarkand_event(srv: Server) -> dict:
    offset = 0
    while offset is not None:
        page = srv.get(f"/api/events?limit=100&offset={offset}")
        for e in page["items"]:
            if "samarkand" in (e["title"] + " " + (e["location"] or "")).lower():
                return e
            detail = srv.get(f"/api/events/{e['id']}")
            if any("Samarkand" in x["text"] for s in detail["sources"] for x in s["evidence"]):
                return e
        offset = page["next_offset"]
    raise AssertionError("no Samarkand event")


def test_story_timeline_event_sources_article(demo_server, page):
    ev = samarkand_event(demo_server)
    page.goto(demo_server.url + "/")
    assert page.locator(".stats").is_visible()
    link = f'a[href="/stories/{ev["story"]}"]' if ev["story"] else 'a[href="/stories/all"].button'
    page.locator(link).first.click()
    page.wait_for_selector('#timeline[data-loaded="yes"]')
    assert page.locator("#timeline .vis-item").count() > 0
    # narrow the window to the summit's month: the event itself is drawn, not a cluster
    month = ev["date"][:7]
    page.goto(page.url.split("?")[0] + f"?since={month}-01&until={month}-28")
    page.wait_for_selector('#timeline[data-loaded="yes"]')
    item = page.locator("#timeline .vis-item", has_text=ev["title"][:20]).first
    item.wait_for()
    assert "status-" in item.get_attribute("class")
    item.click()
    page.wait_for_url(re.compile(r"/events/"))
    sources = page.locator("article.source")
    assert sources.count() >= 1
    evidence = page.locator("blockquote.evidence", has_text="Samarkand").first
    assert evidence.is_visible()
    evidence.locator("a").first.click()
    page.wait_for_url(re.compile(r"/articles/.+\?s=\d+"))
    focus = page.locator("span.sentence.focus")
    assert focus.count() == 1 and "Samarkand" in focus.inner_text()


def test_article_quote_highlighted(demo_server, page):
    quotes = demo_server.get("/api/quotes?limit=1")["items"]
    article = quotes[0]["wordings"][0]["article"]
    page.goto(demo_server.url + f"/articles/{article}")
    mark = page.locator("#article-body mark.quote").first
    assert mark.is_visible()
    bg = mark.evaluate("el => getComputedStyle(el).backgroundColor")
    assert bg not in ("rgba(0, 0, 0, 0)", "transparent")
    marked = [m.strip() for m in page.locator("#article-body mark.quote").all_inner_texts()]
    stored = [q["text"] for q in demo_server.get(f"/api/articles/{article}")["quotes"]]
    assert any(m and m in q for m in marked for q in stored)


def test_search_from_header(demo_server, page):
    page.goto(demo_server.url + "/")
    page.fill("header form.search input[name=q]", "Samarkand")
    page.press("header form.search input[name=q]", "Enter")
    page.wait_for_url(re.compile(r"/search\?q=Samarkand"))
    hits = page.locator("ul.results.articles li a")
    assert hits.count() >= 1
    hits.first.click()
    assert "Samarkand" in page.locator("#article-body").inner_text()


def test_upload_refused_on_read_only_server(demo_server, page):
    page.goto(demo_server.url + "/upload")
    assert page.locator("#readonly").is_visible()
    page.fill("input[name=token]", "guess")
    page.fill("textarea[name=text]", "Some article text.")
    page.click("form#upload button[type=submit]")
    page.wait_for_selector("#upload-result.error")
    assert "403" in page.locator("#upload-result").inner_text()


def test_hostile_article_does_not_run_scripts_and_upload_needs_token(tmp_path, page):
    from storyline.pipeline import ingest

    doc = {
        "title": "<script>window.pwned = 1</script> Alert",
        "text": "Officials met on Tuesday to talk.\n\n"
        "<script>document.body.dataset.pwned = 'yes'; alert('xss')</script>\n\n"
        'Read more <a href="javascript:alert(1)">javascript:alert(document.cookie)</a> '
        "<img src=x onerror=\"alert('img')\">",
        "url": "javascript:alert(1)",
        "outlet": "Evil Gazette",
        "date": "2024-01-02",
    }
    src = tmp_path / "evil.jsonl"
    src.write_text(json.dumps(doc) + "\n", encoding="utf-8")
    db = tmp_path / "evil.db"
    st = open_store(db)
    report = ingest(st, [str(src)], annotate=False, link=False, progress=False)
    (aid,) = report.added
    with st.transaction() as conn:  # an event whose title is markup, for the timeline
        conn.execute(
            insert(schema.events).values(
                id="ev-evil",
                seq=1,
                type="STATEMENT",
                title='<img src=x onerror="window.pwned=2"> Evil event',
                date="2024-01-02",
                status="happened",
                actors=[],
                outlets=["Evil Gazette"],
            )
        )
    st.close()
    srv = Server(db, "--write", env={"STORYLINE_TOKEN": "right-token"})
    try:
        page.goto(srv.url + f"/articles/{aid}")
        body = page.locator("#article-body").inner_text()
        assert "<script>document.body.dataset.pwned" in body  # shown as text
        assert page.evaluate("document.body.dataset.pwned") is None
        assert page.evaluate("window.pwned") is None
        assert "<script>" in page.locator("h1").inner_text()
        assert page.locator("a[href^='javascript']").count() == 0
        page.goto(srv.url + "/stories/all")
        page.wait_for_selector('#timeline[data-loaded="yes"]')
        box = page.locator("#timeline .vis-item.vis-box", has_text="Evil event")
        assert "<img src=x" in box.inner_text()  # drawn as text
        assert page.locator("#timeline img").count() == 0
        assert page.evaluate("window.pwned") is None
        page.goto(srv.url + "/search?q=Officials")
        assert page.locator("ul.results.articles li").count() == 1
        assert page.evaluate("window.pwned") is None
        assert page.dialogs == []
        # uploads: the server is writable, but only with the token
        page.goto(srv.url + "/upload")
        assert page.locator("#readonly").count() == 0
        page.fill("input[name=token]", "wrong-token")
        page.fill("textarea[name=text]", "A new article about a summit in Astana on Monday.")
        page.click("form#upload button[type=submit]")
        page.wait_for_selector("#upload-result.error")
        assert "401" in page.locator("#upload-result").inner_text()
        assert srv.get("/api/stats")["articles"] == 1
    finally:
        srv.stop()


def test_api_docs_render_offline(demo_server, page):
    external: list[str] = []
    page.on(
        "request",
        lambda r: external.append(r.url) if not r.url.startswith(demo_server.url) else None,
    )
    page.goto(demo_server.url + "/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=20000)
    assert page.locator(".opblock", has_text="/api/events/{event_id}").count() >= 1
    assert [u for u in external if not u.startswith("data:")] == []
