import json
from pathlib import Path

import pytest

from bot.knowledge.embeddings import HashingEmbedder
from bot.knowledge.index_store import IndexLayout, read_chunks, read_manifest
from bot.knowledge.indexer import IndexBusyError, _exclusive, discover, run_index
from bot.knowledge.vectorstore import VectorStore, collection_name, open_client
from tests.conftest import index_into, write_doc


def _sources(data_dir: Path) -> set[str]:
    layout = IndexLayout(data_dir)
    gen = layout.current_generation()
    assert gen is not None
    return {c.source for c in read_chunks(layout.gen_dir(gen))}


def test_first_index_then_incremental_changes(small_kb: Path, data_dir: Path) -> None:
    first = index_into([small_kb], data_dir)
    assert sorted(first.added) == ["kb/breach.md", "kb/media.md", "kb/subcontract.md"]
    assert first.embedded == first.chunks > 0

    again = index_into([small_kb], data_dir)
    assert not again.changed and again.generation == first.generation and again.embedded == 0

    write_doc(
        small_kb,
        "subcontract.md",
        "再委託のルール",
        "## 承認\n再委託には書面の承認が必要である。\n",
    )
    (small_kb / "media.md").unlink()
    write_doc(small_kb, "new/audit.md", "監査", "## 立入調査\n委託先に年1回立入調査を行う。\n")
    third = index_into([small_kb], data_dir)
    assert third.updated == ["kb/subcontract.md"]
    assert third.removed == ["kb/media.md"]
    assert third.added == ["kb/new/audit.md"]
    assert third.unchanged == ["kb/breach.md"]
    # Only the changed and new files were embedded again.
    assert third.embedded == 2
    assert _sources(data_dir) == {"kb/breach.md", "kb/subcontract.md", "kb/new/audit.md"}
    client = open_client(data_dir, None)
    assert client.get_collection(collection_name(third.generation)).count() == third.chunks  # type: ignore[arg-type]


def test_unreadable_files_are_skipped_with_reasons(small_kb: Path, data_dir: Path) -> None:
    (small_kb / "broken.md").write_text("---\ntitle: [oops\n---\n本文。", encoding="utf-8")
    (small_kb / "binary.txt").write_bytes(b"\x00\x00\x00")
    (small_kb / "corrupt.pdf").write_bytes(b"%PDF-1.4 nothing")
    (small_kb / ".hidden.md").write_text("隠しファイル。", encoding="utf-8")
    report = index_into([small_kb], data_dir)
    skipped = dict(report.skipped)
    assert set(skipped) == {"kb/broken.md", "kb/binary.txt", "kb/corrupt.pdf"}
    assert "YAML" in skipped["kb/broken.md"] and "binary" in skipped["kb/binary.txt"]
    assert len(report.added) == 3  # the good files are indexed


def test_a_file_that_breaks_later_keeps_its_last_good_version(
    small_kb: Path, data_dir: Path
) -> None:
    index_into([small_kb], data_dir)
    (small_kb / "breach.md").write_text("---\nkind: [\n---\n", encoding="utf-8")
    report = index_into([small_kb], data_dir)
    assert report.kept_previous == ["kb/breach.md"]
    assert "kb/breach.md" in _sources(data_dir)


class _FailingEmbedder(HashingEmbedder):
    def embed_documents(self, texts: list[str]):  # type: ignore[no-untyped-def]
        raise RuntimeError("embedding service down")


def test_a_failed_run_leaves_the_previous_index_intact(small_kb: Path, data_dir: Path) -> None:
    first = index_into([small_kb], data_dir)
    write_doc(small_kb, "extra.md", "追加", "## 追加\n新しい文書である。\n")
    with pytest.raises(RuntimeError):
        run_index(
            [small_kb], data_dir, _FailingEmbedder(), VectorStore(open_client(data_dir, None))
        )
    layout = IndexLayout(data_dir)
    assert layout.current_generation() == first.generation
    assert "kb/extra.md" not in _sources(data_dir)
    names = VectorStore(open_client(data_dir, None)).names()
    assert names == [collection_name(first.generation)]  # type: ignore[arg-type]
    # and the next good run succeeds
    assert "kb/extra.md" in index_into([small_kb], data_dir).added


def test_current_pointer_is_atomic_json(small_kb: Path, data_dir: Path) -> None:
    report = index_into([small_kb], data_dir)
    layout = IndexLayout(data_dir)
    assert json.loads(layout.current_file.read_text()) == {"generation": report.generation}
    assert read_manifest(layout.gen_dir(report.generation)).embedder == HashingEmbedder().name  # type: ignore[arg-type]


def test_changing_the_embedder_re_embeds_everything(small_kb: Path, data_dir: Path) -> None:
    first = index_into([small_kb], data_dir)
    report = index_into([small_kb], data_dir, HashingEmbedder(dim=64))
    assert report.embedded == first.chunks and report.generation != first.generation


