"""Hybrid search: Japanese lexical indexes (character n-grams, words, titles) and the chunks'
vectors (kept in Chroma, held in memory while serving), fused into one ranking by z-scores, then
re-ranked by the best-matching sentence of each candidate.

Weights were tuned on JSQuAD (`itaku bench jsquad`) and the bundled question sets; see README."""

from __future__ import annotations

import copy
import logging
import math
import threading
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from bot.knowledge.embeddings import Embedder, HashingEmbedder
from bot.knowledge.index_store import (
    VECTORS_FILE,
    WINDOW_OWNER_FILE,
    WINDOWS_FILE,
    IndexLayout,
    LexicalIndexes,
    read_chunks,
    read_docs,
    read_manifest,
)
from bot.knowledge.lexical import BM25Index, FloatArray
from bot.knowledge.models import Chunk, DocMeta
from bot.knowledge.query import KeyTerm, PreparedQuery, law_names
from bot.knowledge.text import has_japanese, normalize, split_sentences
from bot.knowledge.tokenize import char_tokens, word_tokens
from bot.knowledge.vectorstore import VectorStore, collection_name
from bot.knowledge.windows import best_window

log = logging.getLogger(__name__)


class IndexMissingError(RuntimeError):
    """No complete index in the data folder yet."""


@dataclass(frozen=True)
class FusionWeights:
    chars: float = 0.6
    words: float = 0.4
    titles: float = 0.2
    # with vectors: the lexical and the semantic score, each as a z-score over the whole index
    lexical_z: float = 1.0
    vector_z: float = 1.0
    # … and each chunk's best sentence window, as a z-score too (JSQuAD R@5 0.978 -> 0.980)
    window_z: float = 1.0
    sentence: float = 0.3
    candidates: int = 30
    # the best two consecutive sentences of a candidate, by the question's n-grams weighed by how
    # rare they are among the candidates themselves: what tells apart the paragraphs of one
    # article, which share its words (four in five of JSQuAD's misses at rank 1). JSQuAD R@1
    # 0.930 -> 0.935 (weights 4-16 within 0.1 pt). In full when the question reuses a
    # candidate's words (best sentence overlap 0.7 and up), not at all below 0.5 nor for English:
    # weighed for every question it lost 5-8 answers of the question sets (paraphrases); gated,
    # at most one first sentence
    local: float = 12.0
    local_overlap: tuple[float, float] = (0.5, 0.7)
    # without a semantic model (hashing vectors): the old unit-max blend
    vector: float = 0.1


@dataclass
class Hit:
    chunk: Chunk
    score: float
    coverage: float  # share (by idf) of the question's key terms found in this chunk
    similarity: float | None = None  # cosine of the question's and the chunk's vectors
    # the chunk's title, section and text, normalised (what `coverage` was measured on), so that
    # coverage with other weights needs no second normalisation
    normalized: str = field(default="", repr=False)


