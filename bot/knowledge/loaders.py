"""Read files into LoadedDocument: Markdown (with front matter), text, PDF, Word (.docx), HTML.

Every failure becomes a LoadError naming the file and what is wrong with it, so the indexer can
skip that file and go on with the rest."""

from __future__ import annotations

import datetime as dt
import errno
import io
import os
import re
from collections.abc import Callable
from pathlib import Path

import yaml
from pydantic import ValidationError

from bot.knowledge.models import Block, DocMeta, LoadedDocument, SourceRef
from bot.knowledge.text import strip_control

MAX_FILE_BYTES = 50 * 1024 * 1024
SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".pdf", ".docx", ".html", ".htm")

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_LIST_MARK = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
LIST_ITEM = "・"
_FENCE = re.compile(r"^\s*(```|~~~)")


class LoadError(Exception):
    """A file that cannot be indexed; the message says why, in terms a curator can act on."""


class _Sections:
    """Collects lines under the current heading path; every format's loader feeds it."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self._path: list[tuple[int, str]] = []
        self._lines: list[str] = []

    @property
    def empty(self) -> bool:
        return not self.blocks and not self._path and not self._lines

    def heading(self, level: int, title: str) -> None:
        self._flush()
        while self._path and self._path[-1][0] >= level:
            self._path.pop()
        self._path.append((level, title))

    def line(self, text: str) -> None:
        self._lines.append(text)

    def done(self) -> list[Block]:
        self._flush()
        return self.blocks

    def _flush(self) -> None:
        text = "\n".join(self._lines).strip()
        if text:
            self.blocks.append(Block(tuple(h for _, h in self._path), text))
        self._lines.clear()


def load_file(path: Path, source: str) -> LoadedDocument:
    """Load one file. ``source`` is the stable name shown in citations."""
    suffix = path.suffix.lower()
    loader = _LOADERS.get(suffix)
    if loader is None:
        raise LoadError(f"unsupported file type '{suffix or path.name}'")
    size = path.lstat().st_size
    if size > MAX_FILE_BYTES:
        raise LoadError(f"file is too large ({size:,} bytes; limit {MAX_FILE_BYTES:,})")
    doc = loader(path, source, read_no_follow(path))
    if not any(b.text.strip() for b in doc.blocks):
        raise LoadError("no text could be extracted")
    return doc


def read_no_follow(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The file's bytes, refusing a symbolic link in its last component (O_NOFOLLOW): a file
    swapped for a link after the folder was listed is not read through it."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise LoadError("is a symbolic link; links are not followed") from None
        raise LoadError(f"cannot be read ({exc.strerror or exc})") from None
    with os.fdopen(fd, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise LoadError(f"file is too large (limit {limit:,} bytes)")
    return data


def _read_text(raw: bytes) -> str:
    if b"\x00" in raw[:8192]:
        raise LoadError("looks like a binary file, not text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(f"not valid UTF-8 (byte {exc.start}); save the file as UTF-8") from None
    return strip_control(text)


def _default_meta(path: Path, title: str | None, source: str) -> DocMeta:
    mtime = dt.date.fromtimestamp(path.lstat().st_mtime)
    return DocMeta(
        title=(title or path.stem).strip() or path.name,
        kind="guidance",
        tags=[],
        sources=[SourceRef(title=path.name, note=f"file {source}")],
        as_of=mtime,
    )


def split_front_matter(text: str) -> tuple[dict[str, object] | None, str]:
    """Return (front matter mapping or None, body). Raises LoadError on broken front matter."""
    if not text.startswith("---"):
        return None, text
    lines = text.split("\n")
    if lines[0].strip() != "---":
        return None, text
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            try:
                data = yaml.safe_load("\n".join(lines[1:i]))
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                where = f" at line {mark.line + 2}" if mark is not None else ""
                raise LoadError(f"front matter is not valid YAML{where}") from None
            if not isinstance(data, dict):
                raise LoadError("front matter must be a mapping of keys to values")
            return data, "\n".join(lines[i + 1 :])
    raise LoadError("front matter starts with '---' but is never closed")


def _meta_from(data: dict[str, object]) -> DocMeta:
    try:
        return DocMeta.model_validate({**data, "curated": True})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'front matter'}: {err['msg']}"
            for err in exc.errors()[:5]
        )
        raise LoadError(f"front matter is invalid ({problems})") from None


def _load_markdown(path: Path, source: str, raw: bytes) -> LoadedDocument:
    data, body = split_front_matter(_read_text(raw))
    blocks, first_h1 = markdown_blocks(body)
    meta = _meta_from(data) if data is not None else _default_meta(path, first_h1, source)
    headings = {h for b in blocks for h in b.heading_path}
    unknown = [h for h in meta.questions if h not in headings]
    if unknown:
        raise LoadError(
            f"front matter `questions` names a heading the document does not have: {unknown[0]!r}"
        )
    return LoadedDocument(source=source, meta=meta, blocks=blocks)


def markdown_blocks(body: str) -> tuple[list[Block], str | None]:
    """Split Markdown into blocks by heading. The first H1 is taken as the document title and
    not repeated in heading paths."""
    sections = _Sections()
    first_h1: str | None = None
    in_fence = False
    for raw in body.split("\n"):
        if _FENCE.match(raw):
            in_fence = not in_fence
            continue
        m = None if in_fence else _HEADING.match(raw)
        if m:
            level, title = len(m.group(1)), m.group(2).strip()
            if level == 1 and first_h1 is None and sections.empty:
                first_h1 = title
                continue
            sections.heading(level, title)
            continue
        # A list item keeps a mark of its own, so an answer can show a list as a list.
        line = _LIST_MARK.sub(LIST_ITEM, raw).strip() if _LIST_MARK.match(raw) else raw.strip()
        if line.startswith("|") and line.endswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if all(set(c) <= set("-: ") for c in cells):
                continue
            line = "　".join(c for c in cells if c)
        sections.line(line.lstrip("> ").strip())
    return sections.done(), first_h1


def _load_text(path: Path, source: str, raw: bytes) -> LoadedDocument:
    text = _read_text(raw)
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), None)
    title = first[:60] if first else None
    return LoadedDocument(
        source=source, meta=_default_meta(path, title, source), blocks=[Block((), text)]
    )


def _load_pdf(path: Path, source: str, raw: bytes) -> LoadedDocument:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            raise LoadError("PDF is encrypted; save an unprotected copy")
        title = None
        if reader.metadata is not None and reader.metadata.title:
            title = str(reader.metadata.title)
        blocks = []
        for n, page in enumerate(reader.pages, start=1):
            text = strip_control(page.extract_text() or "")
            if text.strip():
                blocks.append(Block((f"p.{n}",), text))
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise LoadError(f"PDF cannot be read ({type(exc).__name__})") from None
    return LoadedDocument(source=source, meta=_default_meta(path, title, source), blocks=blocks)


def _load_docx(path: Path, source: str, raw: bytes) -> LoadedDocument:
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(raw))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise LoadError(
            f"Word file cannot be read ({type(exc).__name__}); is it a real .docx?"
        ) from None
    title = document.core_properties.title or None
    sections = _Sections()
    for para in document.paragraphs:
        text = strip_control(para.text).strip()
        if not text:
            continue
        style = (para.style.name if para.style is not None else "") or ""
        if style == "Title":
            title = title or text
            continue
        if style.startswith("Heading"):
            try:
                level = int(style.split()[-1])
            except ValueError:
                level = 1
            sections.heading(level, text)
            continue
        sections.line(text)
    blocks = sections.done()
    for table in document.tables:
        rows = [
            "　".join(c.text.strip() for c in row.cells if c.text.strip()) for row in table.rows
        ]
        text = "\n".join(r for r in rows if r)
        if text:
            blocks.append(Block(("表",), text))
    return LoadedDocument(source=source, meta=_default_meta(path, title, source), blocks=blocks)


def _load_html(path: Path, source: str, raw: bytes) -> LoadedDocument:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_read_text(raw), "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "footer", "header"]):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else None
    sections = _Sections()
    root = soup.body or soup
    for el in root.find_all(
        ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "td", "th", "pre", "blockquote"]
    ):
        text = strip_control(el.get_text(" ", strip=True))
        if not text:
            continue
        if el.name and el.name[0] == "h" and el.name[1:].isdigit():
            level = int(el.name[1:])
            if level == 1 and title is None:
                title = text
            sections.heading(level, text)
            continue
        if el.find_parent(["li", "td", "th", "blockquote"]) is not None and el.name in ("p", "li"):
            continue  # nested: its text came with the parent
        sections.line(text)
    return LoadedDocument(
        source=source, meta=_default_meta(path, title, source), blocks=sections.done()
    )


_LOADERS: dict[str, Callable[[Path, str, bytes], LoadedDocument]] = {
    ".md": _load_markdown,
    ".markdown": _load_markdown,
    ".txt": _load_text,
    ".pdf": _load_pdf,
    ".docx": _load_docx,
    ".html": _load_html,
    ".htm": _load_html,
}
