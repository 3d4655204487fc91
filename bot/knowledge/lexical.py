"""A compact BM25 index in NumPy (no SciPy: importing it would cost ~0.5 s of cold start).

Postings are stored term-major (CSR): for term t, ``doc_ids[indptr[t]:indptr[t+1]]`` are the
chunks that contain it and ``weights[...]`` their precomputed BM25 term weights (idf included),
so a query is one concatenation and one ``np.bincount``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
MIN_IDF = 0.2  # idf of a term found in about 82% of documents


class BM25Index:
    def __init__(
        self,
        vocab: dict[str, int],
        indptr: npt.NDArray[np.int64],
        doc_ids: npt.NDArray[np.int32],
        weights: FloatArray,
        idf: FloatArray,
        n_docs: int,
    ) -> None:
        self.vocab = vocab
        self.indptr = indptr
        self.doc_ids = doc_ids
        self.weights = weights
        self.idf = idf
        self.n_docs = n_docs
        self.max_idf = float(np.log(1 + (n_docs + 0.5) / 0.5)) if n_docs else 0.0

    @classmethod
    def build(cls, docs: Iterable[Sequence[str]], k1: float = 0.9, b: float = 0.4) -> BM25Index:
        """Build from tokenised documents. k1/b were tuned on JSQuAD (see README)."""
        vocab: dict[str, int] = {}
        term_col: list[int] = []
        doc_col: list[int] = []
        tf_col: list[int] = []
        lengths: list[int] = []
        for j, tokens in enumerate(docs):
            lengths.append(len(tokens))
            for term, tf in Counter(tokens).items():
                term_col.append(vocab.setdefault(term, len(vocab)))
                doc_col.append(j)
                tf_col.append(tf)
        n_docs = len(lengths)
        n_terms = len(vocab)
        terms = np.asarray(term_col, dtype=np.int64)
        dids = np.asarray(doc_col, dtype=np.int32)
        tfs = np.asarray(tf_col, dtype=np.float32)
        dl = np.asarray(lengths, dtype=np.float32)
        avg = float(dl.mean()) if n_docs and dl.mean() > 0 else 1.0
        df = np.bincount(terms, minlength=n_terms).astype(np.float32)
        idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        w = (
            tfs * (k1 + 1) / (tfs + k1 * (1 - b + b * dl[dids] / avg)) * idf[terms]
            if n_docs
            else tfs
        )
        order = np.argsort(terms, kind="stable")
        indptr = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(df.astype(np.int64), out=indptr[1:])
        return cls(vocab, indptr, dids[order], w[order].astype(np.float32), idf, n_docs)

    def scores(self, weighted_terms: Iterable[tuple[str, float]]) -> FloatArray:
        """BM25 score of every document for a query given as (term, weight) pairs."""
        agg: dict[int, float] = {}
        for term, weight in weighted_terms:
            tid = self.vocab.get(term)
            # A term in nearly every document (の, は) has idf ~0 and cannot change the ranking,
            # but its posting list is the longest: skipping it keeps large indexes fast.
            if tid is not None and self.idf[tid] >= MIN_IDF:
                agg[tid] = max(agg.get(tid, 0.0), weight)
        if not agg or self.n_docs == 0:
            return np.zeros(self.n_docs, dtype=np.float32)
        slices = [(self.indptr[t], self.indptr[t + 1], w) for t, w in agg.items()]
        ids = np.concatenate([self.doc_ids[s:e] for s, e, _ in slices])
        ws = np.concatenate([self.weights[s:e] * np.float32(w) for s, e, w in slices])
        return np.bincount(ids, weights=ws, minlength=self.n_docs).astype(np.float32)

    def term_idf(self, term: str) -> float | None:
        tid = self.vocab.get(term)
        return None if tid is None else float(self.idf[tid])

    # -- persistence: plain arrays and a JSON vocabulary (no pickle: the file is data, not code)
    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        terms = sorted(self.vocab, key=self.vocab.__getitem__)
        with open(path, "wb") as fh:
            np.savez(
                fh,
                indptr=self.indptr,
                doc_ids=self.doc_ids,
                weights=self.weights,
                idf=self.idf,
                n_docs=np.asarray([self.n_docs]),
                vocab=np.frombuffer(
                    json.dumps(terms, ensure_ascii=False).encode("utf-8"), dtype=np.uint8
                ),
            )

    @classmethod
    def load(cls, path: Path) -> BM25Index:
        with np.load(path, allow_pickle=False) as data:
            terms = json.loads(data["vocab"].tobytes().decode("utf-8"))
            return cls(
                {t: i for i, t in enumerate(terms)},
                data["indptr"],
                data["doc_ids"],
                data["weights"],
                data["idf"],
                int(data["n_docs"][0]),
            )
