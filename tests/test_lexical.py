from pathlib import Path

import numpy as np

from bot.knowledge.lexical import BM25Index


def test_bm25_ranks_rarer_term_matches_higher() -> None:
    idx = BM25Index.build([["再委託", "承認"], ["承認", "承認", "契約"], ["監査"]])
    scores = idx.scores([("再委託", 1.0), ("承認", 1.0)])
    assert scores.argmax() == 0
    assert scores[2] == 0
    assert idx.term_idf("再委託") > idx.term_idf("承認")  # type: ignore[operator]


def test_query_weights_scale_scores() -> None:
    idx = BM25Index.build([["a"], ["b"]])
    full = idx.scores([("a", 1.0)])[0]
    half = idx.scores([("a", 0.5)])[0]
    assert np.isclose(half, full / 2)


def test_unknown_terms_and_empty_index() -> None:
    idx = BM25Index.build([["a"]])
    assert idx.scores([("zzz", 1.0)]).tolist() == [0.0]
    empty = BM25Index.build([])
    assert empty.scores([("a", 1.0)]).size == 0


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    idx = BM25Index.build([["漏えい", "報告"], ["報告"], ["施錠"]])
    idx.save(tmp_path / "x.npz")
    loaded = BM25Index.load(tmp_path / "x.npz")
    q = [("漏えい", 1.0), ("報告", 1.0)]
    assert np.allclose(idx.scores(q), loaded.scores(q))
    assert loaded.vocab == idx.vocab
