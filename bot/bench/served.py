"""A real `itaku serve` process for the benchmarks: the bundled knowledge base indexed into a
temporary folder, a platform stand-in started, and the server on a free port of 127.0.0.1 with
the settings that point it at the stand-in (its log in tmp/app.log); everything stopped on exit.
`itaku bench slack` and `bench fuzz` serve Slack (`--http`), `bench teams` serves Teams."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar
from urllib.parse import urlsplit

from bot.bench import BENCH_AUDIT_KEY
from bot.bench.local_server import LocalServer

S = TypeVar("S", bound=LocalServer)
# settings of the benchmarking shell that must not leak into the served process
_FOREIGN_PREFIXES = ("OPENAI_", "SLACK_", "TEAMS_", "CHROMA_")


def index_bundled(data_dir: Path) -> None:
    from bot.config import Settings
    from bot.knowledge.embeddings import HashingEmbedder
    from bot.knowledge.indexer import run_index
    from bot.knowledge.vectorstore import VectorStore, open_client

    settings = Settings(ITAKU_DATA_DIR=data_dir)
    run_index(
        [settings.knowledge_dir],
        data_dir,
        HashingEmbedder(),
        VectorStore(open_client(data_dir, None)),
    )


def start_app(
    flags: Sequence[str], env: Mapping[str, str], banner: str, tmp: Path
) -> tuple[subprocess.Popen[str], str]:
    """`itaku serve FLAGS` on a free port of 127.0.0.1 (its log in tmp/app.log), once it has
    printed the line containing `banner` (whose last word is the URL returned) and its
    /healthz answers."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", *flags, "--host", "127.0.0.1", "--port", "0"],
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=(tmp / "app.log").open("w"),
        text=True,
    )
    assert proc.stdout is not None
    url = ""
    for line in proc.stdout:  # the banners come after start-up; EOF if it exits first
        if banner in line and "http://" in line:
            url = line.split()[-1]
            break
    if not url:
        proc.kill()
        proc.wait()
        sys.stderr.write((tmp / "app.log").read_text(errors="replace"))
        raise RuntimeError("the app did not start (its messages are above)")
    parts = urlsplit(url)
    health = f"{parts.scheme}://{parts.netloc}/healthz"
    for _ in range(100):
        try:
            with urllib.request.urlopen(health, timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.05)
    return proc, url


@dataclass
class ServedApp(Generic[S]):
    """A real `itaku serve` on the bundled knowledge base, against a platform stand-in."""

    tmp: Path
    standin: S
    proc: subprocess.Popen[str]
    url: str

    def stop(self) -> None:
        """Stop the app (again: nothing); its log (tmp/app.log) is complete afterwards."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log_text(self) -> str:
        return (self.tmp / "app.log").read_text(errors="replace")


@contextmanager
def serve_against(
    prefix: str,
    standin: S,
    flags: Sequence[str],
    app_env: Callable[[S], Mapping[str, str]],
    banner: str,
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[ServedApp[S]]:
    """Index the bundled knowledge base into a temporary folder, start `standin`, and serve
    (`itaku serve FLAGS`, with `app_env(standin)` and `extra_env` over a throwaway database and
    audit key); all stopped on exit."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp_name:
        tmp = Path(tmp_name)
        print("indexing the bundled knowledge base…", flush=True)
        index_bundled(tmp / "data")
        with standin:
            env = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN_PREFIXES)}
            env.update(
                ITAKU_DATA_DIR=str(tmp / "data"),
                DATABASE_URL=f"sqlite:///{tmp / 'bench.db'}",
                ITAKU_AUDIT_KEY=BENCH_AUDIT_KEY,
                ITAKU_AUDIT_ANCHOR=str(tmp / "audit-anchor.log"),
            )
            env.update(app_env(standin))
            env.update(extra_env or {})
            proc, url = start_app(flags, env, banner, tmp)
            app = ServedApp(tmp, standin, proc, url)
            try:
                yield app
            finally:
                app.stop()
