"""Where Storyline keeps local caches: ``$STORYLINE_CACHE``, else ``$XDG_CACHE_HOME/storyline``."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(kind: str) -> Path:
    """The cache folder for one kind of thing ("http", "ann"), created if missing."""
    base = os.environ.get("STORYLINE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "storyline"
    )
    path = Path(base) / kind
    path.mkdir(parents=True, exist_ok=True)
    return path
