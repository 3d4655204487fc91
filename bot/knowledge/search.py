"""Hybrid search: Japanese lexical indexes (character n-grams, words, titles) and Chroma vectors,
fused into one ranking, then re-ranked by the best-matching sentence of each candidate.

Weights were tuned on JSQuAD (`itaku bench jsquad`) and the bundled question set; see README."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from bot.knowledge.embeddings import Embedder
from bot.knowledge.index_store import (
    IndexLayout,
    LexicalIndexes,
    read_chunks,
    read_docs,
    read_manifest,
)
from bot.knowledge.lexical import BM25Index, FloatArray
from bot.knowledge.models import Chunk, DocMeta
from bot.knowledge.query import KeyTerm, PreparedQuery
from bot.knowledge.text import normalize, split_sentences
from bot.knowledge.tokenize import char_tokens, word_tokens
from bot.knowledge.vectorstore import collection_name, query

log = logging.getLogger(__name__)


class IndexMissingError(RuntimeError):
    """No complete index in the data folder yet."""


@dataclass(frozen=True)
class FusionWeights:
    chars: float = 0.6
    words: float = 0.4
    titles: float = 0.2
    vector: float = 0.1
    sentence: float = 0.3
    candidates: int = 30
    vector_k: int = 50


@dataclass
class Hit:
    chunk: Chunk
    score: float
    coverage: float  # share (by idf) of the question's key terms found in this chunk


@dataclass
class SearchResult:
    hits: list[Hit]
    scorer: SentenceScorer
    key_weights: list[float]


class KnowledgeBase:
    """A complete index generation, loaded for searching."""

    def __init__(
        self,
        generation: int,
        chunks: list[Chunk],
        docs: dict[str, DocMeta],
        lexical: LexicalIndexes,
        embedder_name: str,
        collection: Any | None = None,
    ) -> None:
        self.generation = generation
        self.chunks = chunks
        self.docs = docs
        self.lexical = lexical
        self.embedder_name = embedder_name
        self.collection = collection
        self.position = {c.id: i for i, c in enumerate(chunks)}
        self._norm_cache: dict[int, str] = {}

    @classmethod
    def open(cls, data_dir: Path, client: Any | None = None) -> KnowledgeBase:
        layout = IndexLayout(data_dir)
        gen = layout.current_generation()
        if gen is None:
            raise IndexMissingError(f"no index in {data_dir}; run `itaku index` first")
        folder = layout.gen_dir(gen)
        manifest = read_manifest(folder)
        collection = None
        if client is not None:
            try:
                collection = client.get_collection(
                    name=collection_name(gen), embedding_function=None
                )
            except Exception:
                log.warning("vector collection for generation %d is unavailable", gen)
        return cls(
            gen,
            read_chunks(folder),
            read_docs(folder),
            LexicalIndexes.load(folder),
            manifest.embedder,
            collection,
        )

    def normalized_text(self, i: int) -> str:
        cached = self._norm_cache.get(i)
        if cached is None:
            c = self.chunks[i]
            cached = normalize(f"{c.title}\n{c.section}\n{c.text}")
            self._norm_cache[i] = cached
        return cached


def _unit_max(x: FloatArray) -> FloatArray:
    m = float(x.max()) if x.size else 0.0
    return x / m if m > 0 else x


class HybridSearcher:
    def __init__(
        self, kb: KnowledgeBase, embedder: Embedder | None, weights: FusionWeights | None = None
    ) -> None:
        self.kb = kb
        self.weights = weights or FusionWeights()
        use_vectors = (
            embedder is not None and kb.collection is not None and embedder.name == kb.embedder_name
        )
        self.embedder = embedder if use_vectors else None

    # -- ranking
    def search(self, q: PreparedQuery, k: int = 5) -> list[Hit]:
        return self.run(q, k).hits

    def run(self, q: PreparedQuery, k: int = 5) -> SearchResult:
        """Ranked hits, with the sentence scorer and key-term weights the ranking computed, so
        that composing the answer does not compute them again."""
        kb, w = self.kb, self.weights
        result = SearchResult([], SentenceScorer(q, kb.lexical), self.key_term_weights(q.key_terms))
        n = len(kb.chunks)
        if n == 0:
            return result
        lex = kb.lexical
        fused = (
            w.chars * _unit_max(lex.chars.scores(q.char_terms))
            + w.words * _unit_max(lex.words.scores(q.word_terms))
            + w.titles * _unit_max(lex.titles.scores(q.char_terms))
        )
        if self.embedder is not None and w.vector > 0:
            vec_scores = np.zeros(n, dtype=np.float32)
            try:
                for cid, sim in query(
                    kb.collection, self.embedder.embed_query(q.vector_text), w.vector_k
                ):
                    pos = kb.position.get(cid)
                    if pos is not None:
                        vec_scores[pos] = max(sim, 0.0)
            except Exception:
                log.warning("vector query failed; lexical ranking only")
            fused = fused + w.vector * _unit_max(vec_scores)
        m = min(w.candidates, n)
        cand = np.argpartition(-fused, m - 1)[:m] if m < n else np.arange(n)
        cand = cand[fused[cand] > 0]
        if cand.size == 0:
            return result
        scorer, weights = result.scorer, result.key_weights
        final = {
            int(i): float(fused[i]) + w.sentence * scorer.best_in(kb.chunks[int(i)].text)
            for i in cand
        }
        order = sorted(final, key=lambda i: -final[i])[:k]
        result.hits = [
            Hit(kb.chunks[i], final[i], self.coverage(q.key_terms, weights, kb.normalized_text(i)))
            for i in order
        ]
        return result

    # -- how much of the question a text covers
    def key_term_weights(self, terms: list[KeyTerm]) -> list[float]:
        words = self.kb.lexical.words
        return [min(_term_idf(words, alt, t.specific) for alt in t.alternatives) for t in terms]

    @staticmethod
    def coverage(terms: list[KeyTerm], weights: list[float], norm_text: str) -> float:
        total = sum(weights)
        if total <= 0:
            return 0.0
        got = sum(
            wt
            for t, wt in zip(terms, weights, strict=True)
            if any(a in norm_text for a in t.alternatives)
        )
        return got / total


UNSEEN_WEIGHT = 0.6  # share of the maximum idf given to a term the knowledge base never uses


def _term_idf(index: BM25Index, text: str, specific: bool = False) -> float:
    # A term absent from the whole knowledge base is evidence the question is out of scope,
    # but colloquial words (スタッフ, ダメ) are absent too: weigh it high, not absolute.
    unseen = index.max_idf * (1.0 if specific else UNSEEN_WEIGHT)
    toks = word_tokens(text) or [text]
    vals = [index.term_idf(t) for t in toks]
    return float(np.mean([v if v is not None else unseen for v in vals])) if vals else unseen


@lru_cache(maxsize=20_000)
def sentence_features(text: str) -> tuple[tuple[str, frozenset[str]], ...]:
    """A chunk's sentences with their character n-gram sets, cached: the same top chunks come
    back for many questions, and splitting and tokenising them is most of a question's cost."""
    return tuple((s, frozenset(char_tokens(s))) for s in split_sentences(text))


class SentenceScorer:
    """How well a sentence matches the question: idf-weighted share of the question's
    character n-grams that the sentence contains."""

    def __init__(self, q: PreparedQuery, lexical: LexicalIndexes) -> None:
        chars = lexical.chars
        weights: dict[str, float] = {}
        for term, qw in q.char_terms:
            idf = chars.term_idf(term)
            if idf is None:
                continue
            weights[term] = max(weights.get(term, 0.0), idf * qw)
        self.weights = weights
        self.total = sum(weights.values()) or 1.0

    def score_tokens(self, present: frozenset[str]) -> float:
        return sum(v for t, v in self.weights.items() if t in present) / self.total

    def best_in(self, text: str) -> float:
        return max((self.score_tokens(toks) for _, toks in sentence_features(text)), default=0.0)
