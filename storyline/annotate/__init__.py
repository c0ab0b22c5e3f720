"""The annotate stage: one article in, its sentences, entities, times, quotes and events out.

Like a spaCy pipeline, annotation is a list of named components run in order over one parsed
document. Each component is a pure function ``run(ctx)`` that reads what earlier components put
in ``ctx.ann`` and adds its own records, with character offsets into the article text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..records import Annotations, Article, Sentence
from .nlp import MAX_CHARS, load_nlp

if TYPE_CHECKING:
    from spacy.tokens import Doc

log = logging.getLogger(__name__)

__all__ = ["Context", "annotate", "annotate_many", "COMPONENTS", "VERSION"]

VERSION = "1"  # bump when annotations change, so stores can tell stale ones


@dataclass
class Context:
    """What a component sees: the article, its parse, and what earlier components found."""

    article_id: str
    text: str
    pub_date: str | None  # ISO publication date, or None when unknown
    doc: Doc
    ann: Annotations


def _sentences(ctx: Context) -> None:
    for i, sent in enumerate(ctx.doc.sents):
        ctx.ann.sentences.append(
            Sentence(index=i, start=sent.start_char, end=sent.end_char, text=sent.text)
        )


def _components() -> list[tuple[str, Callable[[Context], None]]]:
    from . import entities, events, quotes, timex

    return [
        ("sentences", _sentences),
        ("entities", entities.run),
        ("timex", timex.run),
        ("quotes", quotes.run),
        ("events", events.run),
    ]


COMPONENTS = ["sentences", "entities", "timex", "quotes", "events"]


def should_skip(article: Article) -> str | None:
    if not article.is_article:
        return "not annotated: not an article"
    if article.language and article.language != "en":
        return f"not annotated: language {article.language}"
    if not article.text.strip():
        return "not annotated: empty text"
    return None


def annotate_doc(article_id: str, text: str, pub_date: str | None, doc: Doc) -> Annotations:
    """Run every component over one parsed document."""
    ctx = Context(article_id, text, pub_date, doc, Annotations(article_id=article_id))
    for name, run in _components():
        try:
            run(ctx)
        except Exception as exc:  # one component's bug must not lose the article
            log.warning("annotate: %s failed on %s: %s", name, article_id, exc, exc_info=True)
            ctx.ann.notes.append(f"{name} failed: {type(exc).__name__}: {exc}")
    return ctx.ann


def annotate(article: Article) -> Annotations:
    """Annotate one article (loads the model on first use)."""
    return annotate_many([article])[0]


def annotate_many(articles: Sequence[Article], batch_size: int = 32) -> list[Annotations]:
    """Annotate articles in one process, batching the neural pipeline with ``nlp.pipe``."""
    out: list[Annotations | None] = [None] * len(articles)
    todo: list[int] = []
    for i, art in enumerate(articles):
        reason = should_skip(art)
        if reason:
            out[i] = Annotations(article_id=art.id, notes=[reason])
        else:
            todo.append(i)
    if todo:
        nlp = load_nlp()
        texts = (articles[i].text[:MAX_CHARS] for i in todo)
        for i, doc in zip(todo, nlp.pipe(texts, batch_size=batch_size), strict=True):
            art = articles[i]
            ann = annotate_doc(art.id, doc.text, _known_date(art), doc)
            if len(art.text) > MAX_CHARS:
                ann.notes.append(f"only the first {MAX_CHARS:,} characters were annotated")
            out[i] = ann
    return [a for a in out if a is not None]


def _known_date(art: Article) -> str | None:
    return art.pub_date if art.pub_date and art.pub_date_precision == "day" else None


def iter_annotate(articles: Iterable[Article]) -> Iterable[Annotations]:
    yield from annotate_many(list(articles))
