"""Benchmarks: commands that print figures (not tests)."""

from __future__ import annotations

import os
import statistics
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def bench_settings(data_dir: Path, **extra: object) -> Settings:
    """Settings for a benchmark's temporary data folder, with the embedding cache kept across
    runs (ITAKU_EMBEDDING_CACHE, or .cache/ in the project): the bundled model embeds a few
    passages a second, so a corpus is embedded once, not on every run."""
    from bot.config import PROJECT_ROOT, Settings

    cache = os.environ.get("ITAKU_EMBEDDING_CACHE") or str(
        PROJECT_ROOT / ".cache" / "embeddings.sqlite3"
    )
    return Settings(ITAKU_DATA_DIR=data_dir, ITAKU_EMBEDDING_CACHE=Path(cache), **extra)  # type: ignore[arg-type]
