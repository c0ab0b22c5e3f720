"""Safe HTML for untrusted article text: highlighted spans, escaped everything else.

Article text and titles come from the open web, so nothing in them is ever markup: every
character goes through ``markupsafe.escape`` and only our own ``<mark>`` tags are added. Spans
that cross each other are resolved by priority (a crossing lower-priority span is dropped), so
the output always nests properly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup, escape


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    cls: str  # CSS class: sentence, quote, ent, timex, trigger
    prio: int = 0  # higher wins when spans cross
    attrs: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    tag: str = "mark"


def _crosses(a: Span, b: Span) -> bool:
    return a.start < b.start < a.end < b.end or b.start < a.start < b.end < a.end


def nest(spans: list[Span], length: int) -> list[Span]:
    """Keep the spans that nest with every higher-priority span; clip them to the text."""
    kept: list[Span] = []
    for s in sorted(spans, key=lambda s: (-s.prio, s.start, -s.end)):
        start, end = max(0, s.start), min(length, s.end)
        if end <= start:
            continue
        s = Span(start, end, s.cls, s.prio, s.attrs, s.tag)
        if any(_crosses(s, k) for k in kept):
            continue
        kept.append(s)
    return kept


def highlight(text: str, spans: list[Span]) -> Markup:
    """``text`` as escaped HTML with each kept span wrapped in its own element."""
    kept = sorted(nest(spans, len(text)), key=lambda s: (s.start, -s.end, -s.prio))
    out: list[str] = []
    stack: list[Span] = []
    pos = 0
    for s in kept:
        while stack and stack[-1].end <= s.start:
            top = stack.pop()
            out.append(str(escape(text[pos : top.end])))
            out.append(f"</{top.tag}>")
            pos = top.end
        out.append(str(escape(text[pos : s.start])))
        pos = s.start
        attrs = "".join(f' {k}="{escape(v)}"' for k, v in s.attrs.items())
        out.append(f'<{s.tag} class="{escape(s.cls)}"{attrs}>')
        stack.append(s)
    while stack:
        top = stack.pop()
        out.append(str(escape(text[pos : top.end])))
        out.append(f"</{top.tag}>")
        pos = top.end
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))


def article_spans(article: dict[str, Any], focus: int | None = None) -> list[Span]:
    """The spans the article page highlights, from the ``queries.get_article`` record."""
    spans: list[Span] = []
    text = article.get("text", "")
    for s in article.get("sentences", []):
        # the focused sentence outranks everything; other sentences give way to quotes
        cls, prio = ("sentence focus", 7) if s["idx"] == focus else ("sentence", 5)
        end = s["end"]
        while end > s["start"] and end <= len(text) and text[end - 1].isspace():
            end -= 1  # no highlight on the blank line after a paragraph
        spans.append(Span(s["start"], end, cls, prio, {"id": f"s-{s['idx']}"}, "span"))
    for q in article.get("quotes", []):
        who = q.get("speaker_canonical") or q.get("speaker") or "unknown speaker"
        spans.append(
            Span(q["start"], q["end"], f"quote {q['kind']}", 6, {"title": f"quote: {who}"})
        )
    for e in article.get("event_mentions", []):
        spans.append(
            Span(
                e["start"], e["end"], "trigger", 3, {"title": f"event {e['type']} ({e['status']})"}
            )
        )
    for x in article.get("timexes", []):
        spans.append(Span(x["start"], x["end"], "timex", 2, {"title": f"{x['type']} {x['value']}"}))
    for m in article.get("mentions", []):
        title = m["label"] + (f": {m['canonical']}" if m.get("canonical") else "")
        spans.append(
            Span(m["start"], m["end"], f"ent ent-{m['label'].lower()}", 1, {"title": title})
        )
    return spans


def sentence_html(text: str, trigger: list[int] | None) -> Markup:
    """An evidence sentence with its event trigger marked."""
    if not trigger:
        return Markup(escape(text))
    return highlight(text, [Span(trigger[0], trigger[1], "trigger", 1)])


def snippet_html(snippet: str | None) -> Markup:
    """A search snippet (matches in ``[...]``) as escaped HTML with the matches marked."""
    import re

    html = str(escape(snippet or ""))
    return Markup(re.sub(r"\[([^\[\]<>]{1,200})\]", r'<mark class="hit">\1</mark>', html))


def safe_url(url: str | None) -> str | None:
    """Only http(s) links are rendered as links; ``javascript:`` and friends become text."""
    if not url:
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url.strip() if scheme in ("http", "https") else None