@dataclass
class SearchResult:
    hits: list[Hit]
    scorer: SentenceScorer
    key_weights: list[float]
    absent: list[bool] = field(default_factory=list)  # per key term: nowhere in the KB
    # laws the question names (in its own words, not the situation told) that the knowledge base
    # never mentions and the glossary does not know
    unknown_laws: list[str] = field(default_factory=list)
    embedder: str | None = None  # whose similarities the hits carry (None: lexical only)


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
        vectors_file: Path | None = None,
        windows_file: Path | None = None,
    ) -> None:
        self.generation = generation
        self.chunks = chunks
        self.docs = docs
        self.lexical = lexical
        self.embedder_name = embedder_name
        self.collection = collection
        self.position = {c.id: i for i, c in enumerate(chunks)}
        self._norm_cache: dict[int, str] = {}
        self.vectors_file = vectors_file
        self._vectors: FloatArray | None = None
        self._vectors_lock = threading.Lock()
        self.windows_file = windows_file
        self._windows: tuple[FloatArray, np.ndarray] | None = None

    @property
    def has_vectors(self) -> bool:
        return self.vectors_file is not None or self.collection is not None

    def vectors(self) -> FloatArray | None:
        """Every chunk's vector, in chunk order, held in memory: an exact similarity for every
        chunk costs one matrix product. Read from the generation's own copy (no Chroma client to
        start: a second of cold start), else from Chroma, the store of record."""
        if self._vectors is not None or not self.has_vectors:
            return self._vectors
        with self._vectors_lock:
            if self._vectors is None:
                try:
                    self._vectors = self._read_vectors()
                except Exception:
                    log.warning("vectors for generation %d are unavailable", self.generation)
                    self.vectors_file = self.collection = None
        return self._vectors

    def windows(self) -> tuple[FloatArray, np.ndarray] | None:
        """The vectors of the chunks' sentence windows and the chunk each belongs to, held in
        memory (None where the generation has none: another embedder, or an older index)."""
        if self._windows is not None or self.windows_file is None:
            return self._windows
        with self._vectors_lock:
            if self._windows is None and self.windows_file is not None:
                try:
                    matrix: FloatArray = np.load(self.windows_file)
                    owner = np.load(self.windows_file.with_name(WINDOW_OWNER_FILE))
                    if matrix.shape[0] != owner.shape[0] or (
                        owner.size and int(owner.max()) >= len(self.chunks)
                    ):
                        raise ValueError("windows do not match the chunks")
                    self._windows = (matrix, owner)
                except Exception:
                    log.warning(
                        "sentence windows for generation %d are unavailable", self.generation
                    )
                    self.windows_file = None
        return self._windows

    def _read_vectors(self) -> FloatArray | None:
        if self.vectors_file is not None:
            matrix: FloatArray = np.load(self.vectors_file)
            if matrix.shape[0] != len(self.chunks):
                raise ValueError("vectors do not match the chunks")
            return matrix
        got = VectorStore.vectors_of(self.collection, [c.id for c in self.chunks])
        return np.stack([got[c.id] for c in self.chunks]) if got else None

    @staticmethod
    def has_own_vectors(data_dir: Path) -> bool:
        """Whether the current generation carries its vectors (then no Chroma client is needed
        to answer)."""
        layout = IndexLayout(data_dir)
        gen = layout.current_generation()
        return gen is not None and (layout.gen_dir(gen) / VECTORS_FILE).is_file()

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
            own if (own := folder / VECTORS_FILE).is_file() else None,
            windows if (windows := folder / WINDOWS_FILE).is_file() else None,
        )

    def section_of(self, chunk: Chunk) -> list[Chunk]:
        """The chunks of the chunk's section (same document, same heading path), in order."""
        i = self.position[chunk.id]
        start = i
        while start > 0 and _same_section(self.chunks[start - 1], chunk):
            start -= 1
        end = i + 1
        while end < len(self.chunks) and _same_section(self.chunks[end], chunk):
            end += 1
        return self.chunks[start:end]

    @cached_property
    def full_text(self) -> str:
        """Every chunk's normalised text (with its title, section and curated questions), one
        string: whether a phrase occurs anywhere in the knowledge base."""
        return "\n".join(normalize(f"{c.title}\n{c.section}\n{c.searchable}") for c in self.chunks)

    def normalized_text(self, i: int) -> str:
        cached = self._norm_cache.get(i)
        if cached is None:
            c = self.chunks[i]
            cached = normalize(f"{c.title}\n{c.section}\n{c.text}")
            self._norm_cache[i] = cached
        return cached


def _same_section(a: Chunk, b: Chunk) -> bool:
    return a.source == b.source and a.section == b.section


def _unit_max(x: FloatArray) -> FloatArray:
    m = float(x.max()) if x.size else 0.0
    return x / m if m > 0 else x


def _z(x: FloatArray) -> FloatArray:
    sd = float(x.std()) if x.size > 1 else 0.0
    return (x - float(x.mean())) / sd if sd > 1e-9 else np.zeros_like(x)


