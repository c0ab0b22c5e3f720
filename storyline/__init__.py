"""Storyline: turn news coverage of a developing story into a sourced chronicle.

import storyline
sl = storyline.open("news.db")
sl.ingest(["~/news/"])
for article in sl.articles():
    print(article.pub_date, article.title)
"""

from __future__ import annotations

from .api import Storyline, open
from .errors import InputError, NotFound, StoreError, StorylineError
from .records import Annotations, Article, EventMention, Mention, Quote, RawDoc, Sentence, Timex

__all__ = [
    "open",
    "Storyline",
    "Article",
    "Annotations",
    "EventMention",
    "Mention",
    "Quote",
    "RawDoc",
    "Sentence",
    "Timex",
    "StorylineError",
    "InputError",
    "StoreError",
    "NotFound",
]
__version__ = "0.1.0"
