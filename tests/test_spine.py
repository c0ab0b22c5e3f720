"""End-to-end checks of the spine: ingest, store, export, CLI exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import DEMO, run_cli, shared_tool


def test_demo_ingest_then_reingest_adds_nothing(tmp_path):
    db = tmp_path / "s.db"
    first = run_cli("ingest", str(DEMO), "--db", str(db), "--json", "--no-link")
    assert first.returncode == 0, first.stderr
    added = json.loads(first.stdout)["added"]
    assert len(added) == 5
    again = run_cli("ingest", str(DEMO), "--db", str(db), "--json", "--no-link")
    assert again.returncode == 0
    out = json.loads(again.stdout)
    assert out["added"] == [] and out["skipped"] == 5


def test_export_passes_the_contract_checker(demo_db, tmp_path):
    out = tmp_path / "export.json"
    res = run_cli("export", "--db", str(demo_db), "--format", "json", "-o", str(out))
    assert res.returncode == 0, res.stderr
    check = subprocess.run(
        [sys.executable, str(shared_tool("check_export.py")), str(out)],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout
    doc = json.loads(out.read_text())
    assert len(doc["articles"]) == 5
    assert all(a["source"].endswith(".txt") for a in doc["articles"])


def test_missing_path_is_one_line_error(tmp_path):
    res = run_cli("ingest", str(tmp_path / "nope.txt"), "--db", str(tmp_path / "s.db"))
    assert res.returncode == 3
    err = res.stderr.decode().strip().splitlines()
    assert "Traceback" not in res.stderr.decode()
    assert any("no such file" in line for line in err)


def test_store_that_is_not_sqlite(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_text("hello, I am not a database\n" * 10)
    res = run_cli("articles", "--db", str(bad))
    assert res.returncode == 4
    assert "not a Storyline store" in res.stderr.decode()
    assert "Traceback" not in res.stderr.decode()
