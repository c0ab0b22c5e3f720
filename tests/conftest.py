"""Shared fixtures: real SQLite stores in temporary folders, the bundled sample corpus."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
DEMO = ROOT / "storyline" / "data" / "demo" / "putin-xi"
BENCHMARKS = SHARED / "benchmarks"


@pytest.fixture
def store(tmp_path):
    from storyline.store import open_store

    s = open_store(tmp_path / "test.db")
    yield s
    s.close()


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """The sample corpus ingested once (annotate + link) into a store shared by read-only tests."""
    from storyline.pipeline import ingest
    from storyline.store import open_store

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    s = open_store(path)
    report = ingest(s, [str(DEMO)], progress=False)
    assert len(report.added) == 5, report.summary()
    s.close()
    return path


@pytest.fixture(scope="session")
def demo_export(demo_db) -> dict:
    from storyline.export import build_document
    from storyline.store import open_store

    s = open_store(demo_db, read_only=True)
    doc = build_document(s)
    s.close()
    return json.loads(json.dumps(doc))


def run_cli(
    *args: str, input: bytes | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """Run the real ``storyline`` command in a subprocess (exit codes, stderr and all)."""
    return subprocess.run(
        [sys.executable, "-m", "storyline", *args],
        input=input,
        capture_output=True,
        cwd=cwd,
        timeout=600,
    )
