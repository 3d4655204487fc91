"""Text as it may reach the core: no lone surrogates (they cannot be encoded, so a job that
stores or posts them fails after the request was acknowledged) and no control characters."""

from __future__ import annotations

import re
from typing import Any

from bot.knowledge.text import strip_control

_SURROGATE = re.compile(r"[\ud800-\udfff]")
_MAX_DEPTH = 32


class TooDeep(ValueError):
    """A payload nested deeper than any the platforms send."""


def clean_text(text: str) -> str:
    """The text without lone surrogates and control or invisible formatting characters (new
    lines and tabs stay)."""
    return strip_control(_SURROGATE.sub("", text))


def clean_tree(value: Any, depth: int = 0) -> Any:
    """Every string of a JSON-like value (keys too) cleaned; raises TooDeep past 32 levels."""
    if depth > _MAX_DEPTH:
        raise TooDeep("nested too deep")
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): clean_tree(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_tree(v, depth + 1) for v in value]
    return value
