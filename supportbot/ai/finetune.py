"""Local fine-tuning of the embedding model on the KB's own phrasings.

Each alternative phrasing of an article (and each validated user question, such as one
a user marked helpful) is paired with the article's head passage; the model learns to
put them together with an in-batch contrastive loss (sentence-transformers'
MultipleNegativesRankingLoss). Batches never hold two pairs of the same article, so no
pair is pushed away from its own article. Plain records in, a model folder out: no
database here (services/finetune.py gathers the data and decides what to activate).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from supportbot.ai.index import passages_of
from supportbot.ai.queries import Query
from supportbot.ai.records import ArticleRecord

HOLDOUT_FRACTION = 0.2
HOLDOUT_MIN_EXAMPLES = 3  # articles with fewer phrasings keep them all for training
# Chosen on clinc150 dev (docs/retrieval.md): 1 pass at 2e-5 took R@1 0.878 -> 0.896,
# 3 passes at 5e-5 to 0.918.
EPOCHS = 3
LEARNING_RATE = 5e-5


@dataclass(frozen=True)
class Pair:
    query: str
    article_id: str


def pairs_from(articles: list[ArticleRecord], extra: Iterable[Pair] = ()) -> list[Pair]:
    """Every phrasing of every article, plus `extra` pairs for articles in `articles`."""
    known = {article.id for article in articles}
    pairs = [Pair(example, article.id) for article in articles for example in article.examples]
    pairs += [pair for pair in extra if pair.article_id in known and pair.query.strip()]
    return pairs


def hold_out(articles: list[ArticleRecord], *, fraction: float = HOLDOUT_FRACTION,
             seed: int = 0) -> tuple[list[ArticleRecord], list[Query]]:
    """Set aside a share of each article's phrasings as dev queries.

    Returns the articles without those phrasings (to train and index on) and the dev
    queries (gold: their article). Articles with few phrasings keep them all.
    """
    generator = random.Random(seed)
    kept, dev = [], []
    for article in articles:
        examples = list(article.examples)
        if len(examples) < HOLDOUT_MIN_EXAMPLES:
            kept.append(article)
            continue
        generator.shuffle(examples)
        count = max(1, round(len(examples) * fraction))
        dev += [Query(qid=f"{article.id}#{number}", text=text, gold_id=article.id,
                      lang=article.lang, split="dev")
                for number, text in enumerate(examples[:count], start=1)]
        kept.append(replace(article, examples=tuple(e for e in article.examples
                                                    if e not in examples[:count])))
    return kept, dev


def _batches(pairs: list[Pair], batch_size: int, generator: random.Random) -> list[list[Pair]]:
    """Shuffled batches in which no article appears twice (its other pairs would count as
    negatives otherwise)."""
    order = pairs[:]
    generator.shuffle(order)
    batches: list[list[Pair]] = []
    open_batches: list[tuple[list[Pair], set[str]]] = []
    for pair in order:
        for batch, ids in open_batches:
            if pair.article_id not in ids:
                batch.append(pair)
                ids.add(pair.article_id)
                if len(batch) == batch_size:
                    batches.append(batch)
                    open_batches.remove((batch, ids))
                break
        else:
            open_batches.append(([pair], {pair.article_id}))
    batches += [batch for batch, _ids in open_batches if len(batch) > 1]
    generator.shuffle(batches)
    return batches


def train(base_model: Path, articles: list[ArticleRecord], pairs: list[Pair], output: Path, *,
          epochs: int = EPOCHS, batch_size: int = 32, learning_rate: float = LEARNING_RATE,
          seed: int = 0,
          progress: Callable[[int, int], None] | None = None) -> dict[str, object]:
    """Fine-tune the sentence-transformers model at `base_model`; save it to `output`.

    Returns training figures (pairs, steps, mean loss of the last epoch).
    """
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    if not pairs:
        raise ValueError("no training pairs: the KB has no alternative phrasings")
    torch.manual_seed(seed)
    generator = random.Random(seed)
    model = SentenceTransformer(str(base_model), device="cpu", local_files_only=True)
    loss_function = MultipleNegativesRankingLoss(model)
    anchor_of = {article.id: passages_of(article)[0] for article in articles}
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate)
    plan = [_batches(pairs, batch_size, generator) for _epoch in range(epochs)]
    total = sum(len(batches) for batches in plan)
    warmup = max(1, total // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / warmup) * max(0.0, (total - step) / total))
    model.train()
    step, losses = 0, []
    for batches in plan:
        losses = []
        for batch in batches:
            queries = model.preprocess([pair.query for pair in batch])
            anchors = model.preprocess([anchor_of[pair.article_id] for pair in batch])
            loss = loss_function([dict(queries), dict(anchors)], labels=None)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            losses.append(float(loss.detach()))
            step += 1
            if progress:
                progress(step, total)
    model.eval()
    output.mkdir(parents=True, exist_ok=True)
    model.save(str(output))
    return {"pairs": len(pairs), "steps": total, "epochs": epochs,
            "final_loss": round(sum(losses) / len(losses), 4) if losses else None}
