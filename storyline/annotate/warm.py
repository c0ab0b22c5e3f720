"""Imported by the pool's fork server (see ``pipeline.worker_imports``): loads the spaCy model
and the gazetteer once, so that every worker forked from the server starts with them instead
of spending seconds of CPU each on loading them again. (The sentence encoder is not loaded
here: torch's thread pools must not be started before a fork.)"""

from __future__ import annotations

from .gazetteer import gazetteer
from .nlp import load_nlp

load_nlp()
gazetteer()
