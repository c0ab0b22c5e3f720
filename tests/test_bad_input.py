"""Bad input through the real CLI: one clear line, a meaningful exit code, nothing lost.

Exit codes (storyline/errors.py): 0 ok, 1 done but some inputs skipped, 3 unreadable input,
4 store cannot be opened or written, 130 interrupted.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile

import pytest
from conftest import ROOT, run_cli

GOOD = (
    "The council voted on Tuesday to approve the new transit budget after a long debate.\n\n"
    "Supporters said the plan would cut commuting times across the region by a quarter.\n"
)


def ingest(*paths, db, extra=()):
    return run_cli(
        "ingest", *map(str, paths), "--db", str(db), "--no-annotate", "--no-link", *extra
    )


def err_lines(res) -> list[str]:
    text = res.stderr.decode("utf-8", "replace")
    assert "Traceback" not in text, text
    return [line for line in text.splitlines() if line.strip()]


def stored(db) -> list[dict]:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    rows = [dict(r) for r in con.execute("SELECT * FROM articles")]
    con.close()
    return rows


def tiny_png() -> bytes:
    return bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5c0000000049454e44ae426082"
    )


def tiny_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("story.txt", GOOD)
    return buf.getvalue()


UNREADABLE = [
    ("empty.txt", b"", "empty file"),
    ("blank.txt", b"  \n\n \t\n", "empty file"),
    ("report.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "PDF"),
    ("photo.png", tiny_png(), "PNG"),
    ("bundle.zip", tiny_zip(), "zip"),
    ("story.txt.gz", b"\x1f\x8b\x08\x00broken", "gzip"),
]


def test_unreadable_files_are_each_named_then_exit_3(tmp_path):
    for name, data, _ in UNREADABLE:
        (tmp_path / name).write_bytes(data)
    db = tmp_path / "s.db"
    res = ingest(*(tmp_path / name for name, _, _ in UNREADABLE), db=db)
    assert res.returncode == 3  # nothing could be read
    lines = err_lines(res)
    skipped = [line for line in lines if line.startswith("skipped:")]
    assert len(skipped) == len(UNREADABLE)  # one line each, no second copy from the logger
    for name, _, words in UNREADABLE:
        assert any(name in line and words in line for line in skipped), (name, skipped)
    assert lines[-1] == "storyline: error: nothing could be read (6 input(s) failed)"
    assert stored(db) == []


def test_bad_file_in_a_batch_is_skipped_the_rest_goes_in(tmp_path):
    (tmp_path / "good.txt").write_text(GOOD)
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4 binary")
    (tmp_path / "empty.txt").write_bytes(b"")
    db = tmp_path / "s.db"
    res = ingest(tmp_path / "good.txt", tmp_path / "bad.pdf", tmp_path / "empty.txt", db=db)
    assert res.returncode == 1  # done, but some inputs were skipped
    skipped = [line for line in err_lines(res) if line.startswith("skipped:")]
    assert len(skipped) == 2
    assert [r["source"].rsplit("/", 1)[-1] for r in stored(db)] == ["good.txt"]


def test_invalid_utf8_is_decoded_not_refused(tmp_path):
    broken = tmp_path / "broken.txt"  # UTF-8 with a stray byte and a cut-off sequence
    broken.write_bytes(
        GOOD.encode() + "“Le café a rouvert à Genève.”\n".encode() + b"Stray \xe9 byte \xe2\x80"
    )
    latin = tmp_path / "latin.txt"  # not UTF-8 at all
    latin.write_bytes(GOOD.encode() + "Le café a rouvert à Genève.\n".encode("cp1252"))
    db = tmp_path / "s.db"
    res = ingest(broken, latin, db=db, extra=("--json",))
    assert res.returncode == 0, err_lines(res)
    texts = {r["source"].rsplit("/", 1)[-1]: r["text"] for r in stored(db)}
    assert "“Le café a rouvert à Genève.”" in texts["broken.txt"]
    assert "Le café a rouvert à Genève." in texts["latin.txt"]


def test_a_50_mb_text_file_is_refused_quickly(tmp_path):
    f = tmp_path / "huge.txt"
    with open(f, "wb") as fh:
        line = b"word " * 200 + b"\n"
        for _ in range(50 * 1024 * 1024 // len(line) + 1):
            fh.write(line)
    db = tmp_path / "s.db"
    res = ingest(f, db=db)
    assert res.returncode == 3
    assert any("too large" in line for line in err_lines(res))


def test_malformed_html_is_read_or_reported(tmp_path):
    f = tmp_path / "broken.html"
    f.write_text(
        "<html><head><title>Council approves budget</title><body><div><p>"
        + GOOD.replace("\n\n", "<p>")
        + "<table><tr><td>unclosed <b>bold <i>and italic</div></span></html></html>"
    )
    db = tmp_path / "s.db"
    res = ingest(f, db=db)
    err_lines(res)
    assert res.returncode in (0, 1)
    rows = stored(db)
    assert len(rows) == 1
    assert "approve the new transit budget" in rows[0]["text"] or not rows[0]["is_article"]


def test_jsonl_with_one_broken_line(tmp_path):
    f = tmp_path / "c.jsonl"
    lines = [json.dumps({"title": f"T{i}", "text": GOOD + f" Row {i}."}) for i in range(4)]
    lines.insert(2, '{"title": "broken", "text": "no closing quote}')
    f.write_text("\n".join(lines) + "\n")
    db = tmp_path / "s.db"
    res = ingest(f, db=db)
    assert res.returncode == 1
    skipped = [line for line in err_lines(res) if line.startswith("skipped:")]
    assert len(skipped) == 1 and "line 3" in skipped[0]
    assert sorted(r["title"] for r in stored(db)) == ["T0", "T1", "T2", "T3"]


def test_csv_without_a_text_column(tmp_path):
    f = tmp_path / "c.csv"
    f.write_text("headline,when\nA,2020-01-01\n")
    res = ingest(f, db=tmp_path / "s.db")
    assert res.returncode == 3
    lines = err_lines(res)
    (line,) = [x for x in lines if "no text column" in x]
    assert "--field text=" in line and "headline, when" in line
    assert lines[-1].startswith("storyline: error: nothing could be read")


def test_path_that_does_not_exist_next_to_a_good_one(tmp_path):
    (tmp_path / "good.txt").write_text(GOOD)
    db = tmp_path / "s.db"
    res = ingest(tmp_path / "good.txt", tmp_path / "missing.txt", db=db)
    assert res.returncode == 1
    assert any("missing.txt" in x and "no such file" in x for x in err_lines(res))
    assert len(stored(db)) == 1


def test_store_that_is_not_sqlite(tmp_path):
    (tmp_path / "good.txt").write_text(GOOD)
    bad = tmp_path / "notes.db"
    bad.write_text("these are my notes, not a database\n" * 20)
    res = ingest(tmp_path / "good.txt", db=bad)
    assert res.returncode == 4
    assert any("not a Storyline store" in x for x in err_lines(res))
    assert bad.read_text().startswith("these are my notes")  # left untouched


def test_store_in_a_folder_path(tmp_path):
    (tmp_path / "good.txt").write_text(GOOD)
    res = ingest(tmp_path / "good.txt", db=tmp_path)
    assert res.returncode == 4
    assert any("folder" in x for x in err_lines(res))


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores modes")
def test_read_only_store_file(tmp_path):
    (tmp_path / "good.txt").write_text(GOOD)
    db = tmp_path / "s.db"
    assert ingest(tmp_path / "good.txt", db=db).returncode == 0
    (tmp_path / "other.txt").write_text(GOOD + "\nMore.")
    db.chmod(0o444)
    try:
        res = ingest(tmp_path / "other.txt", db=db)
    finally:
        db.chmod(0o644)
    assert res.returncode == 4
    assert any("read-only" in x for x in err_lines(res))
    assert len(stored(db)) == 1


def test_read_only_store_refuses_an_ingest(tmp_path):
    """The same refusal through the Python API (runs as root too, where file modes do not)."""
    from storyline.errors import ReadOnlyStore
    from storyline.pipeline import ingest as run_ingest
    from storyline.store import open_store

    (tmp_path / "good.txt").write_text(GOOD)
    db = tmp_path / "s.db"
    open_store(db).close()
    ro = open_store(db, read_only=True)
    with pytest.raises(ReadOnlyStore, match="read-only"):
        run_ingest(ro, [str(tmp_path / "good.txt")], annotate=False, link=False, progress=False)
    ro.close()
    assert stored(db) == []


def test_ctrl_c_in_the_middle_of_a_batch(tmp_path):
    src = tmp_path / "news"
    src.mkdir()
    n = 2000  # many batches of BATCH_SIZE left when the first is stored
    for i in range(n):
        (src / f"{i:05d}.txt").write_text(
            f"Story number {i} headline\n\n{GOOD}Item {i} ends here.\n"
        )
    db = tmp_path / "s.db"
    cmd = [sys.executable, "-m", "storyline", "ingest", str(src), "--db", str(db)]
    cmd += ["--no-annotate", "--no-link", "--workers", "1"]
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # a suite started in the background inherits an ignored SIGINT: give Ctrl-C back
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    count = 0
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
        try:
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
            count = con.execute("SELECT count(*) FROM articles").fetchone()[0]
            con.close()
        except sqlite3.Error:
            continue
        if count >= 64:
            break
    assert proc.poll() is None, "the ingest finished before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=120)
    why = f"rc={proc.returncode}, {count} stored when interrupted, stderr: {err.decode()[-800:]}"
    assert proc.returncode == 130, why
    assert "Traceback" not in err.decode(), why
    assert "interrupted" in err.decode(), why

    rows = stored(db)
    assert 0 < len(rows) < n, why
    for r in rows:  # every stored article is complete
        assert r["text"] and r["content_hash"] and r["title"]
        assert r["text"].startswith("The council voted")
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    fts = con.execute("SELECT count(*) FROM articles_fts").fetchone()[0]
    con.close()
    assert fts == len(rows)

    again = ingest(src, db=db, extra=("--json",))
    assert again.returncode == 0, err_lines(again)
    out = json.loads(again.stdout)
    assert (out["skipped"], len(out["added"])) == (len(rows), n - len(rows)), why
    assert len({r["source"] for r in stored(db)}) == n


def test_gzip_bomb_sized_member_is_refused(tmp_path):
    """A gzip of one plain-text article larger than the per-article limit is refused."""
    f = tmp_path / "big.txt.gz"
    f.write_bytes(gzip.compress(b"word " * (3 * 1024 * 1024)))
    res = ingest(f, db=tmp_path / "s.db")
    err_lines(res)
    assert res.returncode in (1, 3)
