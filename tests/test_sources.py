"""Feeds (saved and over HTTP, with robots.txt and the cache), WARC and Parquet inputs."""

from __future__ import annotations

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import run_cli

from storyline.pipeline import ingest
from storyline.read import Failure, FieldMap, iter_docs

PAGE = """<html><head><title>{title}</title>
<meta property="article:published_time" content="{date}T08:00:00Z"></head>
<body><nav>Home | World | Sport</nav><article><h1>{title}</h1>
<p>{body} The minister said the talks in the capital were constructive and would go on.</p>
<p>Officials from both sides met for three hours on {day} and agreed to meet again soon.</p>
</article><footer>Subscribe to our newsletter</footer></body></html>"""

RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Example Wire</title>
<link>http://{host}/</link><description>news</description>
{items}</channel></rss>"""
ITEM = """<item><title>{title}</title><link>http://{host}/{slug}</link>
<pubDate>{pub}</pubDate><description>{summary}</description></item>"""


class Site(BaseHTTPRequestHandler):
    pages: dict[str, bytes] = {}
    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        Site.hits.append(self.path)
        body = Site.pages.get(self.path)
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        ctype = "application/rss+xml" if self.path.endswith(".xml") else "text/html"
        if self.path == "/robots.txt":
            ctype = "text/plain"
        self.send_header("Content-Type", ctype)
        self.send_header("ETag", '"v1"')
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def site(tmp_path, monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    host = f"127.0.0.1:{server.server_address[1]}"
    items = []
    for slug, title, pub in [
        ("talks", "Ministers hold talks", "Thu, 15 Sep 2022 10:00:00 GMT"),
        ("private/secret", "Hidden page", "Fri, 16 Sep 2022 10:00:00 GMT"),
    ]:
        items.append(
            ITEM.format(title=title, host=host, slug=slug, pub=pub, summary="Short summary.")
        )
        Site.pages[f"/{slug}"] = PAGE.format(
            title=title, date="2022-09-15", body=f"{title} in the capital.", day="Thursday"
        ).encode()
    Site.pages["/feed.xml"] = RSS.format(host=host, items="\n".join(items)).encode()
    Site.pages["/robots.txt"] = b"User-agent: *\nDisallow: /private/\n"
    Site.hits = []
    monkeypatch.setenv("STORYLINE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("STORYLINE_FETCH_DELAY", "0")
    import storyline.readers.fetch as fetch

    monkeypatch.setattr(fetch, "_FETCHER", None)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://{host}"
    server.shutdown()


def test_feed_over_http_fetches_pages_and_obeys_robots(site, store):
    report = ingest(store, [f"{site}/feed.xml"], annotate=False, link=False, progress=False)
    assert len(report.added) == 2
    by_source = {
        (store.article(i)["source"], store.article(i)["record"]): store.article(i)
        for i in report.added
    }
    # the page robots.txt disallows is not fetched: its entry keeps the feed's summary
    assert by_source[(f"{site}/feed.xml", 1)]["text"] == "Short summary."
    art = by_source[(f"{site}/talks", None)]
    assert art["title"] == "Ministers hold talks"
    assert art["pub_date"] == "2022-09-15" and art["pub_date_source"] == "metadata"
    assert "constructive" in art["text"] and "newsletter" not in art["text"]
    assert report.failures == []
    assert "/private/secret" not in Site.hits
    # a second round re-uses the cache (ETag revalidation) and adds nothing
    again = ingest(store, [f"{site}/feed.xml"], annotate=False, link=False, progress=False)
    assert again.added == []


def test_saved_feed_file_uses_entry_text(tmp_path, store):
    rss = RSS.format(
        host="example.org",
        items=ITEM.format(
            title="Port strike ends",
            host="example.org",
            slug="strike",
            pub="Mon, 06 Mar 2023 09:00:00 GMT",
            summary="Dock workers returned to work on Monday after a two-week strike over pay.",
        ),
    )
    path = tmp_path / "saved.rss"
    path.write_text(rss)
    report = ingest(store, [str(path)], annotate=False, link=False, progress=False)
    art = store.article(report.added[0])
    assert art["title"] == "Port strike ends"
    assert art["pub_date"] == "2023-03-06"
    assert art["outlet"] == "Example Wire"
    assert art["url"] == "http://example.org/strike"
    assert "Dock workers returned" in art["text"]


def _warc(path, records):
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url, ctype, body in records:
            headers = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
            rec = writer.create_warc_record(
                url, "response", payload=io.BytesIO(body), http_headers=headers
            )
            writer.write_record(rec)


def test_warc_streams_html_responses_once(tmp_path, store):
    page = PAGE.format(
        title="Bridge opens", date="2021-05-04", body="A bridge opened.", day="Monday"
    )
    other = PAGE.format(title="Dam closes", date="2021-05-05", body="A dam closed.", day="Tuesday")
    path = tmp_path / "crawl.warc.gz"
    _warc(
        path,
        [
            ("http://a.example/bridge", "text/html; charset=utf-8", page.encode()),
            ("http://a.example/bridge", "text/html", page.encode()),  # same URL again
            ("http://b.example/copy", "text/html", page.encode()),  # same content, other URL
            ("http://a.example/logo.png", "image/png", b"\x89PNG...."),
            ("http://a.example/dam", "text/html", other.encode()),
        ],
    )
    docs = [d for d in iter_docs([str(path)], FieldMap())]
    assert [d.source for d in docs] == ["http://a.example/bridge", "http://a.example/dam"]
    report = ingest(store, [str(tmp_path)], annotate=False, link=False, progress=False)
    assert len(report.added) == 2
    titles = {store.article(i)["title"] for i in report.added}
    assert titles == {"Bridge opens", "Dam closes"}


def test_broken_warc_is_reported(tmp_path):
    path = tmp_path / "broken.warc"
    path.write_bytes(b"WARC/1.0\r\nthis is not really a warc\r\n\r\n")
    items = list(iter_docs([str(path)]))
    assert items and all(isinstance(i, Failure) for i in items)


def test_parquet_in_and_out(tmp_path, store):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "headline": ["Flood waters recede", "Schools reopen"],
            "body": [
                "Flood waters receded across the valley on Sunday, officials said.",
                "Schools reopened on Monday after the floods, the district said.",
            ],
            "published": ["2020-02-09", "2020-02-10"],
            "link": ["https://news.example/flood", "https://news.example/schools"],
        }
    )
    path = tmp_path / "in.parquet"
    pq.write_table(table, path)
    report = ingest(store, [str(path)], annotate=False, link=False, progress=False)
    assert len(report.added) == 2
    rows = sorted(store.articles(), key=lambda r: r["record"])
    assert [r["title"] for r in rows] == ["Flood waters recede", "Schools reopen"]
    assert rows[0]["outlet"] == "news.example" and rows[1]["pub_date"] == "2020-02-10"

    out = tmp_path / "out.parquet"
    res = run_cli("export", "--db", store.location, "--format", "parquet", "-o", str(out))
    assert res.returncode == 0, res.stderr
    back = pq.read_table(out).to_pylist()
    assert sorted(r["title"] for r in back) == ["Flood waters recede", "Schools reopen"]


def test_parquet_without_text_column(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "notext.parquet"
    pq.write_table(pa.table({"a": [1, 2]}), path)
    items = list(iter_docs([str(path)]))
    assert len(items) == 1 and isinstance(items[0], Failure)
    assert "no text column" in items[0].message


def test_watch_runs_rounds_and_adds_only_new(site, tmp_path):
    db = tmp_path / "w.db"
    res = run_cli(
        "--quiet", "watch", f"{site}/feed.xml", "--db", str(db), "--every", "0s", "--times", "2"
    )
    assert res.returncode == 0, res.stderr
    lines = res.stdout.decode().strip().splitlines()
    assert "round 1: 2 added" in lines[0]
    assert "round 2: 0 added" in lines[1]
    out = run_cli("articles", "--db", str(db), "--json")
    assert len(json.loads(out.stdout)) == 2
