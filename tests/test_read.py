"""The read stage: encodings, HTML, JSON/JSONL/CSV with field maps, gzip, sources, versions."""

from __future__ import annotations

import gzip
import json

import pytest

from storyline.extract import extract
from storyline.pipeline import ingest
from storyline.read import (
    READERS,
    Failure,
    FieldMap,
    RawDoc,
    decode_bytes,
    iter_docs,
    read_bytes,
    reader,
)

TEXT = (
    "Le café de la Gare a rouvert mardi à Genève, après deux ans de travaux.\n\n"
    "Les habitants du quartier se sont réjouis de la réouverture, a dit le maire."
)
ENGLISH = (
    "The council voted on Tuesday to approve the new transit budget after a long debate.\n\n"
    "Supporters said the plan would cut commuting times across the region by a quarter."
)


def docs(path, **fields):
    return list(iter_docs([str(path)], FieldMap(fields or None)))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"])
def test_plain_text_in_any_encoding(tmp_path, encoding):
    f = tmp_path / "a.txt"
    f.write_bytes(TEXT.encode(encoding))
    (raw,) = docs(f)
    assert isinstance(raw, RawDoc) and raw.kind == "text"
    art = extract(raw)
    assert "Le café de la Gare a rouvert mardi à Genève" in art.text
    assert "réjouis" in art.text and "\ufeff" not in art.text


def test_decode_prefers_utf8_and_falls_back_for_smart_quotes():
    quoted = "“We will not back down,” she said – and left."
    assert decode_bytes(quoted.encode()) == quoted
    assert decode_bytes(quoted.encode("cp1252")) == quoted


def test_decode_other_scripts_in_single_byte_encodings():
    russian = "Москва заявила во вторник о новых санкциях против компании."
    assert decode_bytes(russian.encode("cp1251")) == russian


def test_html_page_main_text_title_date_site(tmp_path):
    paragraphs = "".join(f"<p>{p}</p>" for p in ENGLISH.split("\n\n"))
    html = f"""<!DOCTYPE html><html><head>
      <title>Council approves budget | Example Gazette</title>
      <meta property="og:title" content="Council approves budget">
      <meta property="og:site_name" content="Example Gazette">
      <meta property="article:published_time" content="2021-06-04T09:30:00Z">
      </head><body><nav><a href="/">Home</a> <a href="/news">News</a></nav>
      <article><h1>Council approves budget</h1>{paragraphs}</article>
      <footer>Copyright Example Gazette. All rights reserved.</footer></body></html>"""
    f = tmp_path / "page.html"
    f.write_text(html, encoding="utf-8")
    (raw,) = docs(f)
    assert raw.kind == "html"
    art = extract(raw)
    assert art.title == "Council approves budget"
    assert (art.pub_date, art.pub_date_source) == ("2021-06-04", "metadata")
    assert (art.outlet, art.outlet_source) == ("Example Gazette", "metadata")
    assert "approve the new transit budget" in art.text
    assert "All rights reserved" not in art.text and "Home" not in art.text.split()


def test_jsonl_with_default_field_names(tmp_path):
    rows = [
        {
            "headline": "First",
            "body": ENGLISH,
            "published_at": "2020-05-01",
            "link": "https://a.com/1",
        },
        {"title": "Second", "content": ENGLISH + " More.", "date": "2020-05-02"},
    ]
    f = tmp_path / "c.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    got = docs(f)
    assert [d.record for d in got] == [0, 1]
    assert all(d.source == str(f.resolve()) for d in got)
    first = extract(got[0])
    assert first.title == "First" and first.pub_date == "2020-05-01"
    assert (first.outlet, first.outlet_source) == ("a.com", "url")
    assert extract(got[1]).title == "Second"


def test_field_map_overrides_the_defaults(tmp_path):
    f = tmp_path / "c.csv"
    f.write_text('kop,tekst\n"A headline","' + ENGLISH.replace('"', "") + '"\n', encoding="utf-8")
    (raw,) = docs(f, text="tekst", title="kop")
    art = extract(raw)
    assert art.title == "A headline" and "transit budget" in art.text


def test_unknown_field_role_is_a_clear_error():
    from storyline.errors import InputError

    with pytest.raises(InputError, match="unknown field name"):
        FieldMap({"txt": "body"})


def test_json_list_and_gzip_of_jsonl(tmp_path):
    rows = [{"text": ENGLISH, "title": f"T{i}"} for i in range(3)]
    (tmp_path / "list.json").write_text(json.dumps({"articles": rows}), encoding="utf-8")
    got = docs(tmp_path / "list.json")
    assert [d.meta["title"] for d in got] == ["T0", "T1", "T2"]
    gz = tmp_path / "c.jsonl.gz"
    gz.write_bytes(gzip.compress("\n".join(json.dumps(r) for r in rows).encode()))
    got = docs(gz)
    assert len(got) == 3 and all(isinstance(d, RawDoc) for d in got)
    assert got[2].record == 2


