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


def test_candidates_are_told_apart_by_the_words_only_some_of_them_hold() -> None:
    from bot.knowledge.glossary import Glossary
    from bot.knowledge.index_store import LexicalIndexes
    from bot.knowledge.models import Chunk
    from bot.knowledge.query import prepare_query
    from bot.knowledge.search import SentenceScorer, sentence_features

    texts = [
        "梅雨は初夏の雨の多い時期である。梅雨明けは7月頃に発表される。",
        "梅雨は東アジアの現象である。北海道には梅雨がない。",
        "台風は夏から秋に多い。",
    ]
    chunks = [Chunk(f"c{i}", "a.md", "梅雨", "", t, i) for i, t in enumerate(texts)]
    lexical = LexicalIndexes.build(chunks)
    q = prepare_query("梅雨がないのはどこか。北海道？", Glossary([]))
    scorer = SentenceScorer(q, lexical)
    local = scorer.among(texts[:2])
    # 梅雨 is in both candidates: it weighs less among them than 北海道, which one holds
    assert (
        local.weights["梅雨"] / scorer.weights["梅雨"]
        < local.weights["北海"] / scorer.weights["北海"]
    )
    assert local.best_window(texts[1]) > local.best_window(texts[0])
    # two consecutive sentences count together
    singles = [local.score_tokens(t) for _, t in sentence_features(texts[1])]
    assert local.best_window(texts[1]) > max(singles)