class HybridSearcher:
    def __init__(
        self, kb: KnowledgeBase, embedder: Embedder | None, weights: FusionWeights | None = None
    ) -> None:
        self.kb = kb
        self.weights = weights or FusionWeights()
        use_vectors = embedder is not None and kb.has_vectors and embedder.name == kb.embedder_name
        self.embedder = embedder if use_vectors else None
        # a model that relates meanings ranks every chunk; hashing vectors only add fuzziness
        self.semantic = self.embedder is not None and not isinstance(self.embedder, HashingEmbedder)

    # -- ranking
    def search(self, q: PreparedQuery, k: int = 5) -> list[Hit]:
        return self.run(q, k).hits

    def run(self, q: PreparedQuery, k: int = 5) -> SearchResult:
        """Ranked hits, with the sentence scorer and key-term weights the ranking computed, so
        that composing the answer does not compute them again."""
        kb, w = self.kb, self.weights
        # the question is embedded first, not beside the lexical scoring: the model's OpenMP
        # threads take both cores, and a Python thread beside them made each wait for the other
        # (1k chunks: p50 40 -> 24-33 ms, p95 50-53 -> 39-51 ms, embedding alone p50 20 ms)
        embedding = self._embed(q) if len(kb.chunks) else None
        result = SearchResult(
            [],
            SentenceScorer(q, kb.lexical),
            self.key_term_weights(q.key_terms),
            self.absent_terms(q.key_terms),
            unknown_laws=self.unknown_laws(q),
        )
        n = len(kb.chunks)
        if n == 0:
            return result
        lex = kb.lexical
        lexical = (
            w.chars * _unit_max(lex.chars.scores(q.char_terms))
            + w.words * _unit_max(lex.words.scores(q.word_terms))
            + w.titles * _unit_max(lex.titles.scores(q.char_terms))
        )
        sims = self._similarities(embedding)
        if sims is None:
            fused = lexical
            matched = lexical > 0
        elif self.semantic:
            fused = w.lexical_z * _z(lexical) + w.vector_z * _z(sims)
            windows = kb.windows() if w.window_z else None
            if windows is not None and embedding is not None:
                # each chunk by its best two consecutive sentences too (`bot.knowledge.windows`)
                best = best_window(sims, windows[0] @ embedding, windows[1])
                fused = fused + w.window_z * _z(best)
            matched = np.ones(n, dtype=bool)  # the model relates any question to any chunk
            result.embedder = kb.embedder_name
        else:
            fused = lexical + w.vector * _unit_max(np.maximum(sims, 0.0))
            matched = lexical > 0
        m = min(w.candidates, n)
        cand = np.argpartition(-fused, m - 1)[:m] if m < n else np.arange(n)
        cand = cand[matched[cand]]
        if cand.size == 0:
            return result
        scorer, weights = result.scorer, result.key_weights
        texts = {int(i): kb.chunks[int(i)].text for i in cand}
        overlap = {i: scorer.best_in(text) for i, text in texts.items()}
        # a question that reuses a candidate's words: tell the candidates apart by the words
        # only some of them hold (a paraphrase, which shares few words, is left to the model)
        lo, hi = w.local_overlap
        gate = min(1.0, max(0.0, (max(overlap.values()) - lo) / (hi - lo)))
        # (in the text's own language: an English question shares only names and numbers)
        local = scorer.among(list(texts.values())) if w.local and gate and q.lang == "ja" else None
        final = {
            i: float(fused[i])
            + w.sentence * overlap[i]
            + (gate * w.local * local.best_window(text) if local is not None else 0.0)
            for i, text in texts.items()
        }
        order = sorted(final, key=lambda i: -final[i])[:k]
        result.hits = [
            Hit(
                kb.chunks[i],
                final[i],
                self.coverage(q.key_terms, weights, kb.normalized_text(i)),
                None if sims is None else float(sims[i]),
                kb.normalized_text(i),
            )
            for i in order
        ]
        return result

    def similarities(self, q: PreparedQuery) -> FloatArray | None:
        """Cosine similarity of the question to every chunk, or None without vectors."""
        return self._similarities(self._embed(q))

    def _embed(self, q: PreparedQuery) -> FloatArray | None:
        if self.embedder is None or self.kb.vectors() is None:
            return None
        try:
            return np.asarray(self.embedder.embed_query(q.vector_text), dtype=np.float32)
        except Exception:
            log.warning("embedding the question failed; lexical ranking only")
            return None

    def _similarities(self, qv: FloatArray | None) -> FloatArray | None:
        vectors = self.kb.vectors()
        if qv is None or vectors is None:
            return None
        sims: FloatArray = vectors @ qv
        return sims

    # -- how much of the question a text covers
    def key_term_weights(self, terms: list[KeyTerm]) -> list[float]:
        words = self.kb.lexical.words
        out = []
        for t in terms:
            w = min(_term_idf(words, alt, t.specific) for alt in t.alternatives)
            w *= 1.0 if t.specific or t.from_glossary or has_japanese(t.text) else FOREIGN_WEIGHT
            seen = any(words.term_idf(tok) is not None for tok in (word_tokens(t.text) or [t.text]))
            if seen and not t.from_glossary and not t.specific:
                # a word the knowledge base uses once or twice (ドラフト) is rare, not the subject:
                # it may not outweigh the question's other words on its own
                w = min(w, RARE_WORD_CAP)
            out.append(w)
        return out

    def absent_terms(self, terms: list[KeyTerm]) -> list[bool]:
        """Key terms that no chunk contains: the question's subject is not something the
        knowledge base talks about. A glossary concept counts when none of its forms occurs (a
        word the glossary knows only to tell it apart, such as 下請法); an English word counts
        only when it names something (GDPR), as the question's language is not its subject."""
        words = self.kb.lexical.words

        def unseen(text: str) -> bool:
            return any(words.term_idf(tok) is None for tok in (word_tokens(text) or [text]))

        def concept_unseen(t: KeyTerm) -> bool:
            # a concept is named by whole phrases (一般データ保護規則 is no mention of 規則)
            return not any(alt in self.kb.full_text for alt in t.alternatives)

        return [
            (t.specific or t.from_glossary or has_japanese(t.text))
            and len(t.text) >= 2
            and (concept_unseen(t) if t.from_glossary else all(unseen(a) for a in t.alternatives))
            for t in terms
        ]

    def unknown_laws(self, q: PreparedQuery) -> list[str]:
        """Laws named in the question proper that no chunk mentions and no glossary concept
        names (a law the glossary knows only to tell it apart, 下請法, counts as an absent key
        term instead)."""
        known = {c.matched for c in q.concepts}
        return [
            name
            for name in law_names(q.core or q.asked or q.text)
            if name not in known and name not in self.kb.full_text
        ]

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


