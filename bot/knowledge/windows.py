"""Sentence windows: two consecutive sentences of a chunk, each embedded on its own.

A chunk's vector is the mean of all its sentences, so a question about one of them (JSQuAD's
mostly are) is diluted by the rest. In documents not written for Itaku (a file a team indexes:
text, PDF, Word), each window of a chunk of three sentences or more is embedded too, and a
chunk is also scored by its best window. Measured on JSQuAD validation (fused as one more
z-score, weight 1.0): R@1 0.935 -> 0.936, R@5 0.978 -> 0.980 (4,345 -> 4,354 of 4,442), answer
hit 0.881 -> 0.883. A chunk of one or two sentences is its own window."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

import numpy as np

from bot.knowledge.lexical import FloatArray
from bot.knowledge.text import split_sentences

if TYPE_CHECKING:
    from bot.knowledge.models import Chunk

# fewer sentences than this: the chunk's own vector is the window
MIN_SENTENCES = 3


def embeds_windows(embedder_name: str) -> bool:
    """Windows are embedded by the bundled model only: it runs here at no cost per call, while
    an endpoint would be asked for several texts more per chunk."""
    from bot.knowledge.embeddings import E5Embedder

    return embedder_name == E5Embedder.name


def window_texts(chunk: Chunk) -> list[str]:
    """The texts to embed for the chunk's windows, each under the chunk's title and heading
    (as the chunk itself is embedded); none for a short chunk."""
    sentences = split_sentences(chunk.text)
    if len(sentences) < MIN_SENTENCES:
        return []
    head = [p for p in (chunk.title, chunk.section) if p]
    return ["\n".join([*head, sentences[j] + sentences[j + 1]]) for j in range(len(sentences) - 1)]


def windows_of(chunks: list[Chunk], written: Collection[str] = ()) -> tuple[list[str], np.ndarray]:
    """Every chunk's window texts in chunk order, and the index of the chunk each belongs to.
    Documents `written` for Itaku (with front matter: the bundled knowledge base) have none:
    each of their sections opens with a self-contained answer and carries a curator's
    paraphrases, which its windows outvoted (the question sets, 3,147 questions, lost 39
    answers with every chunk's windows, 24 with those of sections without paraphrases)."""
    texts: list[str] = []
    owner: list[int] = []
    for i, chunk in enumerate(chunks):
        own = [] if chunk.source in written else window_texts(chunk)
        texts.extend(own)
        owner.extend([i] * len(own))
    return texts, np.asarray(owner, dtype=np.int64)


def best_window(chunk_sims: FloatArray, window_sims: FloatArray, owner: np.ndarray) -> FloatArray:
    """Each chunk's similarity by its best window (by its own vector where it has none).
    `owner` is sorted, as `windows_of` gives it."""
    best = chunk_sims.copy()
    if owner.size == 0:
        return best
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    best[owner[starts]] = np.maximum.reduceat(window_sims, starts)
    return best
