from bot.knowledge.chunking import HARD_MAX_CHARS, chunk_document, pack_sentences
from bot.knowledge.loaders import markdown_blocks
from bot.knowledge.models import Block, DocMeta, LoadedDocument, SourceRef
from bot.knowledge.text import split_sentences

META = DocMeta(title="T", kind="guidance", sources=[SourceRef(title="s")], as_of="2026-11-01")  # type: ignore[arg-type]


def test_chunks_never_cut_sentences_and_respect_size() -> None:
    sentences = [f"これは{i}番目の文で、委託先の管理について説明している。" for i in range(40)]
    pieces = pack_sentences(sentences, max_chars=120)
    assert len(pieces) > 5
    rejoined = [s for p in pieces for s in split_sentences(p)]
    assert rejoined == sentences  # every sentence whole, in order
    assert all(len(p.replace("\n", "")) <= 120 for p in pieces)


def test_overlong_sentence_is_cut_only_at_clause_boundaries() -> None:
    clause = "委託先は記録媒体を施錠して保管し、"
    sentence = clause * (HARD_MAX_CHARS // len(clause) + 20) + "管理者を決める。"
    pieces = pack_sentences([sentence], max_chars=400)
    assert len(pieces) >= 2
    assert all(len(p) <= HARD_MAX_CHARS for p in pieces)
    assert all(p.endswith(("、", "。")) for p in pieces)
    assert "".join(pieces) == sentence


def test_chunks_keep_heading_path_and_do_not_cross_headings() -> None:
    body = (
        "# 文書\n## 契約\n### 廃棄\n書類はシュレッダーで裁断する。\n## 監査\n定期的に監査する。\n"
    )
    blocks, title = markdown_blocks(body)
    assert title == "文書"
    doc = LoadedDocument(source="kb/a.md", meta=META, blocks=blocks)
    chunks = chunk_document(doc)
    assert [(c.section, c.text) for c in chunks] == [
        ("契約 > 廃棄", "書類はシュレッダーで裁断する。"),
        ("監査", "定期的に監査する。"),
    ]
    assert len({c.id for c in chunks}) == 2


def test_markdown_lists_tables_and_code_fences() -> None:
    body = "## 表\n| 項目 | 内容 |\n|---|---|\n| 期限 | 30日 |\n- 箇条書き。\n```\n# not a heading\n```\n"
    blocks, _ = markdown_blocks(body)
    text = blocks[0].text
    assert "期限　30日" in text and "箇条書き。" in text and "|" not in text
    assert [b.heading_path for b in blocks] == [("表",)]


def test_block_dataclass_is_hashable() -> None:
    assert hash(Block(("a",), "b"))