def test_gzip_of_plain_text(tmp_path):
    gz = tmp_path / "story.txt.gz"
    gz.write_bytes(gzip.compress(TEXT.encode("cp1252")))
    (raw,) = docs(gz)
    assert "Genève" in extract(raw).text


def test_folder_walk_skips_hidden_and_unknown_files(tmp_path):
    (tmp_path / "a.txt").write_text(ENGLISH)
    (tmp_path / ".hidden.txt").write_text(ENGLISH)
    (tmp_path / "notes.docx").write_bytes(b"PK\x03\x04binary")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text(ENGLISH + " Again.")
    got = docs(tmp_path)
    assert sorted(d.source.rsplit("/", 1)[-1] for d in got) == ["a.txt", "b.txt"]


def test_broken_row_is_a_failure_the_rest_goes_on(tmp_path):
    f = tmp_path / "c.jsonl"
    f.write_text(
        json.dumps({"text": ENGLISH}) + "\n{broken\n" + json.dumps({"text": ENGLISH + "!"})
    )
    got = docs(f)
    assert [type(d).__name__ for d in got] == ["RawDoc", "Failure", "RawDoc"]
    assert got[1].record == 1 and "line 2" in got[1].message


def test_reader_registry_plugs_in_a_new_format():
    @reader("pipe-separated", lambda name, data: name.endswith(".psv"))
    def read_psv(name, data, fields):
        for i, line in enumerate(data.decode().splitlines()):
            title, text = line.split("|", 1)
            yield RawDoc(source=name, data=text.encode(), record=i, meta={"title": title})

    try:
        line = ENGLISH.replace("\n\n", " ")
        got = list(read_bytes("x.psv", f"One|{line}\nTwo|{line}".encode()))
        assert [d.meta["title"] for d in got] == ["One", "Two"]
    finally:
        READERS[:] = [r for r in READERS if r.name != "pipe-separated"]


def test_binary_bytes_are_refused_by_kind():
    (f,) = read_bytes("x.bin", b"%PDF-1.7\n...")
    assert isinstance(f, Failure) and "PDF" in f.message


# ---------------------------------------------------------------------------------------------
# Sources, hashes, versions (through the store)


def test_reingest_adds_nothing_and_a_changed_file_is_a_new_version(store, tmp_path):
    f = tmp_path / "story.txt"
    f.write_text(ENGLISH, encoding="utf-8")
    first = ingest(store, [str(f)], annotate=False, link=False, progress=False)
    assert len(first.added) == 1
    again = ingest(store, [str(f)], annotate=False, link=False, progress=False)
    assert again.added == [] and again.skipped == 1

    f.write_text(ENGLISH + "\n\nA correction was added on Wednesday.", encoding="utf-8")
    changed = ingest(store, [str(f)], annotate=False, link=False, progress=False)
    assert len(changed.added) == 1
    rows = {r["id"]: r for r in store.articles(with_text=True)}
    assert len(rows) == 2
    new = rows[changed.added[0]]
    assert new["version"] == 2 and new["supersedes"] == first.added[0]
    assert rows[first.added[0]]["text"] == ENGLISH  # the old version is kept, not overwritten
    assert new["source"] == str(f.resolve()) and len(new["content_hash"]) == 64


def test_collection_rows_keep_their_record_number(store, tmp_path):
    f = tmp_path / "c.jsonl"
    f.write_text("\n".join(json.dumps({"text": ENGLISH + f" Row {i}."}) for i in range(3)))
    report = ingest(store, [str(f)], annotate=False, link=False, progress=False)
    assert len(report.added) == 3
    rows = store.articles()
    assert sorted(r["record"] for r in rows) == [0, 1, 2]
    assert {r["source"] for r in rows} == {str(f.resolve())}


def test_jsonl_row_with_only_html_is_read_as_html(tmp_path):
    page = (
        "<html><head><title>Council approves budget</title></head><body><article>"
        + "".join(f"<p>{p}</p>" for p in ENGLISH.split("\n\n"))
        + "</article></body></html>"
    )
    f = tmp_path / "pages.jsonl"
    f.write_text(json.dumps({"html": page, "url": "https://www.gazette.example/a/1"}) + "\n")
    (raw,) = docs(f)
    assert raw.kind == "html" and raw.record == 0
    art = extract(raw)
    assert "approve the new transit budget" in art.text
    assert "<p>" not in art.text
    assert art.url == "https://www.gazette.example/a/1"


def test_stdin_through_the_cli(tmp_path):
    from conftest import run_cli

    db = tmp_path / "s.db"
    res = run_cli(
        "ingest",
        "-",
        "--db",
        str(db),
        "--no-annotate",
        "--no-link",
        "--json",
        input=ENGLISH.encode("cp1252"),
    )
    assert res.returncode == 0, res.stderr.decode()
    assert len(json.loads(res.stdout)["added"]) == 1
    from storyline.store import open_store

    s = open_store(db, read_only=True)
    (row,) = s.articles()
    s.close()
    assert row["source"] == "-"