# An English word of an English question that the glossary does not translate can only be found
# in the Japanese text by meaning (the model's part): it counts half as a key term (measured with
# `itaku bench kb`: 0.5 answered three more English questions and refused as many; 0.3 did not).
FOREIGN_WEIGHT = 0.5
# the largest weight of an ordinary word the knowledge base does use (idf; the rarest words reach
# about 5.6): measured with `itaku bench kb`, 4 changed nothing on the tuned sets and answered
# one more question of the untouched held-out set
RARE_WORD_CAP = 4.0
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


@lru_cache(maxsize=20_000)
def _text_terms(text: str) -> frozenset[str]:
    return frozenset().union(*(t for _, t in sentence_features(text)))


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
        self.terms = frozenset(weights)
        self.total = sum(weights.values()) or 1.0

    def score_tokens(self, present: frozenset[str]) -> float:
        # the intersection is taken in C: most of a question's cost is this, for every sentence
        # of every candidate
        weights = self.weights
        return sum(weights[t] for t in self.terms.intersection(present)) / self.total

    def best_in(self, text: str) -> float:
        return max((self.score_tokens(toks) for _, toks in sentence_features(text)), default=0.0)

    def among(self, texts: list[str]) -> SentenceScorer:
        """This scorer with each n-gram's weight scaled by its rarity among `texts` (the
        candidates): an n-gram every candidate holds tells none of them apart."""
        held = [_text_terms(x) for x in texts]
        n = len(held)
        local = copy.copy(self)
        local.weights = {
            term: weight * math.log(1 + n / (1 + sum(term in h for h in held)))
            for term, weight in self.weights.items()
        }
        local.total = sum(local.weights.values()) or 1.0
        return local

    def best_window(self, text: str) -> float:
        """The best score of two consecutive sentences (an answer and the sentence that names
        its subject)."""
        held = [self.terms.intersection(toks) for _, toks in sentence_features(text)]
        weights, best = self.weights, 0.0
        for j, terms in enumerate(held):
            if j + 1 < len(held):
                terms = terms | held[j + 1]
            best = max(best, sum(weights[t] for t in terms))
        return best / self.total
