"""The vocabulary dialog models are written in: text types with their limits, the UI hints a
field carries (read by bot/dialogs/spec.py), and the range of dates a dialog accepts."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import StringConstraints


def _trimmed(max_length: int) -> StringConstraints:
    """Required text, trimmed, between 1 and `max_length` characters."""
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)


ShortText = Annotated[str, _trimmed(100)]
Address = Annotated[str, _trimmed(200)]
LongText = Annotated[str, _trimmed(500)]
Country = Annotated[str, _trimmed(50)]

EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2100, 12, 31)


def ui(label: str, label_en: str, **extra: Any) -> dict[str, Any]:
    """A field's json_schema_extra: `label` (ja), `label_en`, and `options`, `reason` or
    `kind` (textarea, multi) where the type alone does not say how to ask."""
    return {"label": label, "label_en": label_en, **extra}


def plausible(value: dt.date, what: str) -> dt.date:
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"{what}は{EARLIEST.year}年から{LATEST.year}年の間の日付にしてください。")
    return value
