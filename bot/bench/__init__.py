"""Benchmarks: commands that print figures (not tests)."""

from __future__ import annotations

import os
import statistics
from pathlib import Path
from typing import TYPE_CHECKING, Any

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


def shared_embedding_cache() -> Path:
    """The embedding cache that benchmarks and tests keep across runs (ITAKU_EMBEDDING_CACHE,
    or .cache/ in the project): the bundled model embeds a few passages a second, so a corpus
    is embedded once per machine, not on every run."""
    from bot.config import PROJECT_ROOT

    configured = os.environ.get("ITAKU_EMBEDDING_CACHE")
    return Path(configured) if configured else PROJECT_ROOT / ".cache" / "embeddings.sqlite3"


def bench_settings(data_dir: Path, **extra: object) -> Settings:
    """Settings for a benchmark's temporary data folder, with the shared embedding cache."""
    from bot.config import Settings

    values: dict[str, Any] = {
        "ITAKU_DATA_DIR": data_dir,
        "ITAKU_EMBEDDING_CACHE": shared_embedding_cache(),
        **extra,
    }
    return Settings(**values)


def process_memory_mb(pid: int, field: str = "VmRSS") -> float:
    """A process's memory from /proc (VmRSS now, VmHWM its peak), in MB; NaN where unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def process_cpu_s(pid: int) -> float:
    """A process's CPU time so far (user + system, all its threads) from /proc, in seconds; NaN
    where unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


# benchmarks run the Slack app with a throwaway audit key of their own (its trail is discarded)
BENCH_AUDIT_KEY = "benchmark-audit-key-not-a-secret"
