#!/usr/bin/env python3
"""Set-up and everyday tasks, with nothing but python3 on the machine.

python3 tasks.py demo    # venv + install, index the bundled knowledge base, answer, then chat
python3 tasks.py test    # venv + install, run the whole test suite
python3 tasks.py lint    # ruff and mypy on bot/
python3 tasks.py vectors # after editing knowledge/: refresh the vectors shipped with it
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("ITAKU_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".itaku-installed"
SAMPLE_QUESTION = "委託先が再委託するとき、委託元は何をすべきですか？"


def _run(*cmd: str | Path) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], cwd=ROOT, check=True)


def _fingerprint() -> str:
    h = hashlib.sha256()
    for name in ("pyproject.toml", "requirements.lock", "requirements-dev.lock"):
        h.update((ROOT / name).read_bytes())
    return h.hexdigest()


def ensure_env() -> None:
    """Create the virtual environment and install the pinned dependencies (once per change)."""
    if STAMP.exists() and STAMP.read_text() == _fingerprint():
        return
    if not (BIN / "python").exists():
        print(f"creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    pip = (BIN / "python", "-m", "pip")
    _run(*pip, "install", "--quiet", "--disable-pip-version-check", "-r", "requirements-dev.lock")
    _run(*pip, "install", "--quiet", "--disable-pip-version-check", "--no-deps", "-e", ".[dev]")
    STAMP.write_text(_fingerprint())


def demo() -> None:
    ensure_env()
    _run(BIN / "itaku", "index")
    _run(BIN / "itaku", "ask", SAMPLE_QUESTION)
    if sys.stdin.isatty():
        _run(BIN / "itaku", "chat")


def test() -> None:
    ensure_env()
    _run(BIN / "python", "-m", "pytest", *sys.argv[2:])


def vectors() -> None:
    """Refresh the knowledge base's shipped vectors after editing it (knowledge/.vectors.sqlite3),
    so a new installation does not embed the bundled text again."""
    ensure_env()
    _run(
        BIN / "python",
        "-c",
        "from bot.config import Settings; from bot.knowledge.indexer import refresh_shipped_vectors;"
        " s = Settings(); n = refresh_shipped_vectors(s.knowledge_dir, s.resolved_embedding_cache);"
        " print(n, 'vectors shipped')",
    )


def lint() -> None:
    ensure_env()
    _run(BIN / "ruff", "check", "bot", "tests", "tasks.py")
    _run(BIN / "ruff", "format", "--check", "bot", "tests", "tasks.py")
    _run(BIN / "mypy", "bot")


TASKS = {"demo": demo, "test": test, "lint": lint, "vectors": vectors, "env": ensure_env}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in TASKS:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    try:
        TASKS[sys.argv[1]]()
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)
    except KeyboardInterrupt:
        sys.exit(130)
