"""The Ray engine gives exactly what the local engine gives (same articles, annotations, events)."""

from __future__ import annotations

import importlib.util
import json
import os

import pytest
from conftest import BENCHMARKS, DEMO
from sqlalchemy import select

from storyline.pipeline import ingest
from storyline.store import open_store, schema

if importlib.util.find_spec("ray") is None:
    if os.environ.get("STORYLINE_REQUIRE_RAY"):
        raise RuntimeError("STORYLINE_REQUIRE_RAY is set but Ray is not installed")
    pytest.skip("Ray is not installed (pip install 'storyline[ray]')", allow_module_level=True)

pytestmark = [pytest.mark.model, pytest.mark.slow]

VOLATILE = {"seq", "batch_id", "ingested_at", "id"}  # differ by insertion, not by content


def snapshot(path) -> dict:
    """Everything the per-article stages and linking produced, independent of insertion order."""
    s = open_store(path, read_only=True)
    out: dict[str, list] = {}
    with s.read() as conn:
        for name in ("articles", "sentences", "mentions", "timexes", "quotes", "event_mentions"):
            table = schema.TABLES[name]
            rows = [
                {
                    k: v
                    for k, v in dict(r).items()
                    if k not in VOLATILE or name == "articles" and k == "id"
                }
                for r in conn.execute(select(table)).mappings()
            ]
            for r in rows:
                r.pop("batch_id", None)
                r.pop("ingested_at", None)
                r.pop("seq", None)
            out[name] = sorted(json.dumps(r, sort_keys=True, default=str) for r in rows)
        events = conn.execute(
            select(
                schema.events.c.type,
                schema.events.c.date,
                schema.events.c.status,
                schema.events.c.title,
            )
        ).all()
        out["events"] = sorted(json.dumps(list(e), default=str) for e in events)
    s.close()
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    for f in DEMO.glob("*.txt"):
        (folder / f.name).write_bytes(f.read_bytes())
    docs = BENCHMARKS / "gva-incidents" / "docs.jsonl"
    if docs.exists():
        with open(docs, encoding="utf-8") as src, open(folder / "gva.jsonl", "w") as dst:
            for i, line in enumerate(src):
                if i >= 150:
                    break
                dst.write(line)
    return folder


def test_ray_equals_local(corpus, tmp_path):
    local_db, ray_db = tmp_path / "local.db", tmp_path / "ray.db"
    s = open_store(local_db)
    r_local = ingest(s, [str(corpus)], progress=False, workers=2)
    s.close()
    s = open_store(ray_db)
    r_ray = ingest(s, [str(corpus)], progress=False, engine="ray", workers=2)
    s.close()
    assert sorted(r_local.added) == sorted(r_ray.added)
    assert len(r_local.added) >= 5
    a, b = snapshot(local_db), snapshot(ray_db)
    for name in a:
        assert a[name] == b[name], f"{name} differ between the local and Ray engines"
    assert a["sentences"], "nothing was annotated"
