"""Embedding providers. Pluggable: an OpenAI-compatible endpoint when configured, otherwise an
offline hashing embedder that needs no model download.

Why hashing offline: Chroma's default model (all-MiniLM-L6-v2) is English-only and downloads
itself at first use, so it fails offline and scores R@1 0.20 on JSQuAD. A signed feature-hashing
vector of character bi- and trigrams is deterministic, instant, and adds a fuzzy-match signal to
the lexical index (measured in `itaku bench jsquad`)."""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

from bot.knowledge.text import normalize

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