def test_concurrent_runs_are_refused(small_kb: Path, data_dir: Path) -> None:
    with _exclusive(IndexLayout(data_dir)), pytest.raises(IndexBusyError):
        index_into([small_kb], data_dir)


def test_discover_reports_missing_and_unsupported_paths(tmp_path: Path) -> None:
    (tmp_path / "a.xlsx").write_bytes(b"x")
    files, problems = discover([tmp_path / "missing", tmp_path / "a.xlsx"])
    assert files == []
    assert [p[1] for p in problems] == ["no such file or folder", "unsupported file type '.xlsx'"]


def test_an_index_of_an_older_format_is_rebuilt(small_kb: Path, data_dir: Path) -> None:
    first = index_into([small_kb], data_dir)
    folder = IndexLayout(data_dir).gen_dir(first.generation)  # type: ignore[arg-type]
    manifest = read_manifest(folder)
    (folder / "manifest.json").write_text(
        manifest.model_copy(update={"lexical_version": 1}).model_dump_json()
    )
    again = index_into([small_kb], data_dir)
    assert again.generation != first.generation and len(again.updated) == 3  # every file re-chunked


def test_a_generation_carries_its_vectors_so_answering_needs_no_chroma(
    small_kb: Path, data_dir: Path
) -> None:
    import numpy as np

    from bot.knowledge.embeddings import HashingEmbedder
    from bot.knowledge.glossary import Glossary
    from bot.knowledge.index_store import VECTORS_FILE, IndexLayout
    from bot.knowledge.query import prepare_query
    from bot.knowledge.search import HybridSearcher, KnowledgeBase

    report = index_into([small_kb], data_dir)
    assert KnowledgeBase.has_own_vectors(data_dir)
    kb = KnowledgeBase.open(data_dir)  # no Chroma client at all
    vectors = kb.vectors()
    assert vectors is not None and vectors.shape == (report.chunks, 256)
    searcher = HybridSearcher(kb, HashingEmbedder())
    q = prepare_query("確報の期限は？", Glossary.load(small_kb / "glossary.yaml"))
    assert searcher.run(q).hits[0].similarity is not None
    # a damaged copy: the words still serve
    folder = IndexLayout(data_dir).gen_dir(report.generation or 0)
    np.save(folder / VECTORS_FILE, np.zeros((1, 256), dtype=np.float32))
    kb = KnowledgeBase.open(data_dir)
    hits = HybridSearcher(kb, HashingEmbedder()).run(q).hits
    assert hits and hits[0].similarity is None and kb.vectors() is None


# -- symbolic links (issue 12): nothing outside the knowledge folder is smuggled in ----------------


def test_links_out_of_the_folder_are_refused_and_never_read(tmp_path: Path, data_dir: Path) -> None:
    kb = tmp_path / "kb"
    write_doc(kb, "guide.md", "手引き", "## 監督\n\n委託先の監督について説明する。\n")
    outside = tmp_path / "secrets"
    outside.mkdir()
    (outside / "passwords.md").write_text(
        "# 秘密\n\n管理者パスワードは hunter2 である。\n", "utf-8"
    )
    (kb / "leak.md").symlink_to(outside / "passwords.md")
    (kb / "folder").symlink_to(outside, target_is_directory=True)
    (kb / "inside.md").symlink_to(kb / "guide.md")
    (kb / "dangling.md").symlink_to(tmp_path / "gone.md")
    files, problems = discover([kb])
    assert [s for _, s in files] == ["kb/guide.md"]
    reasons = dict(problems)
    assert "leads out of the knowledge folder" in reasons["kb/leak.md"]
    assert "leads out of the knowledge folder" in reasons["kb/folder"]
    assert "its target is indexed where it lies" in reasons["kb/inside.md"]
    assert "to nothing" in reasons["kb/dangling.md"]
    report = index_into([kb], data_dir)
    assert _sources(data_dir) == {"kb/guide.md"}
    chunks = read_chunks(IndexLayout(data_dir).gen_dir(report.generation))
    assert not any("hunter2" in c.text for c in chunks)


def test_a_file_swapped_for_a_link_after_listing_is_not_read(tmp_path: Path) -> None:
    from bot.knowledge.loaders import LoadError, load_file

    kb = tmp_path / "kb"
    write_doc(kb, "guide.md", "手引き", "## 本文\n\n本文。\n")
    target = tmp_path / "secret.md"
    target.write_text("# 秘密\n\nhunter2\n", encoding="utf-8")
    (kb / "guide.md").unlink()
    (kb / "guide.md").symlink_to(target)
    with pytest.raises(LoadError, match="symbolic link"):
        load_file(kb / "guide.md", "kb/guide.md")
