from pathlib import Path

import docx
import pytest

from bot.knowledge.loaders import LoadError, load_file
from tests.conftest import write_doc


def _pdf_with_text(text: str) -> bytes:
    """A minimal one-page PDF with a text line (Helvetica, ASCII), offsets computed exactly."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def test_markdown_with_front_matter(tmp_path: Path) -> None:
    path = write_doc(
        tmp_path, "a.md", "再委託", "# 再委託\n## 承認\n事前に承認を得る。\n", kind="law"
    )
    doc = load_file(path, "kb/a.md")
    assert doc.meta.title == "再委託" and doc.meta.kind == "law"
    assert doc.meta.sources[0].url == "https://example.org/source"
    assert doc.blocks[0].heading_path == ("承認",)


def test_markdown_without_front_matter_gets_defaults(tmp_path: Path) -> None:
    path = tmp_path / "note.md"
    path.write_text("# 社内メモ\n委託先を確認する。\n", encoding="utf-8")
    doc = load_file(path, "note.md")
    assert doc.meta.title == "社内メモ" and doc.meta.kind == "guidance"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("---\ntitle: [unclosed\n---\n本文。", "not valid YAML"),
        ("---\ntitle: x\n本文。", "never closed"),
        (
            "---\ntitle: x\nkind: memo\nsources: [{title: s}]\nas_of: 2026-01-01\n---\n本文。",
            "kind",
        ),
        ("---\ntitle: x\nkind: law\nas_of: 2026-01-01\n---\n本文。", "sources"),
        ("---\n- a list\n---\n本文。", "mapping"),
    ],
)
def test_broken_front_matter_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.md"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LoadError, match=message):
        load_file(path, "bad.md")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("x.txt", b"\x00\x01\x02binary", "binary"),
        ("y.md", "委託先の管理".encode("shift_jis"), "UTF-8"),
        ("e.txt", b"  \n", "no text"),
        ("a.xlsx", b"PK", "unsupported"),
        ("b.pdf", b"%PDF-1.4\n garbage without objects", "PDF"),
        ("b.docx", b"not a zip", "Word"),
    ],
)
def test_unreadable_files_are_clear_errors(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LoadError, match=message):
        load_file(path, name)


def test_pdf_text(tmp_path: Path) -> None:
    good = tmp_path / "g.pdf"
    good.write_bytes(_pdf_with_text("Contractors must return all media."))
    doc = load_file(good, "g.pdf")
    assert "return all media" in doc.blocks[0].text
    assert doc.blocks[0].heading_path == ("p.1",)


def test_docx_headings(tmp_path: Path) -> None:
    d = docx.Document()
    d.add_heading("委託契約の手引き", level=0)
    d.add_heading("廃棄", level=1)
    d.add_paragraph("記録媒体は物理的に破壊する。")
    path = tmp_path / "a.docx"
    d.save(str(path))
    doc = load_file(path, "a.docx")
    assert doc.meta.title == "委託契約の手引き"
    assert doc.blocks[0].heading_path == ("廃棄",)
    assert "物理的に破壊" in doc.blocks[0].text


def test_html_sections_without_scripts(tmp_path: Path) -> None:
    path = tmp_path / "a.html"
    path.write_text(
        "<html><head><title>監査の手引き</title><script>alert('x')</script></head><body>"
        "<h2>立入調査</h2><p>年に1回、立入調査を行う。</p><ul><li>報告書を求める。</li></ul></body></html>",
        encoding="utf-8",
    )
    doc = load_file(path, "a.html")
    assert doc.meta.title == "監査の手引き"
    assert doc.blocks[0].heading_path == ("立入調査",)
    assert "報告書を求める。" in doc.blocks[0].text and "alert" not in doc.blocks[0].text
