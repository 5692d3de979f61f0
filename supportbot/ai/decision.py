"""The one place that decides, from a search result, whether the bot may answer.

The conversation engine adds its escalation rules (keywords, a request for a person,
turns without resolution) on top; evaluation and the live chat share this core.
"""

from __future__ import annotations

from supportbot.ai.retriever import SearchResult


def confident_enough(result: SearchResult, threshold: float) -> bool:
    """Answer only with a source, and only at or above the confidence threshold."""
    return result.top is not None and result.confidence >= threshold
