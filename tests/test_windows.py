"""Sentence windows (`bot.knowledge.windows`): which chunks get them, how a chunk is scored by
its best one, and an index of files as found carrying them beside its vectors (through the
bundled model; none for documents written for Itaku, nor with another embedder)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from bot.bench import shared_embedding_cache
from bot.knowledge.embeddings import CachedEmbedder, E5Embedder, HashingEmbedder
from bot.knowledge.index_store import WINDOW_OWNER_FILE, WINDOWS_FILE, IndexLayout
from bot.knowledge.indexer import run_index
from bot.knowledge.models import Chunk
from bot.knowledge.search import KnowledgeBase
from bot.knowledge.vectorstore import VectorStore, open_client
from bot.knowledge.windows import best_window, window_texts, windows_of


def _chunk(text: str, source: str = "a.txt", i: int = 0) -> Chunk:
    return Chunk(f"{source}#{i}", source, "題", "節", text, i)


def test_a_chunk_of_three_sentences_or_more_has_a_window_for_each_pair() -> None:
    assert window_texts(_chunk("一文目。二文目。三文目。")) == [
        "題\n節\n一文目。二文目。",
        "題\n節\n二文目。三文目。",
    ]
    # a short chunk is its own window
    assert window_texts(_chunk("一文目。二文目。")) == []


def test_documents_written_for_itaku_have_no_windows() -> None:
    chunks = [
        _chunk("一。二。三。", "raw.txt", 0),
        _chunk("一。二。三。四。", "kb.md", 1),
        _chunk("一。二。三。", "raw.txt", 2),
    ]
    texts, owner = windows_of(chunks, written={"kb.md"})
    assert len(texts) == 4 and owner.tolist() == [0, 0, 2, 2]


def test_a_chunk_is_scored_by_its_best_window_or_by_itself_without_one() -> None:
    chunk_sims = np.array([0.5, 0.6, 0.7], dtype=np.float32)
    window_sims = np.array([0.4, 0.9, 0.3, 0.65], dtype=np.float32)
    owner = np.array([0, 0, 2, 2])
    assert best_window(chunk_sims, window_sims, owner).tolist() == pytest.approx([0.9, 0.6, 0.65])
    assert best_window(chunk_sims, window_sims[:0], owner[:0]).tolist() == pytest.approx(
        chunk_sims.tolist()
    )


def _files(root: Path) -> Path:
    root.mkdir()
    (root / "notes.txt").write_text(
        "委託先の管理について\n委託先は年に一度監査する。監査では記録媒体の保管を確かめる。"
        "結果は役員に報告する。次の契約更新で見直す。\n",
        encoding="utf-8",
    )
    (root / "written.md").write_text(
        "---\ntitle: 書いた文書\nkind: guidance\nsources:\n  - title: 例\nas_of: 2026-01-01\n---\n"
        "# 書いた文書\n\n## 監査\n\n委託元は監査する。監査は年一回。結果を記録する。\n",
        encoding="utf-8",
    )
    return root


def test_an_index_of_files_as_found_carries_their_windows(tmp_path: Path) -> None:
    root = _files(tmp_path / "kb")
    data = tmp_path / "data"
    embedder = CachedEmbedder(E5Embedder(), shared_embedding_cache())
    report = run_index([root], data, embedder, VectorStore(open_client(data, None)))
    folder = IndexLayout(data).gen_dir(report.generation)
    kb = KnowledgeBase.open(data)
    windows = kb.windows()
    assert windows is not None
    matrix, owner = windows
    # the text file's chunk has a window for each pair of its sentences; the written one none
    [notes] = [c for c in kb.chunks if c.source.endswith("notes.txt")]
    assert len(window_texts(notes)) >= 3 and matrix.shape == (len(window_texts(notes)), 384)
    assert {kb.chunks[i].source for i in owner.tolist()} == {notes.source}
    # a damaged windows file says so once, and the chunks' own vectors still serve
    (folder / WINDOWS_FILE).write_bytes(b"not numpy")
    damaged = KnowledgeBase.open(data)
    assert damaged.windows() is None and damaged.vectors() is not None
    assert (folder / WINDOW_OWNER_FILE).is_file()


def test_another_embedder_embeds_no_windows(tmp_path: Path) -> None:
    root = _files(tmp_path / "kb")
    data = tmp_path / "data"
    report = run_index([root], data, HashingEmbedder(), VectorStore(open_client(data, None)))
    assert not (IndexLayout(data).gen_dir(report.generation) / WINDOWS_FILE).exists()
    assert KnowledgeBase.open(data).windows() is None


def test_a_damaged_windows_file_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = _files(tmp_path / "kb")
    data = tmp_path / "data"
    embedder = CachedEmbedder(E5Embedder(), shared_embedding_cache())
    report = run_index([root], data, embedder, VectorStore(open_client(data, None)))
    folder = IndexLayout(data).gen_dir(report.generation)
    np.save(folder / WINDOW_OWNER_FILE, np.array([0, 0, 99]))  # a chunk that is not there
    with caplog.at_level(logging.WARNING):
        assert KnowledgeBase.open(data).windows() is None
    assert "sentence windows" in caplog.text
