import random

import numpy as np
import pytest

from supportbot.ai import finetune, onnx_export
from supportbot.ai.embeddings import Embedder, resolve_model_path
from supportbot.ai.index import passages_of
from supportbot.config import get_settings


def test_hold_out_moves_a_share_of_each_articles_phrasings_to_dev(articles):
    kept, dev = finetune.hold_out(articles, fraction=0.34, seed=1)
    assert len(kept) == len(articles) and len(dev) == len(articles)  # 3 phrasings: 1 out
    for article, trimmed in zip(articles, kept, strict=True):
        held = [query.text for query in dev if query.gold_id == article.id]
        assert len(held) == 1 and held[0] in article.examples
        assert held[0] not in trimmed.examples and len(trimmed.examples) == 2
    assert finetune.hold_out(articles, fraction=0.34, seed=1) == (kept, dev)  # repeatable


def test_articles_with_few_phrasings_keep_them_all(articles):
    few = [article.__class__(**{**article.__dict__, "examples": article.examples[:2]})
           for article in articles]
    kept, dev = finetune.hold_out(few)
    assert kept == few and dev == []


def test_pairs_are_every_phrasing_plus_known_extra_questions(articles):
    extra = [finetune.Pair("my vpn is broken again", articles[0].id),
             finetune.Pair("unknown article", "nope"), finetune.Pair("  ", articles[0].id)]
    pairs = finetune.pairs_from(articles, extra)
    assert len(pairs) == sum(len(a.examples) for a in articles) + 1
    assert pairs[-1] == extra[0]


def test_a_batch_never_holds_two_pairs_of_one_article():
    pairs = [finetune.Pair(f"q{i}", f"a{i % 5}") for i in range(40)]
    batches = finetune._batches(pairs, 4, random.Random(0))
    for batch in batches:
        ids = [pair.article_id for pair in batch]
        assert len(ids) == len(set(ids)) and 1 < len(batch) <= 4
    used = [pair for batch in batches for pair in batch]
    assert len(used) == len(set(used))
    # Only lone leftovers (a batch of one teaches nothing) are dropped: one per article at most.
    assert len(used) > 40 - 5


def test_training_pulls_phrasings_towards_their_article(articles, tmp_path, embedder):
    pairs = finetune.pairs_from(articles)
    figures = finetune.train(resolve_model_path("all-MiniLM-L6-v2"), articles, pairs,
                             tmp_path / "model", epochs=3, learning_rate=1e-4)
    # 10 articles: batches of at most 10 pairs (one per article), 3 a pass
    assert figures["pairs"] == 30 and figures["steps"] == 9
    tuned = Embedder(str(tmp_path / "model"))
    # A fine-tuned model gets its own ONNX export (another content key than the base's).
    assert tuned.backend == "onnx" == embedder.backend
    # and the same kind of vectors as the shipped model's (EMBEDDING_PRECISION)
    assert tuned.precision == embedder.precision == get_settings().embedding_precision
    assert onnx_export.model_key(tmp_path / "model") != onnx_export.model_key(
        resolve_model_path("all-MiniLM-L6-v2"))
    anchors = [passages_of(article)[0] for article in articles]

    def margin(model: Embedder) -> float:
        """Mean similarity of each phrasing to its own article minus the best other one."""
        sims = model.encode([p.query for p in pairs]) @ model.encode(anchors).T
        own = np.array([[a.id for a in articles].index(p.article_id) for p in pairs])
        right = sims[np.arange(len(pairs)), own]
        sims[np.arange(len(pairs)), own] = -1
        return float(np.mean(right - sims.max(axis=1)))

    assert margin(tuned) > margin(embedder) + 0.05


def test_training_without_pairs_is_refused(articles, tmp_path):
    with pytest.raises(ValueError, match="no training pairs"):
        finetune.train(resolve_model_path("all-MiniLM-L6-v2"), articles, [], tmp_path / "m")
