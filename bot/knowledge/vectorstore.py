"""Chunks and their vectors in Chroma: embedded PersistentClient by default, a Chroma server
(HttpClient) when CHROMA_URL is set. One collection per index generation, so a failed indexing
run never touches the collection that is being served."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from bot.knowledge.embeddings import Vectors

log = logging.getLogger(__name__)

COLLECTION_PREFIX = "itaku-kb-g"


def open_client(data_dir: Path, chroma_url: str | None) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if chroma_url:
        url = urlparse(chroma_url)
        return chromadb.HttpClient(
            host=url.hostname or "127.0.0.1",
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    path = data_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


def collection_name(generation: int) -> str:
    return f"{COLLECTION_PREFIX}{generation}"


class VectorStore:
    def __init__(self, client: Any) -> None:
        self._client = client

    def create(self, name: str, embedder_name: str) -> Any:
        # A leftover of a crashed run with this number; Chroma raises different types per backend.
        with contextlib.suppress(Exception):
            self._client.delete_collection(name)
        return self._client.create_collection(
            name=name,
            embedding_function=None,  # we always pass vectors: never download Chroma's default model
            metadata={"hnsw:space": "cosine", "embedder": embedder_name},
        )

    def get(self, name: str) -> Any:
        return self._client.get_collection(name=name, embedding_function=None)

    def drop(self, name: str) -> None:
        try:
            self._client.delete_collection(name)
        except Exception:
            log.debug("collection already gone")

    def names(self) -> list[str]:
        return [c if isinstance(c, str) else c.name for c in self._client.list_collections()]

    def add(
        self,
        collection: Any,
        ids: Sequence[str],
        vectors: Vectors,
        documents: Sequence[str],
        metadatas: Sequence[dict[str, Any]],
    ) -> None:
        batch = self._max_batch()
        for start in range(0, len(ids), batch):
            end = start + batch
            collection.add(
                ids=list(ids[start:end]),
                embeddings=vectors[start:end],
                documents=list(documents[start:end]),
                metadatas=list(metadatas[start:end]),
            )

    @staticmethod
    def vectors_of(collection: Any, ids: Sequence[str]) -> dict[str, Vectors]:
        """The vectors of these ids, read in pages."""
        out: dict[str, Vectors] = {}
        for start in range(0, len(ids), 5000):
            got = collection.get(ids=list(ids[start : start + 5000]), include=["embeddings"])
            for cid, emb in zip(got["ids"], got["embeddings"], strict=True):
                out[cid] = np.asarray(emb, dtype=np.float32)
        return out

    def _max_batch(self) -> int:
        try:
            return max(1, min(int(self._client.get_max_batch_size()), 5000))
        except Exception:
            return 1000
