"""Drafts as Word files (.docx): A4, Mincho for Japanese text and Century for Latin text on the
document defaults, the Normal style and every run; the title centred and bold, the review notice
in a box, bold headings, justified paragraphs. The NDA adds article numbers and signature lines
(`to_docx`); any other draft is a title, a notice and headed sections (`sections_to_docx`)."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import docx
from docx.document import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Length, Mm, Pt
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from bot.drafting.nda import NdaDraft

FONT_EAST_ASIA = "MS 明朝"
FONT_LATIN = "Century"
FONT_SIZE = Pt(10.5)
TITLE_SIZE = Pt(16)
AUTHOR = "Itaku"
_ITEM = re.compile(r"^（[０-９0-9]+）")
_PARAGRAPH_NO = re.compile(r"^[０-９0-9]+　")
# Elements that must follow w:pBdr inside w:pPr (ECMA-376 order).
_AFTER_PBDR = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:spacing", "w:ind", "w:jc")


@dataclass(frozen=True)
class Section:
    """A bold heading and its paragraphs (plain text)."""

    heading: str
    paragraphs: tuple[str, ...]


def to_docx(draft: NdaDraft) -> bytes:
    """Render the draft; the bytes are a complete .docx file."""
    document = _start(draft.title, draft.notice)
    _text(document, draft.preamble)
    for article in draft.articles:
        _heading(document, f"第{article.number}条（{article.heading}）")
        for text in article.paragraphs:
            _text(document, text)
    _closing(document, draft.closing)
    return _save(document)


def sections_to_docx(
    title: str, notice: str, sections: Sequence[Section], preamble: Sequence[str] = ()
) -> bytes:
    """A draft other than the NDA: title, boxed notice, preamble paragraphs, then each section's
    heading and paragraphs. The bytes are a complete .docx file."""
    document = _start(title, notice)
    for text in preamble:
        _text(document, text)
    for section in sections:
        _heading(document, section.heading)
        for text in section.paragraphs:
            _text(document, text)
    return _save(document)


def _start(title: str, notice: str) -> Document:
    document = docx.Document()
    _page(document)
    _fonts(document)
    _properties(document, title)
    _title(document, title)
    _notice(document, notice)
    return document


def _heading(document: Document, text: str) -> None:
    heading = _paragraph(document, text, bold=True)
    heading.paragraph_format.space_before = Pt(8)
    heading.paragraph_format.keep_with_next = True


def _save(document: Document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _page(document: Document) -> None:
    for section in document.sections:
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin = section.bottom_margin = Mm(25)
        section.left_margin = section.right_margin = Mm(25)


def _fonts(document: Document) -> None:
    """Explicit fonts on the document defaults and the Normal style (no theme fonts, which
    would win over them), and Japanese as the East Asian language."""
    defaults = document.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        r_pr = defaults.find(qn("w:rPrDefault") + "/" + qn("w:rPr"))
        if r_pr is not None:
            _set_fonts(r_pr)
    normal = document.styles["Normal"]
    normal.font.size = FONT_SIZE
    _set_fonts(normal.element.get_or_add_rPr())
    normal.paragraph_format.space_after = Pt(2)
    normal.paragraph_format.line_spacing = 1.2


def _set_fonts(r_pr: Any) -> None:
    fonts = r_pr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        r_pr.insert(0, fonts)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)
    fonts.set(qn("w:ascii"), FONT_LATIN)
    fonts.set(qn("w:hAnsi"), FONT_LATIN)
    fonts.set(qn("w:eastAsia"), FONT_EAST_ASIA)
    lang = r_pr.find(qn("w:lang"))
    if lang is not None:
        lang.set(qn("w:eastAsia"), "ja-JP")


def _properties(document: Document, title: str) -> None:
    """Title and author only: no party names or other answers in the file's metadata."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None)
    props = document.core_properties
    props.title = title
    props.author = AUTHOR
    props.last_modified_by = AUTHOR
    props.comments = ""
    props.subject = ""
    props.keywords = ""
    props.category = ""
    props.created = props.modified = now
    props.revision = 1


def _paragraph(
    document: Document, text: str, *, bold: bool = False, size: Length | None = None
) -> Paragraph:
    paragraph = document.add_paragraph()
    _run(paragraph, text, bold=bold, size=size)
    return paragraph


def _run(paragraph: Paragraph, text: str, *, bold: bool = False, size: Length | None = None) -> Run:
    run = paragraph.add_run(text)
    run.bold = True if bold else None
    run.font.name = FONT_LATIN  # sets w:ascii and w:hAnsi
    run.font.size = size or FONT_SIZE
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT_EAST_ASIA)
    return run


def _title(document: Document, title: str) -> None:
    paragraph = _paragraph(document, title, bold=True, size=TITLE_SIZE)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.space_after = Pt(12)


def _notice(document: Document, notice: str) -> None:
    paragraph = document.add_paragraph()
    _box(paragraph)
    _run(paragraph, notice, size=Pt(9))
    paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    paragraph.paragraph_format.space_after = Pt(12)


def _box(paragraph: Paragraph) -> None:
    borders = OxmlElement("w:pBdr")
    for side in ("top", "left", "bottom", "right"):
        line = OxmlElement(f"w:{side}")
        line.set(qn("w:val"), "single")
        line.set(qn("w:sz"), "6")
        line.set(qn("w:space"), "4")
        line.set(qn("w:color"), "auto")
        borders.append(line)
    paragraph._p.get_or_add_pPr().insert_element_before(borders, *_AFTER_PBDR)


def _text(document: Document, text: str) -> None:
    """A paragraph of contract text: justified; items (（１）…) indented, numbered paragraphs
    with a hanging indent so that the text lines up after the number."""
    paragraph = _paragraph(document, text)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    fmt = paragraph.paragraph_format
    if _ITEM.match(text):
        fmt.left_indent = Length(FONT_SIZE * 3)
        fmt.first_line_indent = Length(-FONT_SIZE * 2)
    elif _PARAGRAPH_NO.match(text):
        fmt.left_indent = FONT_SIZE
        fmt.first_line_indent = Length(-FONT_SIZE)


def _closing(document: Document, lines: tuple[str, ...]) -> None:
    """The 本契約締結の証として… sentence, then the date and signature lines, set to the right."""
    for index, line in enumerate(lines):
        paragraph = _paragraph(document, line)
        if index == 0:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
            paragraph.paragraph_format.space_before = Pt(12)
            paragraph.paragraph_format.space_after = Pt(12)
        else:
            paragraph.paragraph_format.left_indent = Mm(70)
